// Keep-alive connections to one backend instance for the fast path (fast-http.ts): raw sockets,
// reused last-in-first-out so a few warm connections carry the load and the rest age out. One
// pool per instance, so a drain can close exactly that instance's connections.
//
// Timeouts cost no timer per request (silence.ts): an idle pooled socket is closed after
// `idleMs` of silence; a busy one tells its exchange, which decides (the upstream timeout).
import net, { type Socket } from 'node:net';
import { DirectWriter, canGoDirect } from './direct-io.js';
import { SilenceWatch, type Watched } from '../../core/silence.js';

/** What a pooled connection reports to the exchange using it. */
export interface UpstreamUser {
  /**
   * Bytes from the upstream. `chunk` lives in a buffer shared by every pooled connection: it is
   * valid during this call only, so whatever outlives the call must be copied.
   */
  upData(chunk: Buffer): void;
  upEnd(): void;
  /** The connection closed while in use; `err` when it failed. */
  upClose(err: NodeJS.ErrnoException | null): void;
  upConnected(): void;
  upDrain(): void;
  /** `silentMs` of silence on the connection while in use. */
  upSilent(silentMs: number): void;
  /** The policy's movableOnLoss() for this exchange now (core/lost.ts). */
  movableOnLoss(): boolean;
}

/** Where every pooled connection's reads land (the process is single-threaded). */
const READ_BUFFER = Buffer.allocUnsafeSlow(64 * 1024);

export class UpstreamConn implements Watched {
  readonly socket: Socket;
  user: UpstreamUser | null = null;
  connected = false;
  /** Has carried an exchange before: a reset now may be the keep-alive race. */
  reused = false;
  /** Carries a long response (SSE): a drain's cut of HTTP connections spares it. */
  long = false;
  silentMs = 0;
  /** Bytes moved since the last tick (the exchange sets it on its writes). */
  active = true;
  private error: NodeJS.ErrnoException | null = null;
  /** Writes on the handle once connected (direct-io.ts); null before, or where it cannot. */
  private direct: DirectWriter | null = null;

  constructor(
    private readonly pool: UpstreamPool,
    host: string,
    port: number,
  ) {
    // onread: reads land in one shared buffer and come straight to onRead, without a Buffer
    // allocated per read and without the stream machinery ('data' events, read-ahead ticks).
    const socket = net.connect({
      host,
      port,
      noDelay: true,
      onread: { buffer: READ_BUFFER, callback: this.onRead },
    });
    this.socket = socket;
    socket.on('connect', this.onConnect);
    socket.on('end', this.onEnd);
    socket.on('drain', this.onDrain);
    socket.on('error', this.onError);
    socket.on('close', this.onClose);
  }

  private readonly onConnect = (): void => {
    this.connected = true;
    if (canGoDirect(this.socket)) this.direct = new DirectWriter(this.socket, this.onDrain);
    this.user?.upConnected();
  };

  private readonly onRead = (length: number, buffer: Uint8Array): boolean => {
    this.active = true;
    const user = this.user;
    // Bytes on an idle connection break the framing: it cannot be reused.
    if (user === null) this.socket.destroy();
    else user.upData((buffer as Buffer).subarray(0, length));
    return true;
  };

  /**
   * Sends bytes; false when they queue past the high-water mark (upDrain follows). Before the
   * connect they wait in the socket's stream, and nothing is sent if the connect fails.
   */
  write(data: Uint8Array): boolean {
    // What the stream still holds (the head written before the connect) goes out first.
    const direct = this.direct;
    if (direct !== null && this.socket.writableLength === 0) return direct.write(data);
    return this.socket.write(data);
  }

  private readonly onEnd = (): void => {
    if (this.user === null) this.socket.destroy();
    else this.user.upEnd();
  };

  private readonly onDrain = (): void => {
    this.user?.upDrain();
  };

  silent(silentMs: number): void {
    const user = this.user;
    if (user !== null) user.upSilent(silentMs);
    else if (silentMs >= this.pool.idleMs) this.socket.destroy();
  }

  private readonly onError = (err: NodeJS.ErrnoException): void => {
    this.error = err;
  };

  private readonly onClose = (): void => {
    this.pool.forget(this);
    const user = this.user;
    this.user = null;
    user?.upClose(this.error);
  };

  /** Ends use by the current exchange; a clean connection goes back to the pool. */
  release(reusable: boolean): void {
    this.user = null;
    this.long = false;
    if (!reusable || this.socket.destroyed || this.pool.closed) {
      this.socket.destroy();
      return;
    }
    this.reused = true;
    this.active = true;
    // A paused socket would not see the app's FIN while idle. (Once flowing, it stays so
    // unless backpressure paused it: no call needed.)
    if (this.socket.readableFlowing !== true) this.socket.resume();
    this.pool.park(this);
  }
}

export class UpstreamPool {
  /** Idle connections, most recently used last. */
  private readonly idle: UpstreamConn[] = [];
  private readonly all = new Set<UpstreamConn>();
  private readonly watch: SilenceWatch;
  closed = false;

  constructor(
    private readonly host: string,
    private readonly port: number,
    /** Idle connections close after this much silence: below Node's default 5 s keepAliveTimeout. */
    readonly idleMs = 4000,
    /** Granularity of the inactivity checks (idle and upstream timeouts). */
    readonly tickMs = 4000,
    /** Idle connections kept at most; beyond, a released one is closed. */
    private readonly maxIdle = 64,
  ) {
    this.watch = new SilenceWatch(tickMs);
  }

  /** A connection for `user`: the most recently parked idle one, or a new one. */
  take(user: UpstreamUser): UpstreamConn {
    const conn = this.idle.pop() ?? this.open();
    conn.user = user;
    return conn;
  }

  private open(): UpstreamConn {
    const conn = new UpstreamConn(this, this.host, this.port);
    this.all.add(conn);
    this.watch.add(conn);
    return conn;
  }

  park(conn: UpstreamConn): void {
    if (this.idle.length >= this.maxIdle) conn.socket.destroy();
    else this.idle.push(conn);
  }

  forget(conn: UpstreamConn): void {
    this.all.delete(conn);
    this.watch.delete(conn);
    const i = this.idle.indexOf(conn);
    if (i >= 0) this.idle.splice(i, 1);
  }

  /** Closes every connection, busy ones too (their exchanges fail), except long ones if asked. */
  destroyAll(spareLong = false): void {
    for (const conn of [...this.all]) {
      if (!(spareLong && conn.long)) conn.socket.destroy();
    }
  }

  /** Fails the exchanges that may move to another instance with `err`; returns how many. */
  cutMovable(err: Error): number {
    let cut = 0;
    for (const conn of [...this.all]) {
      if (conn.user?.movableOnLoss() === true) {
        conn.socket.destroy(err);
        cut++;
      }
    }
    return cut;
  }

  /** Closes everything and keeps nothing from now on (the instance is gone). */
  close(): void {
    this.closed = true;
    this.destroyAll();
  }
}
