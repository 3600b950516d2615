// A TLS client connection served on its TCP handle and Node's TLS handle (TLSWrap), with no
// net.Socket and no tls.TLSSocket in between.
//
// Why: a new TLS connection through tls.TLSSocket builds two sockets (the accepted net.Socket and
// the TLSSocket over it), each a Duplex with its stream states, listeners, closures and accessor
// properties. Measured on a bare TLS server answering one request per connection (bench/README.md,
// "new TLS connections"): 265 µs of CPU per connection through TLSSocket, 220 µs on the handles.
// The handshake itself (OpenSSL) is the same C++ either way.
//
// What this relies on: Node's internal tls_wrap binding (`wrap(handle, context, isServer)`, the
// one _tls_wrap.js uses), the stream_wrap requests direct-io.ts uses, and the TLSWrap callbacks
// (onhandshakestart/done, onerror, oncertcb, onread). `DIRECT_TLS` is false when any of it is
// missing, or with HOTSWAP_DIRECT_TLS=0: listeners then use tls.TLSSocket (listeners.ts).
//
// The rules kept from TLSSocket: a failed handshake ends the connection; a client's
// renegotiation (TLS 1.2) ends it too (TLSSocket's disableRenegotiation(), nginx's default); the
// SNI callback picks the context; ALPN offers http/1.1 only. TLSWrap takes one write at a time
// (a second one aborts the process), so writes made while one is in flight wait in a queue here;
// that is also why a hand-off to Node's http server waits for the queue to empty.
import net, { type Socket } from 'node:net';
import tls from 'node:tls';
import type { Watched } from '../core/silence.js';
import {
  HANDLE_IO,
  HIGH_WATER,
  UV_EOF,
  copyingOnread,
  owned,
  readIntoShared,
  sharedRead,
  type ClientIO,
  type DirectReader,
  type ShutdownReq,
  type StreamHandle,
  type WriteReq,
} from '../http/fast/direct-io.js';

/** An accepted TCP handle (tcp_wrap's TCP), as net.js would have wrapped it. */
export interface TcpHandle {
  onread: ((this: TcpHandle, arrayBuffer: ArrayBuffer) => void) | undefined;
  setNoDelay(enable: boolean): number;
  getpeername(out: { address?: string }): number;
  close(callback?: () => void): void;
}

/** A TLSWrap: TLS over the TCP handle; reads give cleartext, writes take cleartext. */
interface TlsHandle extends StreamHandle {
  onhandshakestart: (this: TlsHandle) => void;
  onhandshakedone: (this: TlsHandle) => void;
  onerror: (this: TlsHandle, err: Error) => void;
  oncertcb?: (this: TlsHandle, info: { servername?: string }) => void;
  shutdown(req: ShutdownReq): number;
  setALPNProtocols(protocols: Buffer): void;
  enableCertCb(): void;
  certCbDone(): void;
  sni_context?: unknown;
  destroySSL(): void;
  /** What _tls_wrap.js's methods on TLSWrap.prototype (getpeername, close…) forward to. */
  _parent?: TcpHandle;
  _secureContext?: tls.SecureContext;
  client?: TlsClient;
}

interface TlsWrapBinding {
  wrap(handle: TcpHandle, context: unknown, isServer: boolean, hadWrites: boolean): TlsHandle;
  TLSWrap: { prototype: Partial<TlsHandle> & { close?: unknown } };
}

function loadBinding(): TlsWrapBinding | null {
  if (process.env.HOTSWAP_DIRECT_TLS === '0' || HANDLE_IO === null) return null;
  try {
    const binding = (process as unknown as { binding(name: string): unknown }).binding(
      'tls_wrap',
    ) as Partial<TlsWrapBinding>;
    // Reads land in the shared buffer; a hand-off's net.Socket closes the handle through the
    // close() _tls_wrap.js puts on TLSWrap (loaded with node:tls).
    const proto = binding.TLSWrap?.prototype;
    const ok =
      typeof binding.wrap === 'function' &&
      typeof tls.TLSSocket === 'function' &&
      typeof proto?.useUserBuffer === 'function' &&
      typeof proto.close === 'function';
    return ok ? (binding as TlsWrapBinding) : null;
  } catch {
    return null;
  }
}

const BINDING = loadBinding();
/** TLS connections can be served on their handles in this process. */
export const DIRECT_TLS = BINDING !== null;
const IO = HANDLE_IO!;

/** What a TlsClient needs from the listener that accepted it. */
export interface TlsOwner {
  /** How long a handshake may take. */
  readonly handshakeMs: number;
  /** The certificate for an SNI name (the listener's choice when it has several). */
  contextFor(servername: string): tls.SecureContext | undefined;
  /** The handshake is done: the connection goes to the HTTP engines. */
  secured(client: TlsClient): void;
  /** The connection is closed (its handles are released). */
  closed(client: TlsClient): void;
}

/** ALPN: HTTP/1.1 only (a client offering h2 falls back). */
export const ALPN = Buffer.from([8, ...Buffer.from('http/1.1', 'latin1')]);

/** A TLS client that has not finished its handshake by then is dropped (the default). */
export const HANDSHAKE_TIMEOUT_MS = 10_000;

function noop(): void {}

function onHandshakeStart(this: TlsHandle): void {
  // Only the first handshake starts here: TLS 1.3's post-handshake messages do not call it, so
  // a second start is a TLS 1.2 renegotiation, which a client may use to make the server work.
  const client = this.client!;
  if (client.handshakes++ > 0) client.destroy();
}

function onHandshakeDone(this: TlsHandle): void {
  this.client!.handshakeDone();
}

function onError(this: TlsHandle): void {
  // A failed handshake (wrong name, no common cipher, a scanner) or a broken record.
  this.client!.destroy();
}

function onCertificate(this: TlsHandle, info: { servername?: string }): void {
  const client = this.client!;
  const context = client.owner.contextFor(info.servername ?? '');
  if (context !== undefined) this.sni_context = context.context as unknown;
  try {
    this.certCbDone();
  } catch {
    client.destroy();
  }
}

function onRead(this: StreamHandle): void {
  (this as TlsHandle).client!.read(IO.state[IO.kNread]!);
}

/** A request of a TlsClient's (its write or its shutdown). */
type Of<Req> = Req & { client: TlsClient };

function onWriteDone(this: WriteReq, status: number): void {
  this.buffer = null;
  (this as Of<WriteReq>).client.writeDone(status);
}

function onShutdownDone(this: ShutdownReq, status: number): void {
  (this as Of<ShutdownReq>).client.shutdownDone(status);
}

/** A TLS connection on its handles: its handshake, then a ClientIO for the HTTP engines. */
export class TlsClient implements ClientIO, Watched {
  readonly encrypted = true;
  destroyed = false;
  /** Handshakes started (a second one is a renegotiation: the connection ends). */
  handshakes = 0;
  private secure = false;
  private readonly wrap: TlsHandle;
  private reader: DirectReader | null = null;
  /** Cleartext that came before a reader was attached (kept; normally none). */
  private early: Buffer | null = null;
  /** The write TLSWrap holds, and what waits behind it. */
  private inFlight = false;
  private queue: Array<Uint8Array | string> = [];
  private queuedBytes = 0;
  private wantDrain = false;
  private paused = false;
  private eof = false;
  private ended = false;
  private shutdownSent = false;
  /** Set by handOff() until the writes before it are out. */
  private handingOff: { socket: Socket; then: (socket: Socket) => void } | null = null;
  /** After handOff(): the socket that owns the TLS handle now. */
  private socket: Socket | null = null;
  private peer: string | null = null;
  // Watched (the handshake deadline): never active, so the silence is the handshake's age.
  active = false;
  silentMs = 0;

  constructor(
    private readonly tcp: TcpHandle,
    readonly owner: TlsOwner,
    context: tls.SecureContext,
    /** The listener has several certificates: pick one by SNI. */
    sni: boolean,
    /** Gives the connection's place in its server back (net.js's count of connections). */
    private readonly release: () => void,
  ) {
    // net.js always sets a read callback; one must be there whenever the TLS layer lets go.
    tcp.onread = noop;
    tcp.setNoDelay(true);
    const wrap = BINDING!.wrap(tcp, context.context, true, false);
    this.wrap = wrap;
    wrap._parent = tcp;
    wrap._secureContext = context;
    wrap.client = this;
    wrap.onhandshakestart = onHandshakeStart;
    wrap.onhandshakedone = onHandshakeDone;
    wrap.onerror = onError;
    wrap.onread = onRead;
    if (sni) {
      wrap.oncertcb = onCertificate;
      wrap.enableCertCb();
    }
    wrap.setALPNProtocols(ALPN);
    readIntoShared(wrap);
    this.startReading();
  }

  get remoteAddress(): string {
    if (this.peer === null) {
      const out: { address?: string } = {};
      this.peer = this.tcp.getpeername(out) === 0 ? (out.address ?? '') : '';
    }
    return this.peer;
  }

  /** The handshake deadline (a SilenceWatch tick). */
  silent(silentMs: number): void {
    if (!this.secure && silentMs >= this.owner.handshakeMs) this.destroy();
  }

  handshakeDone(): void {
    if (this.secure || this.destroyed) return;
    this.secure = true;
    this.owner.secured(this);
  }

  attach(reader: DirectReader): void {
    this.reader = reader;
    const early = this.early;
    this.early = null;
    if (early !== null) reader.onBytes(early);
  }

  read(nread: number): void {
    if (nread > 0) {
      if (this.ended) return;
      const chunk = sharedRead(nread);
      const reader = this.reader;
      if (reader !== null) reader.onBytes(chunk);
      else this.early = this.early === null ? owned(chunk) : Buffer.concat([this.early, chunk]);
      return;
    }
    if (nread === 0) return;
    if (nread !== UV_EOF || !this.secure) {
      this.destroy();
      return;
    }
    this.eof = true;
    this.stopReading();
    if (this.ended) this.destroy();
    else this.reader?.onEof();
  }

  write(data: Uint8Array | string): boolean {
    if (this.destroyed) return true;
    if (this.inFlight) {
      // The caller may reuse its memory (a view of the shared read buffer): keep a copy.
      const kept = typeof data === 'string' ? data : owned(data as Buffer);
      this.queue.push(kept);
      this.queuedBytes += kept.length;
      if (this.queuedBytes < HIGH_WATER) return true;
      this.wantDrain = true;
      return false;
    }
    this.issue(data);
    return true;
  }

  private issue(data: Uint8Array | string): void {
    const req = new IO.WriteWrap() as Of<WriteReq>;
    req.handle = this.wrap;
    req.oncomplete = onWriteDone;
    req.client = this;
    req.async = false;
    const err =
      typeof data === 'string'
        ? this.wrap.writeUtf8String(req, data)
        : this.wrap.writeBuffer(req, data);
    if (err !== 0) {
      this.destroy();
      return;
    }
    if (IO.state[IO.kAsync] === 0) {
      this.writeDone(0);
      return;
    }
    // TLSWrap completes its writes later: the bytes stay alive with the request until then.
    req.async = true;
    req.buffer = data;
    this.inFlight = true;
  }

  writeDone(status: number): void {
    this.inFlight = false;
    if (status < 0) {
      this.handingOff = null;
      this.destroy();
      return;
    }
    if (this.destroyed) return;
    const queue = this.queue;
    if (queue.length > 0) {
      this.queue = [];
      this.queuedBytes = 0;
      this.issue(queue.length === 1 ? queue[0]! : Buffer.concat(queue.map(asBuffer)));
      if (this.inFlight) return;
    }
    if (this.wantDrain) {
      this.wantDrain = false;
      this.reader?.onDrain();
    }
    if (this.inFlight || this.queue.length > 0) return;
    if (this.ended && !this.shutdownSent) this.shutdown();
    const handing = this.handingOff;
    if (handing !== null) {
      this.handingOff = null;
      handing.then(handing.socket);
    }
  }

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

  private startReading(): void {
    if (this.destroyed) return;
    const err = this.wrap.readStart();
    if (err !== 0) this.destroy();
  }

  private stopReading(): void {
    if (!this.destroyed) this.wrap.readStop();
  }

  /**
   * close_notify and FIN once what was written is out. The connection closes when the peer's
   * FIN arrives (or has arrived), as DirectSocket's end() does.
   */
  end(): void {
    if (this.ended || this.destroyed) return;
    this.ended = true;
    if (this.paused) {
      this.paused = false;
      if (!this.eof) this.startReading();
    }
    if (!this.inFlight && this.queue.length === 0) this.shutdown();
  }

  private shutdown(): void {
    this.shutdownSent = true;
    const req = new IO.ShutdownWrap() as Of<ShutdownReq>;
    req.handle = this.wrap;
    req.oncomplete = onShutdownDone;
    req.client = this;
    if (this.wrap.shutdown(req) !== 0) this.destroy();
  }

  shutdownDone(status: number): void {
    if (status < 0 || this.eof) this.destroy();
  }

  destroy(): void {
    if (this.socket !== null) {
      this.socket.destroy();
      return;
    }
    if (this.destroyed) return;
    this.destroyed = true;
    // The TCP handle first, the TLS state after it is closed: freeing the SSL object while the
    // handle can still deliver a read into it crashes the process.
    this.tcp.close(() => {
      this.wrap.destroySSL();
      this.closed();
      this.reader?.onClose();
    });
  }

  private closed(): void {
    this.release();
    this.owner.closed(this);
  }

  /**
   * A net.Socket over the TLS handle, for Node's http server (the full path; a WebSocket tunnel
   * through it). It is given to `then` once the writes made here are out: TLSWrap takes one
   * write at a time, and the server may answer at once.
   */
  handOff(unread: Buffer | null, then: (socket: Socket) => void): void {
    const wrap = this.wrap;
    this.reader = null;
    // The options of the sockets the listener's acceptor makes (allowHalfOpen), paused.
    const options = {
      handle: wrap,
      allowHalfOpen: true,
      readable: true,
      writable: true,
      pauseOnCreate: true,
    };
    const socket = new net.Socket(options);
    this.socket = socket;
    (socket as Socket & { encrypted: boolean }).encrypted = true;
    // _tls_wrap.js's TLSWrap.prototype.close frees the SSL object of its owner's `ssl`.
    (socket as Socket & { ssl: TlsHandle }).ssl = wrap;
    // net.js keeps each read's Buffer: reads into the shared buffer are copied for it.
    wrap.onread = copyingOnread(wrap.onread);
    socket.on('close', () => this.closed());
    const pending = owned(Buffer.concat([unread ?? EMPTY, this.early ?? EMPTY]));
    this.early = null;
    if (pending.length > 0) socket.unshift(pending);
    if (this.inFlight || this.queue.length > 0) this.handingOff = { socket, then };
    else then(socket);
  }
}

const EMPTY = Buffer.alloc(0);

function asBuffer(chunk: Uint8Array | string): Uint8Array {
  return typeof chunk === 'string' ? Buffer.from(chunk, 'utf8') : chunk;
}
