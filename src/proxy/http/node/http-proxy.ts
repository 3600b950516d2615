// The HTTP/1.1 reverse proxy: one client request → one upstream request, bodies streamed both
// ways (pipe: no buffering beyond the streams' own, backpressure both ways). Hot path: event
// handlers are shared functions that find their request through a symbol property on the
// emitter, so a request allocates an Exchange and its header object, not a set of closures.
// No logging and no JSON per request.
//
// Retries (DESIGN zero-downtime rule 4): the client body is not piped until the upstream socket
// is connected, so a connect failure means no byte was sent and the request can go, once, to
// another backend. A bodiless GET/HEAD/OPTIONS that meets ECONNRESET/EPIPE on a reused
// keep-alive socket before any response byte is retried once too: that is the race where the
// app closed an idle connection just as the proxy reused it.
//
// Also here: `Expect: 100-continue` (forwarded; the upstream's 100 is relayed before the body
// flows), trailers both ways, SSE responses (headers flushed at once, no idle timeout, counted
// as long connections), the body size limit (413), and the connect/header timeouts.
import { answerChallenge, type Challenges } from '../../tls/redirect.js';
import http from 'node:http';
import type { Socket } from 'node:net';
import { performance } from 'node:perf_hooks';
import type { LongConnection } from '../../core/long.js';
import { kUpstreamExchange as kExchange, type InFlightOnUpstream } from '../../core/lost.js';
import type { ServiceRuntime } from '../../core/service.js';
import {
  connectionListed,
  failure,
  failureBody,
  failureHeaders,
  forwardedFor,
  forwardedProto,
  FORWARDED,
  framingProblem,
  HOP_REQUEST,
  hstsValue,
  movableOnLoss,
  RELAYED_INTERIM,
  shouldRetry,
  TRAILER,
  upstreamFailure,
  type Failure,
} from '../policy.js';
import { withoutCookie } from '../cookies.js';
import { nextRequestId } from '../request-id.js';
import type { OverrideConfig } from '../../types.js';
import {
  CONNECT_TIMEOUT_CODE,
  Fail,
  failKind,
  TIMEOUT_CODE,
  type FailKind,
} from '../../core/stats.js';
import { markLong, type Target } from '../../core/targets.js';

export interface HttpProxyOptions {
  /**
   * Upstream silence after which a request fails: before the response head → 504 (header
   * timeout); during the body → the response is cut. SSE responses have no such limit.
   * Default 60 s.
   */
  upstreamTimeoutMs?: number;
  /** Connecting to a backend; past it the attempt counts as a connect failure. Default 3 s. */
  connectTimeoutMs?: number;
}

/** What the proxy needs from the listener a request arrived on. */
export interface ListenerState {
  /** Set when the listener closes, so responses ask clients to drop keep-alive. */
  closing: boolean;
  /** The only service when it takes every request; null when routing rules decide. */
  single: ServiceRuntime | null;
  /** The service for a request by host and path; undefined → 404. */
  route(req: http.IncomingMessage): ServiceRuntime | undefined;
  /** ACME HTTP-01 answers set by the daemon (usually none). */
  readonly challenges: Challenges;
}

// The exchange of a request, response or upstream request (core/lost.ts reads the last).
type Tagged<T> = T & { [kExchange]?: Exchange };

// Request hop-by-hop headers: policy.ts. transfer-encoding is dropped on responses (Node
// frames the body for the client) but kept on requests: Node then re-chunks the decoded body, and
// a chunked request without content-length stays well framed. `trailer` passes: trailers are
// relayed both ways.
const HOP_RESPONSE = new Set([
  'connection',
  'keep-alive',
  'proxy-connection',
  'transfer-encoding',
  'te',
  'upgrade',
]);

/** With Expect: 100-continue, the body is sent anyway when the upstream says nothing this long. */
const CONTINUE_FALLBACK_MS = 1000;

class Exchange implements LongConnection, InFlightOnUpstream {
  readonly kind = 'sse' as const;
  readonly proxy: HttpProxy;
  readonly req: http.IncomingMessage;
  readonly res: http.ServerResponse;
  readonly service: ServiceRuntime;
  readonly listener: ListenerState;
  /** Upstream request headers as a flat [name, value, …] list (no setHeader per header). */
  readonly headers: string[];
  readonly hasBody: boolean;
  readonly expectContinue: boolean;
  /** Set-Cookie for a sticky id generated for this request. */
  readonly cookie: string | null;
  /** Its revision was forced (routing.override): not counted in the revision's numbers. */
  readonly forced: boolean;
  /** The client came over TLS. */
  readonly encrypted: boolean;
  readonly started = performance.now();
  /** The backend of the current attempt; it stays acquired until the client response closes. */
  target!: Target;
  upstream: http.ClientRequest | null = null;
  upstreamResponse: http.IncomingMessage | null = null;
  attempts = 0;
  /** Upstream socket connected: from here on, bytes may have been sent. */
  connected = false;
  reused = false;
  bodyPiped = false;
  bodyBytes = 0;
  responded = false;
  failed = false;
  fail: FailKind = Fail.NONE;
  finished = false;
  /** An SSE response: a long connection, no longer an HTTP request in flight. */
  long = false;
  /** Cut by a drain or shutdown: the handlers stand aside. */
  cutDone = false;
  /** When the response head went out (the latency recorded for an SSE stream). */
  headAt = 0;
  continueTimer: NodeJS.Timeout | null = null;

  constructor(
    proxy: HttpProxy,
    service: ServiceRuntime,
    listener: ListenerState,
    req: http.IncomingMessage,
    res: http.ServerResponse,
    hasBody: boolean,
    expectContinue: boolean,
  ) {
    this.proxy = proxy;
    this.service = service;
    this.listener = listener;
    this.req = req;
    this.res = res;
    this.hasBody = hasBody;
    this.expectContinue = expectContinue && hasBody;
    this.cookie = service.newCookie;
    this.forced = service.forced;
    this.encrypted = forwardedProto(req.socket) === 'https';
    this.headers = requestHeaderList(req, service.settings.override);
    if (this.expectContinue) this.headers.push('expect', '100-continue');
  }

  movableOnLoss(): boolean {
    return movableOnLoss(this.req.method ?? '', this.hasBody, this.responded);
  }

  /** LongConnection: a drain or shutdown ends the SSE stream cleanly and drops the upstream. */
  cut(): void {
    if (this.finished || this.cutDone) return;
    this.cutDone = true;
    const upRes = this.upstreamResponse;
    if (upRes !== null) upRes.unpipe(this.res);
    this.upstream?.destroy();
    this.res.end();
  }
}

export class HttpProxy {
  readonly timeoutMs: number;
  readonly connectTimeoutMs: number;
  /** The two timeouts as upstreamFailure() names them in its pages. */
  readonly limits: { upstreamMs: number; connectMs: number };

  constructor(options: HttpProxyOptions = {}) {
    this.timeoutMs = options.upstreamTimeoutMs ?? 60_000;
    this.connectTimeoutMs = options.connectTimeoutMs ?? 3000;
    this.limits = { upstreamMs: this.timeoutMs, connectMs: this.connectTimeoutMs };
  }

  /** Serves one client request that arrived on `listener` (`expectContinue`: via checkContinue). */
  handle(
    listener: ListenerState,
    req: http.IncomingMessage,
    res: http.ServerResponse,
    expectContinue: boolean,
  ): void {
    const problem = fullPathFramingProblem(req);
    if (problem !== null) {
      res.setHeader('connection', 'close');
      sendError(res, failure('BAD_REQUEST', problem));
      return;
    }

    if (listener.challenges.size > 0 && answerChallenge(listener.challenges, req.url ?? '', res)) {
      return;
    }
    const service = listener.single ?? listener.route(req);
    if (service === undefined) {
      if (listener.closing) res.setHeader('connection', 'close');
      sendError(res, noService(hostOf(req), req.url ?? ''));
      return;
    }
    const length = req.headers['content-length'];
    let body: boolean;
    if (length !== undefined) {
      if (Number(length) > service.settings.maxBodyBytes) {
        res.setHeader('connection', 'close');
        sendError(res, bodyTooLarge(service.settings.maxBodyBytes));
        return;
      }
      body = length !== '0';
    } else body = req.headers['transfer-encoding'] !== undefined;
    const target = service.pick(req.headers);
    if (target === undefined) {
      service.unavailable++;
      if (listener.closing || expectContinue) res.setHeader('connection', 'close');
      sendError(res, NO_BACKEND);
      return;
    }
    const ex = new Exchange(this, service, listener, req, res, body, expectContinue);
    (res as Tagged<http.ServerResponse>)[kExchange] = ex;
    res.on('close', onClientClose);
    trackOnSocket(ex);
    if (body && length === undefined) {
      // Chunked: trailers may follow the body, and the size limit is counted as it flows.
      (req as Tagged<http.IncomingMessage>)[kExchange] = ex;
      req.on('end', onRequestEnd);
    }
    this.dispatch(ex, target);
  }

  dispatch(ex: Exchange, target: Target): void {
    target.acquire();
    ex.target = target;
    ex.attempts++;
    ex.connected = false;
    ex.reused = false;
    const up = upstreamRequest(ex, target);
    if (up === null) return;
    up[kExchange] = ex;
    ex.upstream = up;
    up.on('socket', onUpstreamSocket);
    up.on('response', onUpstreamResponse);
    up.on('information', onUpstreamInformation);
    up.on('error', onUpstreamError);
    if (ex.expectContinue) up.on('continue', onUpstreamContinue);
    up.setTimeout(this.timeoutMs, onUpstreamTimeout);
    if (!ex.hasBody) up.end();
  }
}

/**
 * The upstream request, or null when Node refuses to build it from the client's headers (it
 * throws on some, e.g. a Trailer header without chunked framing): a 400, never a crash.
 */
function upstreamRequest(ex: Exchange, target: Target): Tagged<http.ClientRequest> | null {
  try {
    return http.request({
      host: target.host,
      port: target.port,
      method: ex.req.method,
      path: ex.req.url,
      headers: ex.headers,
      agent: target.agent,
      setHost: false,
    });
  } catch (err) {
    target.release();
    ex.finished = true;
    ex.res.setHeader('connection', 'close');
    const code = (err as NodeJS.ErrnoException).code;
    sendError(ex.res, failure('BAD_REQUEST', `request headers not forwardable (${code})`));
    return null;
  }
}

/** The other backend for a failed attempt, or undefined when the request must not be retried. */
function retryTarget(ex: Exchange, err: NodeJS.ErrnoException): Target | undefined {
  const retry = shouldRetry({
    attempts: ex.attempts,
    connected: ex.connected,
    reused: ex.reused,
    method: ex.req.method ?? '',
    hasBody: ex.hasBody,
    code: err.code,
  });
  return retry ? ex.service.balancer.pick(new Set([ex.target.id])) : undefined;
}

function onUpstreamSocket(this: Tagged<http.ClientRequest>, socket: Socket): void {
  const ex = this[kExchange]!;
  if (!socket.connecting) {
    ex.reused = this.reusedSocket;
    upstreamConnected(ex, this);
    return;
  }
  connecting(ex, this, socket);
}

/** A fresh connection (rare with keep-alive, so closures here cost little): connect timeout. */
function connecting(ex: Exchange, up: http.ClientRequest, socket: Socket): void {
  const timeoutMs = ex.proxy.connectTimeoutMs;
  const timer = setTimeout(() => {
    const err: NodeJS.ErrnoException = new Error(`connect timed out after ${timeoutMs} ms`);
    err.code = CONNECT_TIMEOUT_CODE;
    up.destroy(err);
  }, timeoutMs);
  socket.setNoDelay(true);
  socket.once('connect', () => {
    clearTimeout(timer);
    upstreamConnected(ex, up);
  });
  socket.once('close', () => clearTimeout(timer));
}

function upstreamConnected(ex: Exchange, up: http.ClientRequest): void {
  if (ex.upstream !== up || ex.finished) return;
  ex.connected = true;
  ex.target.connected();
  if (!ex.hasBody) return;
  if (!ex.expectContinue) {
    pipeBody(ex, up);
    return;
  }
  // The upstream should answer 100 or a final status; if it says nothing, send the body anyway
  // (as clients do), so an app that ignores Expect still gets its request.
  ex.continueTimer = setTimeout(() => {
    ex.continueTimer = null;
    if (ex.upstream !== up || ex.responded || ex.finished) return;
    ex.res.writeContinue();
    pipeBody(ex, up);
  }, CONTINUE_FALLBACK_MS);
}

function pipeBody(ex: Exchange, up: http.ClientRequest): void {
  if (ex.bodyPiped) return;
  ex.bodyPiped = true;
  const req = ex.req;
  req.pipe(up);
  if (req.headers['content-length'] === undefined) req.on('data', onRequestData);
}

function onUpstreamContinue(this: Tagged<http.ClientRequest>): void {
  const ex = this[kExchange]!;
  if (ex.upstream !== this || ex.finished) return;
  if (ex.continueTimer !== null) {
    clearTimeout(ex.continueTimer);
    ex.continueTimer = null;
  }
  if (ex.bodyPiped) return;
  ex.res.writeContinue();
  pipeBody(ex, this);
}

/** Counts a chunked body against the service's limit (a content-length one was checked up front). */
function onRequestData(this: Tagged<http.IncomingMessage>, chunk: Buffer): void {
  const ex = this[kExchange]!;
  ex.bodyBytes += chunk.length;
  if (ex.bodyBytes <= ex.service.settings.maxBodyBytes || ex.finished) return;
  this.off('data', onRequestData);
  const up = ex.upstream;
  ex.upstream = null;
  if (up !== null) {
    this.unpipe(up);
    up.destroy();
  }
  const res = ex.res;
  if (res.headersSent) {
    res.destroy();
    return;
  }
  res.setHeader('connection', 'close');
  sendError(res, bodyTooLarge(ex.service.settings.maxBodyBytes));
}

/** Request trailers arrive with the end of a chunked body: pass them on before it ends upstream. */
function onRequestEnd(this: Tagged<http.IncomingMessage>): void {
  const ex = this[kExchange]!;
  const up = ex.upstream;
  if (up === null || ex.finished || !hasKeys(this.trailers)) return;
  up.addTrailers(this.trailers);
}

/** 103 Early Hints goes to the client as on the fast path; other interim responses do not. */
function onUpstreamInformation(
  this: Tagged<http.ClientRequest>,
  info: http.InformationEvent,
): void {
  const ex = this[kExchange]!;
  if (ex.upstream !== this || ex.finished || info.statusCode !== RELAYED_INTERIM) return;
  const hints: Record<string, string | string[]> = {};
  const raw = info.rawHeaders;
  for (let i = 0; i + 1 < raw.length; i += 2) {
    const name = raw[i]!.toLowerCase();
    const prior = hints[name];
    hints[name] = prior === undefined ? raw[i + 1]! : [prior, raw[i + 1]!].flat();
  }
  // Node writes Early Hints only with a Link header (their point).
  if (hints.link !== undefined) ex.res.writeEarlyHints(hints);
}

function onUpstreamResponse(this: Tagged<http.ClientRequest>, upRes: http.IncomingMessage): void {
  const ex = this[kExchange]!;
  if (ex.upstream !== this || ex.finished) {
    upRes.resume();
    return;
  }
  ex.responded = true;
  if (ex.continueTimer !== null) {
    clearTimeout(ex.continueTimer);
    ex.continueTimer = null;
  }
  const res = ex.res;
  const head = responseHead(upRes.rawHeaders);
  const headers = head.list;
  if (ex.cookie !== null) headers.push('set-cookie', ex.cookie);
  // Checked here, not on arrival: a request that was in flight when the listener began to close
  // must still tell its client not to reuse the connection. A body the client was told to hold
  // back (100-continue never sent) is never read: the connection cannot be reused either.
  // (In the list, not via setHeader: that would turn writeHead into its slow per-header path.)
  if (ex.listener.closing || (ex.expectContinue && !ex.bodyPiped)) {
    headers.push('connection', 'close');
  }
  const hsts = ex.encrypted ? hstsValue(ex.service.settings.tls) : null;
  if (hsts !== null) headers.push('strict-transport-security', hsts);
  const status = upRes.statusCode ?? 502;
  try {
    writeHead(res, status, upRes.statusMessage, headers);
  } catch {
    // A header Node will not send (say, a bad character): a 502 beats crashing the data plane.
    upRes.resume();
    ex.failed = true;
    ex.fail = Fail.OTHER;
    sendError(res, failure('BAD_RESPONSE', 'invalid upstream response headers'));
    return;
  }
  ex.upstreamResponse = upRes;
  (upRes as Tagged<http.IncomingMessage>)[kExchange] = ex;
  upRes.on('close', onUpstreamResponseClose);
  if (head.chunked) upRes.on('end', onUpstreamResponseEnd);
  if (head.eventStream) startStream(ex, this);
  upRes.pipe(res);
}

/**
 * An SSE response: headers go out now (the first event may be far off), neither side times out
 * for idleness, and the exchange moves from "in flight" to the target's long connections.
 */
function startStream(ex: Exchange, up: http.ClientRequest): void {
  ex.headAt = performance.now();
  ex.res.flushHeaders();
  up.setTimeout(0);
  ex.req.socket.setTimeout(0);
  markLong(up.socket, true);
  ex.long = true;
  const target = ex.target;
  target.release();
  target.openLong(ex);
}

/** Response trailers (chunked responses only): added before pipe ends the client response. */
function onUpstreamResponseEnd(this: Tagged<http.IncomingMessage>): void {
  const ex = this[kExchange]!;
  if (ex.finished || ex.cutDone || !hasKeys(this.trailers)) return;
  ex.res.addTrailers(this.trailers);
}

function onUpstreamResponseClose(this: Tagged<http.IncomingMessage>): void {
  const ex = this[kExchange]!;
  if (this.complete) {
    // The request body was never sent (no 100 Continue): the upstream connection is not reusable.
    if (ex.expectContinue && !ex.bodyPiped) ex.upstream?.destroy();
    return;
  }
  // The app went away mid-body: the client must see a cut response, not a short "complete" one.
  if (ex.finished || ex.cutDone) return;
  ex.failed = true;
  ex.fail = Fail.RESET;
  ex.target.attemptFailed(Fail.RESET);
  ex.res.destroy();
}

function onUpstreamTimeout(this: Tagged<http.ClientRequest>): void {
  const err: NodeJS.ErrnoException = new Error('upstream timed out');
  err.code = TIMEOUT_CODE;
  this.destroy(err);
}

function onUpstreamError(this: Tagged<http.ClientRequest>, err: NodeJS.ErrnoException): void {
  const ex = this[kExchange]!;
  if (ex.upstream !== this || ex.finished || ex.cutDone) return;
  const kind = failKind(err, ex.connected);
  ex.target.attemptFailed(kind);
  if (ex.continueTimer !== null) {
    clearTimeout(ex.continueTimer);
    ex.continueTimer = null;
  }
  if (ex.bodyPiped) ex.req.unpipe(this);
  // Bytes after a complete response (say, a body on a 204): Node drops that connection; the
  // response itself is whole and goes out.
  if (ex.upstreamResponse?.complete === true) return;
  if (ex.responded || ex.res.headersSent) {
    // Part of the response is out: all that is left is to cut the client connection.
    ex.failed = true;
    ex.fail = kind;
    ex.res.destroy();
    return;
  }
  const next = retryTarget(ex, err);
  if (next !== undefined) {
    ex.service.events.retries++;
    ex.target.release();
    ex.bodyPiped = false;
    ex.proxy.dispatch(ex, next);
    return;
  }
  ex.upstream = null;
  ex.failed = true;
  ex.fail = kind;
  const res = ex.res;
  if (ex.listener.closing || ex.expectContinue) res.setHeader('connection', 'close');
  sendError(res, upstreamFailure(err, ex.connected, ex.proxy.limits));
}

/** The exchanges of a client connection still open, for when it closes. */
const kOpen = Symbol('open exchanges');
type WithOpen = Socket & { [kOpen]?: Set<Exchange> };

/**
 * A pipelined request's response waits in Node's queue without a socket, and gets no 'close'
 * when the client goes away: its upstream request would hold a pooled connection for ever (256
 * such requests and the backend's pool is full). The connection's own close ends them all.
 */
function trackOnSocket(ex: Exchange): void {
  const socket = ex.req.socket as WithOpen;
  let open = socket[kOpen];
  if (open === undefined) {
    const exchanges = new Set<Exchange>();
    open = socket[kOpen] = exchanges;
    socket.once('close', () => {
      for (const e of exchanges) onClientClose.call(e.res);
    });
  }
  open.add(ex);
}

function onClientClose(this: Tagged<http.ServerResponse>): void {
  const ex = this[kExchange]!;
  (ex.req.socket as WithOpen)[kOpen]?.delete(ex);
  if (ex.finished) return;
  ex.finished = true;
  if (ex.continueTimer !== null) clearTimeout(ex.continueTimer);
  const up = ex.upstream;
  // The client left before the response was complete: stop the upstream work too.
  if (up !== null && !this.writableFinished) up.destroy();
  const target = ex.target;
  const now = performance.now();
  let latency = now - ex.started;
  if (ex.long) {
    markLong(up?.socket, false);
    target.closeLong(ex);
    // A stream's duration says nothing about the app's speed: its time to the head does.
    latency = ex.headAt - ex.started;
  } else target.release();
  const status = this.headersSent ? this.statusCode : 0;
  if (!ex.forced) {
    target.counters.record(status, latency, ex.failed ? ex.fail || Fail.OTHER : Fail.NONE, now);
  }
  target.own.finish(status, latency);
}

/** writeHead, minus a Trailer header where Node cannot send trailers (HEAD, 204/304, HTTP/1.0). */
function writeHead(
  res: http.ServerResponse,
  status: number,
  message: string | undefined,
  headers: string[],
): void {
  try {
    res.writeHead(status, message, headers);
  } catch (err) {
    const rest = withoutTrailer(headers);
    if (rest === null) throw err;
    res.writeHead(status, message, rest);
  }
}

/** The list without its Trailer lines, or null when it has none. */
function withoutTrailer(headers: string[]): string[] | null {
  const rest: string[] = [];
  for (let i = 0; i < headers.length; i += 2) {
    const name = headers[i]!;
    if (name.length !== 7 || name.toLowerCase() !== 'trailer') rest.push(name, headers[i + 1]!);
  }
  return rest.length === headers.length ? null : rest;
}

/** A small text page naming hotswap and the reason; a response already under way is cut. */
export function sendError(res: http.ServerResponse, f: Failure): void {
  if (res.headersSent) {
    res.destroy();
    return;
  }
  const body = failureBody(f);
  res.writeHead(f.status, failureHeaders(f, body));
  res.end(body);
}

export function noService(host: string, path: string): Failure {
  return failure('NO_SERVICE', `no service for host "${host}" and path "${path}"`);
}

export function bodyTooLarge(max: number): Failure {
  return failure('BODY_TOO_LARGE', `request body larger than ${max} bytes`);
}

export const NO_BACKEND = failure('NO_BACKEND', 'no backend available');

/** The Host header without its port, lowercase ('' when missing). */
export function hostOf(req: http.IncomingMessage): string {
  return hostName(req.headers.host);
}

/** A Host header's value without its port, lowercase ('' when missing). */
export function hostName(host: string | undefined): string {
  if (host === undefined) return '';
  let end = host.length;
  if (host.startsWith('[')) {
    const close = host.indexOf(']');
    return (close < 0 ? host : host.slice(0, close + 1)).toLowerCase();
  }
  const colon = host.indexOf(':');
  if (colon >= 0) end = colon;
  return host.slice(0, end).toLowerCase();
}

function hasKeys(obj: object): boolean {
  for (const _ in obj) return true;
  return false;
}

/** Connections on which a request was refused for its framing: nothing more is read from them. */
const refused = new WeakSet<Socket>();

/**
 * framingProblem() of a request Node's parser read (it keeps only the first Host in headers).
 * A problem also marks the connection: requests Node parsed behind it are refused too (the
 * connection closes after the first 400, so they get no answer).
 */
export function fullPathFramingProblem(req: http.IncomingMessage): string | null {
  const problem = framingOf(req);
  if (problem !== null) refused.add(req.socket);
  return problem ?? (refused.has(req.socket) ? 'a request before this one was refused' : null);
}

function framingOf(req: http.IncomingMessage): string | null {
  const raw = req.rawHeaders;
  let hosts = 0;
  for (let i = 0; i < raw.length; i += 2) {
    const name = raw[i]!;
    if (name.length === 4 && name.toLowerCase() === 'host') hosts++;
  }
  return framingProblem({
    minor: req.httpVersionMajor === 1 ? req.httpVersionMinor : -1,
    transferEncoding: req.headers['transfer-encoding'] ?? null,
    hosts,
  });
}

/** Headers for the upstream request: end-to-end headers plus X-Forwarded-* and X-Request-Id. */
export function requestHeaders(
  req: http.IncomingMessage,
  override: OverrideConfig | null,
): http.OutgoingHttpHeaders {
  const src = req.headers;
  const out: http.OutgoingHttpHeaders = {};
  for (const key in src) {
    if (!HOP_REQUEST.has(key)) out[key] = src[key];
  }
  if (override !== null) stripOverride(out, override);
  const connection = src.connection;
  if (connection !== undefined && !isKeepAliveOrClose(connection)) dropListed(out, connection);
  // The proxy relays trailers, so it may ask for them on the client's behalf.
  const te = src.te;
  if (te !== undefined && te.includes('trailers')) out.te = 'trailers';
  const remote = req.socket.remoteAddress ?? '';
  const xff = src['x-forwarded-for'];
  out['x-forwarded-for'] = forwardedFor(xff === undefined ? undefined : String(xff), remote);
  out['x-forwarded-proto'] = forwardedProto(req.socket);
  if (src.host !== undefined) out['x-forwarded-host'] = src.host;
  else out.host = '';
  if (src['x-request-id'] === undefined) out['x-request-id'] = nextRequestId();
  return out;
}

/**
 * requestHeaders as the flat list http.request takes without a setHeader (name check, lowercase
 * map) per header. Values come from req.headers (already built for routing), so duplicates are
 * merged or dropped the way Node does for the request.
 */
export function requestHeaderList(
  req: http.IncomingMessage,
  override: OverrideConfig | null,
): string[] {
  const src = override === null ? req.headers : stripOverride({ ...req.headers }, override);
  const connection = src.connection;
  const listed =
    connection !== undefined && !isKeepAliveOrClose(connection) ? listedNames(connection) : null;
  const host = src.host;
  const out: string[] = [];
  const chunked = src['transfer-encoding'] !== undefined;
  for (const key in src) {
    if (HOP_REQUEST.has(key) || FORWARDED.has(key) || listed?.has(key) === true) continue;
    if (key === TRAILER && !chunked) continue;
    pushValue(out, key, src[key]);
  }
  // Replaced below only when there is a Host to take it from (as requestHeaders does).
  const fwdHost = src['x-forwarded-host'];
  if (host === undefined && fwdHost !== undefined && listed?.has('x-forwarded-host') !== true) {
    pushValue(out, 'x-forwarded-host', fwdHost);
  }
  // The proxy relays trailers, so it may ask for them on the client's behalf.
  const te = src.te;
  if (te !== undefined && te.includes('trailers')) out.push('te', 'trailers');
  const remote = req.socket.remoteAddress ?? '';
  const xff = src['x-forwarded-for'];
  out.push('x-forwarded-for', forwardedFor(xff === undefined ? undefined : String(xff), remote));
  out.push('x-forwarded-proto', forwardedProto(req.socket));
  if (host !== undefined) out.push('x-forwarded-host', host);
  // An HTTP/1.0 request may come without Host; HTTP/1.1 upstream needs one (empty: RFC 9112 3.2).
  else out.push('host', '');
  if (src['x-request-id'] === undefined) out.push('x-request-id', nextRequestId());
  return out;
}

/** The override's header and cookie out of a header object (they never go upstream). */
function stripOverride<T extends http.OutgoingHttpHeaders | http.IncomingHttpHeaders>(
  headers: T,
  override: OverrideConfig,
): T {
  if (override.header !== undefined) delete headers[override.header];
  const cookie = headers.cookie;
  if (override.cookie !== undefined && typeof cookie === 'string') {
    const kept = withoutCookie(cookie, override.cookie);
    if (kept === null) delete headers.cookie;
    else headers.cookie = kept;
  }
  return headers;
}

function pushValue(out: string[], key: string, value: string | string[] | undefined): void {
  if (value === undefined) return;
  if (typeof value === 'string') out.push(key, value);
  else for (const v of value) out.push(key, v);
}

/** The names a Connection header makes hop-by-hop (never the framing ones). */
function listedNames(connection: string): Set<string> {
  return connectionListed(connection, null) ?? new Set();
}

interface ResponseHead {
  /** End-to-end header lines, flat [name, value, …], names as the upstream spelled them. */
  list: string[];
  /** Chunked upstream body: trailers may follow. */
  chunked: boolean;
  /** An SSE stream (text/event-stream). */
  eventStream: boolean;
}

/**
 * The response header lines for the client, straight from rawHeaders: no header object is built
 * on the upstream response (Node builds it lazily), and writeHead takes the list as it is.
 */
function responseHead(raw: string[]): ResponseHead {
  const list: string[] = [];
  let chunked = false;
  let eventStream = false;
  let sawType = false;
  let listed: Set<string> | null = null;
  for (let i = 0; i < raw.length; i += 2) {
    const name = raw[i]!;
    const value = raw[i + 1]!;
    const key = name.toLowerCase();
    if (key === 'content-type' && !sawType) {
      // The first one decides, as in Node's header object (it drops later duplicates).
      sawType = true;
      eventStream = value.startsWith('text/event-stream');
    } else if (HOP_RESPONSE.has(key)) {
      if (key === 'transfer-encoding') chunked = true;
      else if (key === 'connection' && !isKeepAliveOrClose(value)) {
        listed = connectionListed(value, listed);
      }
      continue;
    }
    list.push(name, value);
  }
  return { list: listed === null ? list : withoutNames(list, listed), chunked, eventStream };
}

/** The list without the lines whose (lowercased) name is in `names`. */
function withoutNames(list: string[], names: Set<string>): string[] {
  const out: string[] = [];
  for (let i = 0; i < list.length; i += 2) {
    if (!names.has(list[i]!.toLowerCase())) out.push(list[i]!, list[i + 1]!);
  }
  return out;
}

function isKeepAliveOrClose(value: string): boolean {
  const v = value.trim().toLowerCase();
  return v === 'keep-alive' || v === 'close';
}

/** Headers named in Connection are hop-by-hop too (RFC 9110 7.6.1), but never the framing ones. */
export function dropListed(headers: http.OutgoingHttpHeaders, connection: string): void {
  for (const name of listedNames(connection)) delete headers[name];
}
