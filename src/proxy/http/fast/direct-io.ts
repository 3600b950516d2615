// Reads and writes on a connected net.Socket's libuv handle, past Node's stream machinery.
//
// Why: on the fast path a request costs one read and one write on each side. Through the
// Readable/Writable machinery each of those is a push/emit/maybeReadMore tick or a
// Writable + afterWrite tick; measured with callgrind on a bare relay (bench/README.md), going
// to the handle directly cut 32.9k instructions per request to 23.3k. The socket object stays
// the owner of its handle: it is still what closes it, emits 'close' and 'error', and counts in
// its server's connections; only the data moves around it.
//
// What this relies on is Node's internal stream_wrap binding (WriteWrap, streamBaseState), the
// same one net.js uses. It is looked up once; when it is missing or has another shape
// (`DIRECT_IO` false) callers use the socket's streams instead, and HOTSWAP_DIRECT_IO=0 forces
// that (an escape hatch, and how the stream variant is tested).
import type { Socket } from 'node:net';
import { getSystemErrorName } from 'node:util';

export interface WriteReq {
  handle: StreamHandle;
  oncomplete: (this: WriteReq, status: number) => void;
  async: boolean;
  buffer: Uint8Array | string | null;
  writer: DirectWriter;
}

export interface StreamHandle {
  onread: (this: StreamHandle, arrayBuffer: ArrayBuffer) => void;
  /** net.js's own flag: whether the handle is reading (its _read starts it when false). */
  reading: boolean;
  readStart(): number;
  readStop(): number;
  /** Reads land in this buffer from now on; onread gets no ArrayBuffer (absent: not supported). */
  useUserBuffer?(buffer: Uint8Array): void;
  writeBuffer(req: WriteReq, data: Uint8Array): number;
  writeUtf8String(req: WriteReq, data: string): number;
  /** Bytes queued in libuv, not on the wire yet (kept up to date by the binding). */
  readonly writeQueueSize: number;
}

interface StreamWrapBinding {
  WriteWrap: new () => WriteReq;
  /** Absent on some builds: only the TLS handles (tls/tls-client.ts) need it. */
  ShutdownWrap?: new () => ShutdownReq;
  streamBaseState: Int32Array;
  kReadBytesOrError: number;
  kArrayBufferOffset: number;
  kLastWriteWasAsync: number;
}

function loadBinding(): StreamWrapBinding | null {
  if (process.env.HOTSWAP_DIRECT_IO === '0') return null;
  try {
    const binding = (process as unknown as { binding(name: string): unknown }).binding(
      'stream_wrap',
    ) as Partial<StreamWrapBinding>;
    const ok =
      typeof binding.WriteWrap === 'function' &&
      binding.streamBaseState instanceof Int32Array &&
      typeof binding.kReadBytesOrError === 'number' &&
      typeof binding.kArrayBufferOffset === 'number' &&
      typeof binding.kLastWriteWasAsync === 'number';
    return ok ? (binding as StreamWrapBinding) : null;
  } catch {
    return null;
  }
}

const BINDING = loadBinding();
// Read once: the binding object is slow to read properties from on every call.
const STATE = BINDING?.streamBaseState ?? new Int32Array(8);
const K_NREAD = BINDING?.kReadBytesOrError ?? 0;
const K_OFFSET = BINDING?.kArrayBufferOffset ?? 0;
const K_ASYNC = BINDING?.kLastWriteWasAsync ?? 0;
const WriteWrapCtor = BINDING?.WriteWrap;
/** Direct handle I/O is possible in this process. */
export const DIRECT_IO = BINDING !== null;
export const UV_EOF = -4095;

/** A shutdown request of the binding (a FIN after what is written, or TLS's close_notify first). */
export interface ShutdownReq {
  handle: object;
  oncomplete: (this: ShutdownReq, status: number) => void;
}

/**
 * What a TLS handle read and written past net.js needs of the same binding (tls/tls-client.ts):
 * null when direct I/O is off.
 */
export const HANDLE_IO =
  BINDING === null || typeof BINDING.ShutdownWrap !== 'function'
    ? null
    : {
        state: STATE,
        kNread: K_NREAD,
        kAsync: K_ASYNC,
        WriteWrap: BINDING.WriteWrap,
        ShutdownWrap: BINDING.ShutdownWrap,
      };

/**
 * Where every DirectSocket's reads land. A read is handed to its reader before the next one can
 * happen, so one buffer serves all connections, and no ArrayBuffer is allocated per read.
 */
const READ_BUFFER = Buffer.allocUnsafeSlow(64 * 1024);
/** Its ArrayBuffer, read once: `.buffer` on a typed array is a runtime call. */
const READ_MEMORY = READ_BUFFER.buffer;

/** Makes `handle`'s reads land in the shared buffer; false when it cannot (a Buffer per read). */
export function readIntoShared(handle: Pick<StreamHandle, 'useUserBuffer'>): boolean {
  if (typeof handle.useUserBuffer !== 'function') return false;
  handle.useUserBuffer(READ_BUFFER);
  return true;
}

/** The `nread` bytes a handle reading into the shared buffer just read. */
export function sharedRead(nread: number): Buffer {
  return READ_BUFFER.subarray(0, nread);
}

/**
 * True when `chunk` is a view of the shared read buffer: valid only during onBytes, so what a
 * reader keeps (or writes, since a write may complete later) must be copied.
 */
export function isTransient(chunk: Uint8Array): boolean {
  return chunk.buffer === READ_MEMORY;
}

/** `chunk`, copied if it is a view of the shared read buffer. */
export function owned(chunk: Buffer): Buffer {
  return isTransient(chunk) ? Buffer.from(chunk) : chunk;
}

/** Above this many bytes queued in libuv a write reports backpressure (Writable's default). */
export const HIGH_WATER = 16 * 1024;

function handleOf(socket: Socket): StreamHandle | null {
  if (socket.destroyed) return null;
  const handle = (socket as unknown as { _handle: StreamHandle | null })._handle;
  return handle !== null && typeof handle.writeBuffer === 'function' ? handle : null;
}

/** Whether `socket` can be written and read directly (connected, not destroyed, a stream). */
export function canGoDirect(socket: Socket): boolean {
  // A TLS socket's bytes are the TLS layer's to read and write, never its handle's.
  const encrypted = (socket as Socket & { encrypted?: boolean }).encrypted === true;
  return DIRECT_IO && !encrypted && !socket.connecting && handleOf(socket) !== null;
}

function uvError(status: number, syscall: string): NodeJS.ErrnoException {
  let code: string;
  try {
    code = getSystemErrorName(status);
  } catch {
    code = `UV${status}`;
  }
  const err: NodeJS.ErrnoException = new Error(`${syscall} ${code}`);
  err.code = code;
  err.errno = status;
  err.syscall = syscall;
  return err;
}

function onWriteComplete(this: WriteReq, status: number): void {
  this.buffer = null;
  this.writer.completed(status);
}

/**
 * Writes to a connected socket's handle. `write` returns false when more than 16 KiB wait in
 * libuv; `onDrain` runs once they have all gone out. A failed write destroys the socket with the
 * error (its 'error' and 'close' events follow, as with a stream write).
 */
export class DirectWriter {
  private wantDrain = false;
  /**
   * A write request free for the next write. A write that completes synchronously (the usual
   * case) never ties its request object to libuv, so the object can serve again: one fewer
   * native object to build per write.
   */
  private spare: WriteReq | null = null;

  constructor(
    readonly socket: Socket,
    private readonly onDrain: () => void = noop,
  ) {}

  /** What was queued has gone out after a write that returned false. */
  protected drained(): void {
    this.onDrain();
  }

  write(data: Uint8Array | string): boolean {
    const handle = handleOf(this.socket);
    if (handle === null) return true;
    let req = this.spare;
    if (req === null) {
      req = new WriteWrapCtor!();
      req.oncomplete = onWriteComplete;
      req.writer = this;
    } else this.spare = null;
    req.handle = handle;
    req.async = false;
    const err =
      typeof data === 'string' ? handle.writeUtf8String(req, data) : handle.writeBuffer(req, data);
    if (err !== 0) {
      this.socket.destroy(uvError(err, 'write'));
      return true;
    }
    if (STATE[K_ASYNC] === 0) {
      this.spare = req;
      return true;
    }
    // libuv holds the bytes until they are written: keep them alive with the request.
    req.async = true;
    req.buffer = data;
    if (handle.writeQueueSize < HIGH_WATER) return true;
    this.wantDrain = true;
    return false;
  }

  completed(status: number): void {
    if (status < 0) {
      if (!this.socket.destroyed) this.socket.destroy(uvError(status, 'write'));
      return;
    }
    if (!this.wantDrain) return;
    const handle = handleOf(this.socket);
    if (handle === null || handle.writeQueueSize > 0) return;
    this.wantDrain = false;
    this.drained();
  }
}

/** What a client connection reports. */
export interface DirectReader {
  /**
   * Bytes read. The buffer may be a view of a buffer shared by all connections
   * (`isTransient`): what the reader keeps after returning must go through `owned()`.
   */
  onBytes(chunk: Buffer): void;
  /** The peer sent FIN. */
  onEof(): void;
  /** The connection is closed (either side, or destroyed): nothing more is reported. */
  onClose(): void;
  /** After a write returned false: what was queued has gone out. */
  onDrain(): void;
}

/**
 * A client connection as the fast path sees it: bytes in and out, its peer, its end. On a plain
 * socket's handle (DirectSocket) or streams (StreamSocket), or on a TLS handle (tls/tls-client.ts).
 */
export interface ClientIO {
  readonly remoteAddress: string;
  /** TLS: its requests get X-Forwarded-Proto https. */
  readonly encrypted: boolean;
  readonly destroyed: boolean;
  /** Starts reporting to `reader` (once, before anything else is called). */
  attach(reader: DirectReader): void;
  /** false: the bytes are queued beyond the high-water mark; onDrain follows. */
  write(data: Uint8Array | string): boolean;
  pause(): void;
  resume(): void;
  /** Sends FIN once what was written is out; closes when the peer's FIN arrives. */
  end(): void;
  destroy(): void;
  /**
   * Gives the connection to Node's http server: `then` gets its socket, paused, with `unread`
   * back in front of what comes next (at once, or once this side's writes are out). The reader
   * hears nothing more.
   */
  handOff(unread: Buffer | null, then: (socket: Socket) => void): void;
}

function noop(): void {}

/** The client side of a plain `socket`: on its handle when this process can. */
export function clientIO(socket: Socket): ClientIO {
  return canGoDirect(socket) ? new DirectSocket(socket) : new StreamSocket(socket);
}

/**
 * A connected socket read and written through its handle: reads come to `reader.onBytes` as
 * they arrive (one Buffer per read, no stream buffering), writes go out as DirectWriter's do.
 * `handOff()` gives the socket back to its streams (the handle's own read callback restored),
 * for Node's http server.
 */
export class DirectSocket extends DirectWriter implements ClientIO {
  readonly encrypted = false;
  private readonly handle: StreamHandle;
  private readonly streamOnread: StreamHandle['onread'];
  /** Reads land in READ_BUFFER (the handle supports user buffers). */
  private readonly shared: boolean;
  private reader: DirectReader | null = null;
  private onSocketClose: (() => void) | null = null;
  private paused = false;
  private eof = false;
  private ended = false;

  constructor(socket: Socket) {
    super(socket);
    const handle = handleOf(socket);
    if (handle === null) throw new Error('DirectSocket: the socket has no open handle');
    this.handle = handle;
    this.streamOnread = handle.onread;
    this.shared = typeof handle.useUserBuffer === 'function';
  }

  get remoteAddress(): string {
    return this.socket.remoteAddress ?? '';
  }

  get destroyed(): boolean {
    return this.socket.destroyed;
  }

  attach(reader: DirectReader): void {
    this.reader = reader;
    const socket = this.socket;
    const handle = this.handle;
    const state = STATE;
    const shared = this.shared;
    this.onSocketClose = () => reader.onClose();
    socket.on('close', this.onSocketClose);
    socket.on('error', noop);
    if (shared) handle.useUserBuffer!(READ_BUFFER);
    handle.onread = (arrayBuffer: ArrayBuffer): void => {
      const nread = state[K_NREAD]!;
      if (nread > 0) {
        if (!this.ended) {
          reader.onBytes(
            shared
              ? READ_BUFFER.subarray(0, nread)
              : Buffer.from(arrayBuffer, state[K_OFFSET], nread),
          );
        }
        return;
      }
      if (nread === 0) return;
      if (nread !== UV_EOF) {
        socket.destroy(uvError(nread, 'read'));
        return;
      }
      this.eof = true;
      this.stopReading();
      if (this.ended) socket.destroy();
      else reader.onEof();
    };
    // The socket's constructor started reading (net.js's read(0)); make sure it still is.
    if (!handle.reading) this.startReading();
  }

  protected override drained(): void {
    this.reader?.onDrain();
  }

  private startReading(): void {
    const handle = handleOf(this.socket);
    if (handle === null) return;
    handle.reading = true;
    const err = handle.readStart();
    if (err !== 0) this.socket.destroy(uvError(err, 'read'));
  }

  private stopReading(): void {
    const handle = handleOf(this.socket);
    if (handle === null || !handle.reading) return;
    handle.reading = false;
    handle.readStop();
  }

  /** Stops reading from the peer (backpressure). */
  pause(): void {
    if (this.paused) return;
    this.paused = true;
    this.stopReading();
  }

  resume(): void {
    if (!this.paused) return;
    this.paused = false;
    if (!this.eof && !this.ended) this.startReading();
  }

  /**
   * Sends FIN once what was written is out. The socket closes when the peer's FIN arrives (or
   * has arrived), so a client still sending gets no reset while our last bytes are in flight.
   */
  end(): void {
    if (this.ended || this.socket.destroyed) return;
    this.ended = true;
    const socket = this.socket;
    if (this.eof) socket.once('finish', () => socket.destroy());
    else if (this.paused) {
      this.paused = false;
      this.startReading();
    }
    socket.end();
  }

  destroy(): void {
    this.socket.destroy();
  }

  /** Back to the socket's streams: reads go to its Readable again (paused until resumed). */
  handOff(unread: Buffer | null, then: (socket: Socket) => void): void {
    this.handle.onread = this.shared ? copyingOnread(this.streamOnread) : this.streamOnread;
    this.stopReading();
    const socket = this.socket;
    if (this.onSocketClose !== null) socket.off('close', this.onSocketClose);
    socket.off('error', noop);
    this.reader = null;
    socket.pause();
    // The Readable asked for data once (net.js's read(0) at accept) and, as it never got any,
    // still waits for that read: without this, resuming it would never start the handle again.
    const state = (socket as unknown as { _readableState?: { reading: boolean } })._readableState;
    if (state !== undefined) state.reading = false;
    // Paused first: an unshift onto a flowing stream with no reader would lose the bytes.
    if (unread !== null) socket.unshift(owned(unread));
    then(socket);
  }
}

/**
 * The streams' read callback for a handle that keeps reading into READ_BUFFER: net.js keeps
 * each read's Buffer, so every read is copied into an ArrayBuffer of its own first (Node sets
 * the offset to 0 for user-buffer reads).
 */
export function copyingOnread(streamOnread: StreamHandle['onread']): StreamHandle['onread'] {
  return function (this: StreamHandle, arrayBuffer: ArrayBuffer): void {
    const nread = STATE[K_NREAD]!;
    streamOnread.call(this, nread > 0 ? READ_MEMORY.slice(0, nread) : arrayBuffer);
  };
}

/** The same contract on the socket's streams (no binding, or HOTSWAP_DIRECT_IO=0). */
export class StreamSocket implements ClientIO {
  /** A TLSSocket (the TLS path when the tls_wrap binding is not used). */
  readonly encrypted: boolean;
  private onData: ((chunk: Buffer) => void) | null = null;
  private onEnd: (() => void) | null = null;
  private onClose: (() => void) | null = null;
  private onDrain: (() => void) | null = null;

  constructor(readonly socket: Socket) {
    this.encrypted = (socket as Socket & { encrypted?: boolean }).encrypted === true;
  }

  get remoteAddress(): string {
    return this.socket.remoteAddress ?? '';
  }

  get destroyed(): boolean {
    return this.socket.destroyed;
  }

  attach(reader: DirectReader): void {
    const socket = this.socket;
    this.onData = (chunk) => reader.onBytes(chunk);
    this.onEnd = () => reader.onEof();
    this.onClose = () => reader.onClose();
    this.onDrain = () => reader.onDrain();
    socket.on('data', this.onData);
    socket.on('end', this.onEnd);
    socket.on('close', this.onClose);
    socket.on('drain', this.onDrain);
    socket.on('error', noop);
  }

  write(data: Uint8Array | string): boolean {
    return this.socket.destroyed ? true : this.socket.write(data);
  }

  pause(): void {
    this.socket.pause();
  }

  resume(): void {
    this.socket.resume();
  }

  end(): void {
    // A second end() (the peer's FIN after ours) would build an ERR_STREAM_ALREADY_FINISHED,
    // stack trace included, only to drop it: one per `Connection: close` exchange.
    const socket = this.socket;
    if (!socket.destroyed && !socket.writableEnded) socket.end();
  }

  destroy(): void {
    this.socket.destroy();
  }

  handOff(unread: Buffer | null, then: (socket: Socket) => void): void {
    const socket = this.socket;
    if (this.onData !== null) socket.off('data', this.onData);
    if (this.onEnd !== null) socket.off('end', this.onEnd);
    if (this.onClose !== null) socket.off('close', this.onClose);
    if (this.onDrain !== null) socket.off('drain', this.onDrain);
    socket.off('error', noop);
    socket.pause();
    if (unread !== null) socket.unshift(owned(unread));
    then(socket);
  }
}
