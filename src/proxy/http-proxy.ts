// The HTTP/1.1 reverse proxy: one client request → one upstream request, bodies streamed both
// ways. Hot path: event handlers are shared functions that find their request through a symbol
// property on the emitter, so a request allocates an Exchange and its header object, not a set
// of closures. No logging and no JSON per request.
//
// Retries (DESIGN zero-downtime rule 4): the client body is not piped until the upstream socket
// is connected, so a connect failure means no byte was sent and the request can go, once, to
// another backend. A bodiless GET/HEAD/OPTIONS that meets ECONNRESET/EPIPE on a reused
// keep-alive socket before any response byte is retried once too: that is the race where the
// app closed an idle connection just as the proxy reused it.
import { randomUUID } from 'node:crypto';
import http from 'node:http';
import type { Socket } from 'node:net';
import { performance } from 'node:perf_hooks';
import type { ServiceRuntime } from './service.js';
import type { Target } from './targets.js';

export interface HttpProxyOptions {
  /** Upstream socket idle time after which the request fails: 504 before a response, reset after. */
  upstreamTimeoutMs?: number;
}

/** Per listener: set when the listener closes, so responses ask clients to drop keep-alive. */
export interface ListenerState {
  closing: boolean;
}

const kExchange = Symbol('hotswap.exchange');

type Tagged<T> = T & { [kExchange]?: Exchange };

// Hop-by-hop headers (RFC 9110 7.6.1), plus two meant for this proxy alone: `expect` (Node's
// server has already answered 100 Continue) and `proxy-authorization`. transfer-encoding is
// dropped on responses (Node frames the body for the client) but kept on requests: Node then
// re-chunks the decoded body, and a chunked request without content-length stays well framed.
const HOP_REQUEST = new Set([
  'connection',
  'keep-alive',
  'proxy-connection',
  'te',
  'trailer',
  'upgrade',
  'expect',
  'proxy-authorization',
]);
const HOP_RESPONSE = new Set([
  'connection',
  'keep-alive',
  'proxy-connection',
  'transfer-encoding',
  'te',
  'trailer',
  'upgrade',
]);

const TIMEOUT_CODE = 'HOTSWAP_UPSTREAM_TIMEOUT';
const IDEMPOTENT_BODILESS = new Set(['GET', 'HEAD', 'OPTIONS']);

class Exchange {
  readonly proxy: HttpProxy;
  readonly req: http.IncomingMessage;
  readonly res: http.ServerResponse;
  readonly service: ServiceRuntime;
  readonly listener: ListenerState;
  readonly headers: http.OutgoingHttpHeaders;
  readonly hasBody: boolean;
  readonly started = performance.now();
  /** The backend of the current attempt; it stays acquired until the client response closes. */
  target!: Target;
  upstream: http.ClientRequest | null = null;
  attempts = 0;
  /** Upstream socket connected: from here on, bytes may have been sent. */
  connected = false;
  reused = false;
  responded = false;
  failed = false;
  finished = false;

  constructor(
    proxy: HttpProxy,
    service: ServiceRuntime,
    listener: ListenerState,
    req: http.IncomingMessage,
    res: http.ServerResponse,
  ) {
    this.proxy = proxy;
    this.service = service;
    this.listener = listener;
    this.req = req;
    this.res = res;
    this.headers = requestHeaders(req);
    this.hasBody = hasBody(req);
  }
}

export class HttpProxy {
  private readonly timeoutMs: number;

  constructor(options: HttpProxyOptions = {}) {
    this.timeoutMs = options.upstreamTimeoutMs ?? 60_000;
  }

  /** Serves one client request that arrived on `listener`. */
  handle(
    service: ServiceRuntime,
    listener: ListenerState,
    req: http.IncomingMessage,
    res: http.ServerResponse,
  ): void {
    const target = service.balancer.pick();
    if (target === undefined) {
      service.unavailable++;
      if (listener.closing) res.setHeader('connection', 'close');
      sendError(res, 503, 'no backend available');
      return;
    }
    const ex = new Exchange(this, service, listener, req, res);
    (res as Tagged<http.ServerResponse>)[kExchange] = ex;
    res.on('close', onClientClose);
    this.dispatch(ex, target);
  }

  dispatch(ex: Exchange, target: Target): void {
    target.acquire();
    ex.target = target;
    ex.attempts++;
    ex.connected = false;
    ex.reused = false;
    const up: Tagged<http.ClientRequest> = http.request({
      host: target.host,
      port: target.port,
      method: ex.req.method,
      path: ex.req.url,
      headers: ex.headers,
      agent: target.agent,
      setHost: false,
    });
    up[kExchange] = ex;
    ex.upstream = up;
    up.on('socket', onUpstreamSocket);
    up.on('response', onUpstreamResponse);
    up.on('error', onUpstreamError);
    up.setTimeout(this.timeoutMs, onUpstreamTimeout);
    if (!ex.hasBody) up.end();
  }
}

/** The other backend for a failed attempt, or undefined when the request must not be retried. */
function retryTarget(ex: Exchange, err: NodeJS.ErrnoException): Target | undefined {
  if (ex.attempts > 1) return undefined;
  const nothingSent = !ex.connected;
  const keepAliveRace =
    ex.reused &&
    !ex.hasBody &&
    IDEMPOTENT_BODILESS.has(ex.req.method ?? '') &&
    (err.code === 'ECONNRESET' || err.code === 'EPIPE');
  if (!nothingSent && !keepAliveRace) return undefined;
  return ex.service.balancer.pick(new Set([ex.target.id]));
}

function onUpstreamSocket(this: Tagged<http.ClientRequest>, socket: Socket): void {
  const ex = this[kExchange]!;
  if (!socket.connecting) {
    ex.reused = this.reusedSocket;
    upstreamConnected(ex, this);
    return;
  }
  // A fresh connection is rare with keep-alive, so a closure here costs little.
  socket.once('connect', () => upstreamConnected(ex, this));
}

function upstreamConnected(ex: Exchange, up: http.ClientRequest): void {
  if (ex.upstream !== up || ex.finished) return;
  ex.connected = true;
  if (ex.hasBody) ex.req.pipe(up);
}

function onUpstreamResponse(this: Tagged<http.ClientRequest>, upRes: http.IncomingMessage): void {
  const ex = this[kExchange]!;
  if (ex.upstream !== this || ex.finished) {
    upRes.resume();
    return;
  }
  ex.responded = true;
  const res = ex.res;
  // Checked here, not on arrival: a request that was in flight when the listener began to close
  // must still tell its client not to reuse the connection.
  if (ex.listener.closing) res.setHeader('connection', 'close');
  try {
    res.writeHead(upRes.statusCode ?? 502, upRes.statusMessage, responseHeaders(upRes));
  } catch {
    // A header Node will not send (say, a bad character): a 502 beats crashing the data plane.
    upRes.resume();
    ex.failed = true;
    sendError(res, 502, 'invalid upstream response headers');
    return;
  }
  (upRes as Tagged<http.IncomingMessage>)[kExchange] = ex;
  upRes.on('close', onUpstreamResponseClose);
  upRes.pipe(res);
}

function onUpstreamResponseClose(this: Tagged<http.IncomingMessage>): void {
  if (this.complete) return;
  // The app went away mid-body: the client must see a cut response, not a short "complete" one.
  const ex = this[kExchange]!;
  if (ex.finished) return;
  ex.failed = true;
  ex.target.errors++;
  ex.res.destroy();
}

function onUpstreamTimeout(this: Tagged<http.ClientRequest>): void {
  const err: NodeJS.ErrnoException = new Error('upstream timed out');
  err.code = TIMEOUT_CODE;
  this.destroy(err);
}

function onUpstreamError(this: Tagged<http.ClientRequest>, err: NodeJS.ErrnoException): void {
  const ex = this[kExchange]!;
  if (ex.upstream !== this || ex.finished) return;
  ex.target.errors++;
  if (ex.hasBody) ex.req.unpipe(this);
  if (ex.responded || ex.res.headersSent) {
    // Part of the response is out: all that is left is to cut the client connection.
    ex.failed = true;
    ex.res.destroy();
    return;
  }
  const next = retryTarget(ex, err);
  if (next !== undefined) {
    ex.target.release();
    ex.proxy.dispatch(ex, next);
    return;
  }
  ex.upstream = null;
  ex.failed = true;
  if (ex.listener.closing) ex.res.setHeader('connection', 'close');
  if (err.code === TIMEOUT_CODE) sendError(ex.res, 504, 'upstream timed out');
  else {
    const phase = ex.connected ? 'request' : 'connection';
    sendError(ex.res, 502, `upstream ${phase} failed (${err.code ?? err.message})`);
  }
}

function onClientClose(this: Tagged<http.ServerResponse>): void {
  const ex = this[kExchange]!;
  if (ex.finished) return;
  ex.finished = true;
  const up = ex.upstream;
  // The client left before the response was complete: stop the upstream work too.
  if (up !== null && !this.writableFinished) up.destroy();
  const target = ex.target;
  target.release();
  target.counters.record(
    this.headersSent ? this.statusCode : 0,
    performance.now() - ex.started,
    ex.failed,
  );
}

export function sendError(res: http.ServerResponse, status: number, reason: string): void {
  if (res.headersSent) {
    res.destroy();
    return;
  }
  const body = `hotswap: ${reason}\n`;
  res.writeHead(status, {
    'content-type': 'text/plain; charset=utf-8',
    'content-length': Buffer.byteLength(body),
    'cache-control': 'no-store',
  });
  res.end(body);
}

function hasBody(req: http.IncomingMessage): boolean {
  const length = req.headers['content-length'];
  if (length !== undefined) return length !== '0';
  return req.headers['transfer-encoding'] !== undefined;
}

function requestHeaders(req: http.IncomingMessage): http.OutgoingHttpHeaders {
  const src = req.headers;
  const out: http.OutgoingHttpHeaders = {};
  for (const key in src) {
    if (!HOP_REQUEST.has(key)) out[key] = src[key];
  }
  const connection = src.connection;
  if (connection !== undefined && !isKeepAliveOrClose(connection)) dropListed(out, connection);
  const remote = req.socket.remoteAddress ?? '';
  const xff = src['x-forwarded-for'];
  out['x-forwarded-for'] = xff === undefined ? remote : `${String(xff)}, ${remote}`;
  out['x-forwarded-proto'] = 'http';
  if (src.host !== undefined) out['x-forwarded-host'] = src.host;
  if (src['x-request-id'] === undefined) out['x-request-id'] = randomUUID();
  return out;
}

function isKeepAliveOrClose(value: string): boolean {
  const v = value.trim().toLowerCase();
  return v === 'keep-alive' || v === 'close';
}

/** Headers named in Connection are hop-by-hop too (RFC 9110 7.6.1). */
function dropListed(headers: http.OutgoingHttpHeaders, connection: string): void {
  for (const name of connection.split(',')) {
    const key = name.trim().toLowerCase();
    if (key !== 'host') delete headers[key];
  }
}

function responseHeaders(upRes: http.IncomingMessage): http.OutgoingHttpHeaders {
  const src = upRes.headers;
  const out: http.OutgoingHttpHeaders = {};
  for (const key in src) {
    if (!HOP_RESPONSE.has(key)) out[key] = src[key];
  }
  const connection = src.connection;
  if (connection !== undefined && !isKeepAliveOrClose(connection)) dropListed(out, connection);
  return out;
}
