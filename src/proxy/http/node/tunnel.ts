// HTTP upgrades (WebSocket and others): the backend is chosen like a request's (forced
// revision, sticky, weights), the upgrade request goes upstream over a fresh connection, the
// 101 head comes back to the client, then the two sockets are spliced both ways with
// backpressure. Until the 101 the handshake counts as a request in flight; after it, as a long
// connection of that backend. A connect failure before the request went out is retried once.
//
// Upstream → client bytes of a WebSocket go through a FrameTracker, so that a cut can put its
// close frame (1001) between two frames of the app rather than inside one.
import http from 'node:http';
import type { Socket } from 'node:net';
import { performance } from 'node:perf_hooks';
import {
  hostOf,
  fullPathFramingProblem,
  NO_BACKEND,
  noService,
  requestHeaders,
  type HttpProxy,
  type ListenerState,
} from './http-proxy.js';
import {
  CONNECT_TIMEOUT_CODE,
  failure,
  failureResponse,
  shouldRetry,
  TIMEOUT_CODE,
  upstreamFailure,
  type Failure,
} from '../policy.js';
import { closeFrame, FrameTracker, type LongConnection } from '../../core/long.js';
import type { ServiceRuntime } from '../../core/service.js';
import { Fail, failKind } from '../../core/stats.js';
import type { Target } from '../../core/targets.js';

/** How long a cut waits for the app to finish a frame, and for the client to take the close frame. */
const CUT_LINGER_MS = 1000;

function noop(): void {}

class Tunnel implements LongConnection {
  readonly kind: 'websocket' | 'upgrade';
  readonly started = performance.now();
  readonly headers: http.OutgoingHttpHeaders;
  readonly cookie: string | null;
  /** Its revision was forced (routing.override): not counted in the revision's numbers. */
  readonly forced: boolean;
  target!: Target;
  upstream: http.ClientRequest | null = null;
  upSocket: Socket | null = null;
  attempts = 0;
  connected = false;
  /** Spliced: a long connection now. */
  open = false;
  closed = false;
  cutting = false;
  readonly tracker: FrameTracker | null;
  private readonly resumeUp = (): void => {
    this.upSocket?.resume();
  };

  constructor(
    readonly proxy: HttpProxy,
    readonly service: ServiceRuntime,
    readonly req: http.IncomingMessage,
    readonly client: Socket,
    readonly head: Buffer,
  ) {
    const upgrade = String(req.headers.upgrade ?? '');
    this.kind = upgrade.toLowerCase() === 'websocket' ? 'websocket' : 'upgrade';
    this.tracker = this.kind === 'websocket' ? new FrameTracker() : null;
    this.cookie = service.newCookie;
    this.forced = service.forced;
    const headers = requestHeaders(req, service.settings.override);
    headers.connection = 'upgrade';
    headers.upgrade = upgrade;
    this.headers = headers;
    client.on('error', noop);
    client.on('close', () => this.onClientClose());
  }

  dispatch(target: Target): void {
    target.acquire();
    this.target = target;
    this.attempts++;
    this.connected = false;
    const up = http.request({
      host: target.host,
      port: target.port,
      method: this.req.method,
      path: this.req.url,
      headers: this.headers,
      agent: false,
      setHost: false,
    });
    this.upstream = up;
    up.on('socket', (socket: Socket) => {
      const timer = setTimeout(() => {
        const err: NodeJS.ErrnoException = new Error('connect timed out');
        err.code = CONNECT_TIMEOUT_CODE;
        up.destroy(err);
      }, this.proxy.connectTimeoutMs);
      socket.once('connect', () => {
        clearTimeout(timer);
        if (this.upstream !== up) return;
        this.connected = true;
        target.connected();
      });
      socket.once('close', () => clearTimeout(timer));
    });
    up.on('upgrade', (res: http.IncomingMessage, socket: Socket, upHead: Buffer) => {
      if (this.upstream === up) this.onUpgrade(res, socket, upHead);
      else socket.destroy();
    });
    up.on('response', (res: http.IncomingMessage) => {
      if (this.upstream === up) this.onRefused(res);
      else res.resume();
    });
    up.on('error', (err: NodeJS.ErrnoException) => {
      if (this.upstream === up) this.onError(err);
    });
    up.setTimeout(this.proxy.timeoutMs, () => {
      const err: NodeJS.ErrnoException = new Error('upstream timed out');
      err.code = TIMEOUT_CODE;
      up.destroy(err);
    });
    up.end();
  }

  private onUpgrade(res: http.IncomingMessage, upSocket: Socket, upHead: Buffer): void {
    const client = this.client;
    const target = this.target;
    this.upstream?.setTimeout(0);
    this.upstream = null;
    target.release();
    const latency = performance.now() - this.started;
    if (!this.forced) {
      target.counters.record(res.statusCode ?? 101, latency, Fail.NONE, performance.now());
    }
    target.own.finish(res.statusCode ?? 101, latency);
    if (this.closed || client.destroyed) {
      upSocket.destroy();
      return;
    }
    this.upSocket = upSocket;
    upSocket.setTimeout(0);
    upSocket.setNoDelay(true);
    client.setTimeout(0);
    client.setNoDelay(true);
    let head = `HTTP/1.1 ${res.statusCode ?? 101} ${res.statusMessage ?? 'Switching Protocols'}\r\n`;
    const raw = res.rawHeaders;
    for (let i = 0; i + 1 < raw.length; i += 2) head += `${raw[i]}: ${raw[i + 1]}\r\n`;
    if (this.cookie !== null) head += `Set-Cookie: ${this.cookie}\r\n`;
    client.write(`${head}\r\n`);
    this.open = true;
    upSocket.on('error', noop);
    upSocket.on('close', () => this.onUpstreamClose());
    // One side's FIN ends the other side too; whoever does not close by itself is destroyed
    // a little later (an upgraded connection is not left half-open).
    client.on('end', () => linger(upSocket));
    upSocket.on('end', () => {
      if (!this.cutting) linger(client);
    });
    if (this.tracker === null) {
      if (upHead.length > 0) client.write(upHead);
      upSocket.pipe(client, { end: false });
    } else {
      if (upHead.length > 0) this.down(upHead);
      upSocket.on('data', (chunk: Buffer) => this.down(chunk));
      upSocket.resume();
    }
    if (this.head.length > 0) upSocket.write(this.head);
    client.pipe(upSocket, { end: false });
    target.openLong(this);
  }

  /** Upstream → client, frame-aware: a pending cut waits for the end of the current frame. */
  private down(chunk: Buffer): void {
    const tracker = this.tracker!;
    if (this.cutting) {
      const at = tracker.feed(chunk, true);
      if (at < 0) {
        this.client.write(chunk);
        return;
      }
      if (at > 0) this.client.write(chunk.subarray(0, at));
      this.finishCut();
      return;
    }
    tracker.feed(chunk, false);
    if (!this.client.write(chunk)) {
      this.upSocket!.pause();
      this.client.once('drain', this.resumeUp);
    }
  }

  private reason = '';

  cut(reason: string): void {
    if (this.closed || this.cutting) return;
    this.cutting = true;
    this.reason = reason;
    const client = this.client;
    const upSocket = this.upSocket;
    if (upSocket !== null) client.unpipe(upSocket);
    client.on('data', noop); // whatever the client still sends is dropped
    client.resume();
    if (this.tracker === null || upSocket === null) {
      upSocket?.destroy();
      client.destroy();
      return;
    }
    if (this.tracker.atBoundary()) {
      this.finishCut();
      return;
    }
    upSocket.resume();
    setTimeout(() => {
      upSocket.destroy();
      client.destroy();
    }, CUT_LINGER_MS).unref();
  }

  private finishCut(): void {
    const client = this.client;
    this.upSocket?.destroy();
    if (client.destroyed) return;
    client.end(closeFrame(this.reason));
    setTimeout(() => client.destroy(), CUT_LINGER_MS).unref();
  }

  /** The upstream answered without upgrading (say 400 or 401): relay it, then close. */
  private onRefused(res: http.IncomingMessage): void {
    const target = this.target;
    const client = this.client;
    this.upstream?.setTimeout(0);
    this.upstream = null;
    target.release();
    const status = res.statusCode ?? 502;
    const latency = performance.now() - this.started;
    if (!this.forced) target.counters.record(status, latency, Fail.NONE, performance.now());
    target.own.finish(status, latency);
    if (this.closed || client.destroyed) {
      res.destroy();
      return;
    }
    client.on('close', () => res.destroy());
    let head = `HTTP/1.1 ${status} ${res.statusMessage ?? ''}\r\n`;
    const raw = res.rawHeaders;
    for (let i = 0; i + 1 < raw.length; i += 2) {
      const name = raw[i]!.toLowerCase();
      if (name === 'connection' || name === 'transfer-encoding' || name === 'keep-alive') continue;
      head += `${raw[i]}: ${raw[i + 1]}\r\n`;
    }
    client.write(`${head}Connection: close\r\n\r\n`);
    res.pipe(client);
    res.on('error', () => client.destroy());
  }

  private onError(err: NodeJS.ErrnoException): void {
    const target = this.target;
    const kind = failKind(err, this.connected);
    target.attemptFailed(kind);
    this.upstream = null;
    target.release();
    if (this.closed) return;
    // A fresh connection each time (never reused), no body: only a connect failure is retried.
    const retry = shouldRetry({
      attempts: this.attempts,
      connected: this.connected,
      reused: false,
      method: this.req.method ?? 'GET',
      hasBody: false,
      code: err.code,
    });
    if (retry) {
      const next = this.service.balancer.pick(new Set([target.id]));
      if (next !== undefined) {
        this.service.events.retries++;
        this.dispatch(next);
        return;
      }
    }
    if (!this.forced) {
      target.counters.record(0, performance.now() - this.started, kind, performance.now());
    }
    rawError(this.client, upstreamFailure(err, this.connected, this.proxy.limits));
  }

  private onClientClose(): void {
    if (this.closed) return;
    this.closed = true;
    if (this.open) {
      this.upSocket?.destroy();
      this.target.closeLong(this);
    } else if (this.upstream !== null) {
      const up = this.upstream;
      this.upstream = null;
      this.target.release();
      up.destroy();
    }
  }

  private onUpstreamClose(): void {
    if (this.closed || this.cutting) return;
    // The app closed: let the client read what is buffered, then close.
    linger(this.client);
  }
}

/** Ends the socket and destroys it if it has not closed a little later. */
function linger(socket: Socket): void {
  if (socket.destroyed) return;
  socket.end();
  setTimeout(() => socket.destroy(), CUT_LINGER_MS).unref();
}

export class UpgradeProxy {
  constructor(private readonly proxy: HttpProxy) {}

  handle(listener: ListenerState, req: http.IncomingMessage, client: Socket, head: Buffer): void {
    const problem = fullPathFramingProblem(req) ?? upgradeBodyProblem(req);
    if (problem !== null) {
      client.on('error', noop);
      rawError(client, failure('BAD_REQUEST', problem));
      return;
    }
    const service = listener.single ?? listener.route(req);
    if (service === undefined) {
      client.on('error', noop);
      rawError(client, noService(hostOf(req), req.url ?? ''));
      return;
    }
    const target = service.pick(req.headers);
    if (target === undefined) {
      service.unavailable++;
      client.on('error', noop);
      rawError(client, NO_BACKEND);
      return;
    }
    new Tunnel(this.proxy, service, req, client, head).dispatch(target);
  }
}

/**
 * An upgrade request carries no body here: the bytes after its head belong to the new protocol,
 * so a body would be read as tunnel data by one side and as a request body by the other.
 */
function upgradeBodyProblem(req: http.IncomingMessage): string | null {
  const length = req.headers['content-length'];
  const body = req.headers['transfer-encoding'] !== undefined || (length ?? '0') !== '0';
  return body ? 'an upgrade request with a body' : null;
}

/** A small text error on a raw socket (no HTTP response object after an upgrade), then close. */
export function rawError(socket: Socket, f: Failure): void {
  if (socket.destroyed) return;
  socket.end(failureResponse(f, true));
  setTimeout(() => socket.destroy(), CUT_LINGER_MS).unref();
}
