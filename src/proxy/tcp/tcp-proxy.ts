// Raw TCP mode: accept, pick a backend by weight, connect, splice both ways (pipe: backpressure
// and half-close pass through). The client's bytes are not read until the upstream connection
// is up, so a connect failure sent nothing and the connection is retried once on another
// backend. Every splice is a long connection of its backend.
import net, { type Socket } from 'node:net';
import type { LongConnection } from '../core/long.js';
import type { ServiceRuntime } from '../core/service.js';
import { CONNECT_TIMEOUT_CODE, Fail, failKind, type FailKind } from '../core/stats.js';
import type { Target } from '../core/targets.js';

const IDLE_REASON = 'hotswap: tcp connection idle';

/** After one side has closed, how long the other may take to finish before it is destroyed. */
const CLOSE_LINGER_MS = 2000;

function noop(): void {}

class Splice implements LongConnection {
  readonly kind = 'tcp' as const;
  target!: Target;
  upstream: Socket | null = null;
  attempts = 0;
  connected = false;
  clientClosed = false;
  upstreamClosed = false;
  done = false;
  fail: FailKind = Fail.NONE;

  constructor(
    readonly service: ServiceRuntime,
    readonly client: Socket,
    readonly connectTimeoutMs: number,
  ) {
    client.on('error', noop);
    client.once('close', (hadError: boolean) => {
      this.clientClosed = true;
      const up = this.upstream;
      if (up === null) return this.finish();
      if (!this.connected || hadError) up.destroy();
      else linger(up);
      if (this.upstreamClosed) this.finish();
    });
  }

  connect(target: Target): void {
    this.target = target;
    this.attempts++;
    target.own.requests++;
    const up = net.connect({ host: target.host, port: target.port, allowHalfOpen: true });
    this.upstream = up;
    const timer = setTimeout(() => {
      const err: NodeJS.ErrnoException = new Error('connect timed out');
      err.code = CONNECT_TIMEOUT_CODE;
      up.destroy(err);
    }, this.connectTimeoutMs);
    up.once('connect', () => {
      clearTimeout(timer);
      if (this.upstream !== up) return;
      if (this.clientClosed) {
        up.destroy();
        return;
      }
      this.connected = true;
      target.connected();
      up.setNoDelay(true);
      this.client.pipe(up);
      up.pipe(this.client);
      target.openLong(this);
      // Bytes either way pass through the client socket: its silence is the connection's.
      const idleMs = this.service.settings.tcpIdleMs;
      if (idleMs > 0) this.client.setTimeout(idleMs, () => target.cutLong(this, IDLE_REASON));
    });
    up.on('error', (err: NodeJS.ErrnoException) => {
      clearTimeout(timer);
      if (this.upstream !== up) return;
      const kind = failKind(err, this.connected);
      target.attemptFailed(kind);
      if (this.connected) {
        if (this.fail === Fail.NONE) this.fail = kind;
        this.client.destroy();
        return;
      }
      // Nothing of the client's was sent: one more try, on another backend.
      this.upstream = null;
      if (this.attempts === 1 && !this.clientClosed) {
        const next = this.service.balancer.pick(new Set([target.id]));
        if (next !== undefined) {
          this.service.events.retries++;
          this.connect(next);
          return;
        }
      }
      this.fail = kind;
      this.client.destroy();
    });
    up.once('close', (hadError: boolean) => {
      clearTimeout(timer);
      if (this.upstream !== up) return;
      this.upstreamClosed = true;
      if (hadError) this.client.destroy();
      else linger(this.client);
      if (this.clientClosed) this.finish();
    });
  }

  /** LongConnection: a drain or shutdown ends the splice; the client gets a FIN. */
  cut(): void {
    const up = this.upstream;
    if (up !== null) {
      this.client.unpipe(up);
      up.unpipe(this.client);
      up.destroy();
    }
    this.client.end();
    linger(this.client);
  }

  private finish(): void {
    if (this.done) return;
    this.done = true;
    const target = this.target;
    if (target === undefined) return;
    if (this.connected) target.closeLong(this);
    target.counters.recordConnection(this.fail);
  }
}

/** Destroys the socket if it has not closed by itself a little after its peer did. */
function linger(socket: Socket): void {
  if (socket.destroyed) return;
  socket.end();
  setTimeout(() => socket.destroy(), CLOSE_LINGER_MS).unref();
}

export class TcpProxy {
  constructor(private readonly connectTimeoutMs: number) {}

  handle(service: ServiceRuntime, client: Socket): void {
    client.setNoDelay(true);
    const target = service.pick(null);
    if (target === undefined) {
      service.unavailable++;
      client.on('error', noop);
      client.destroy();
      return;
    }
    new Splice(service, client, this.connectTimeoutMs).connect(target);
  }
}
