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

interface WriteReq {
  handle: StreamHandle;
  oncomplete: (this: WriteReq, status: number) => void;
  async: boolean;
  buffer: Uint8Array | string | null;
  writer: DirectWriter;
}

interface StreamHandle {
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
const UV_EOF = -4095;

/**
 * Where every DirectSocket's reads land. A read is handed to its reader before the next one can
 * happen, so one buffer serves all connections, and no ArrayBuffer is allocated per read.
 */
const READ_BUFFER = Buffer.allocUnsafeSlow(64 * 1024);
/** Its ArrayBuffer, read once: `.buffer` on a typed array is a runtime call. */
const READ_MEMORY = READ_BUFFER.buffer;

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
const HIGH_WATER = 16 * 1024;

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
    private readonly onDrain: () => void,
  ) {}

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
    this.onDrain();
  }
}

/** What a DirectSocket reports. */
export interface DirectReader {
  /**
   * Bytes read. The buffer may be a view of a buffer shared by all connections
   * (`isTransient`): what the reader keeps after returning must go through `owned()`.
   */
  onBytes(chunk: Buffer): void;
  /** The peer sent FIN. */
  onEof(): void;
}

/** A client connection's data, on the handle (DirectSocket) or on the streams (StreamSocket). */
export interface ClientIO {
  /** false: the bytes are queued beyond the high-water mark; onDrain follows. */
  write(data: Uint8Array | string): boolean;
  pause(): void;
  resume(): void;
  end(): void;
  release(): void;
}

/** The client side of `socket` for `reader`: on its handle when this process can. */
export function clientIO(socket: Socket, reader: DirectReader, onDrain: () => void): ClientIO {
  return canGoDirect(socket)
    ? new DirectSocket(socket, reader, onDrain)
    : new StreamSocket(socket, reader, onDrain);
}

/**
 * A connected socket read and written through its handle: reads come to `reader.onBytes` as
 * they arrive (one Buffer per read, no stream buffering), writes go out as DirectWriter's do.
 * `release()` gives the socket back to its streams (the handle's own read callback restored),
 * for a hand-off to Node's http server.
 */
export class DirectSocket extends DirectWriter implements ClientIO {
  private readonly handle: StreamHandle;
  private readonly streamOnread: StreamHandle['onread'];
  /** Reads land in READ_BUFFER (the handle supports user buffers). */
  private readonly shared: boolean;
  private paused = false;
  private eof = false;
  private ended = false;

  constructor(socket: Socket, reader: DirectReader, onDrain: () => void) {
    super(socket, onDrain);
    const handle = handleOf(socket);
    if (handle === null) throw new Error('DirectSocket: the socket has no open handle');
    this.handle = handle;
    const state = STATE;
    this.streamOnread = handle.onread;
    const shared = typeof handle.useUserBuffer === 'function';
    this.shared = shared;
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

  /** Back to the socket's streams: reads go to its Readable again (paused until resumed). */
  release(): void {
    this.handle.onread = this.shared ? copyingOnread(this.streamOnread) : this.streamOnread;
    this.stopReading();
    const socket = this.socket;
    socket.pause();
    // The Readable asked for data once (net.js's read(0) at accept) and, as it never got any,
    // still waits for that read: without this, resuming it would never start the handle again.
    const state = (socket as unknown as { _readableState?: { reading: boolean } })._readableState;
    if (state !== undefined) state.reading = false;
  }
}

/**
 * The streams' read callback for a handle that keeps reading into READ_BUFFER: net.js keeps
 * each read's Buffer, so every read is copied into an ArrayBuffer of its own first (Node sets
 * the offset to 0 for user-buffer reads).
 */
function copyingOnread(streamOnread: StreamHandle['onread']): StreamHandle['onread'] {
  return function (this: StreamHandle, arrayBuffer: ArrayBuffer): void {
    const nread = STATE[K_NREAD]!;
    streamOnread.call(this, nread > 0 ? READ_MEMORY.slice(0, nread) : arrayBuffer);
  };
}

/** The same contract on the socket's streams (no binding, or HOTSWAP_DIRECT_IO=0). */
export class StreamSocket implements ClientIO {
  private readonly onData: (chunk: Buffer) => void;
  private readonly onEnd: () => void;

  constructor(
    readonly socket: Socket,
    reader: DirectReader,
    private readonly onDrain: () => void,
  ) {
    this.onData = (chunk) => reader.onBytes(chunk);
    this.onEnd = () => reader.onEof();
    socket.on('data', this.onData);
    socket.on('end', this.onEnd);
    socket.on('drain', onDrain);
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

  release(): void {
    const socket = this.socket;
    socket.off('data', this.onData);
    socket.off('end', this.onEnd);
    socket.off('drain', this.onDrain);
    socket.pause();
  }
}
