// The fast path of the HTTP proxy: plain HTTP/1.1 exchanges relayed on raw sockets, because
// Node's http server and client cost three times what the relaying itself does (bench/README.md:
// the profile). A client connection starts here; a request this path does not take (upgrade,
// Expect, a chunked request body, HTTP/1.0, anything odd or malformed — see http1.ts) hands the
// connection, with the bytes already read, to the full path (http-proxy.ts through Node's http
// server) for the rest of its life. Both paths follow the same rules: routing, sticky and forced
// revisions, X-Forwarded-*, retries, timeouts, drain, stats.
//
// Bodies are relayed as they come, framing untouched (a chunked response, trailers included,
// passes byte for byte; the framing is only followed to know where the response ends), with
// backpressure both ways. One exchange at a time per client connection: pipelined requests wait
// in the buffer. Handlers are bound once per connection, so a request allocates its exchange,
// its parsed head and the two heads it writes.
//
// Retries as on the full path: the request goes to another backend once when the connection
// failed before it was up (nothing was sent: a body waits for the connect), or when a bodiless
// GET/HEAD/OPTIONS met a reset on a reused connection before any response byte.
import { challengeAnswer, challengeResponse, type Challenges } from '../../tls/redirect.js';
import type { IncomingHttpHeaders } from 'node:http';
import type { Socket } from 'node:net';
import { performance } from 'node:perf_hooks';
import { owned, type ClientIO, type DirectReader } from './direct-io.js';
import { clientResponseHead, forwardedForLines, upstreamRequestHead } from './forward-head.js';
import {
  BAD_RESPONSE_CODE,
  failure,
  failureResponse,
  forwardedProto,
  framingProblem,
  hstsValue,
  movableOnLoss,
  RELAYED_INTERIM,
  shouldRetry,
  upstreamFailure,
  type Failure,
} from '../policy.js';
import {
  bodyTooLarge,
  hostName,
  NO_BACKEND,
  noService,
  type HttpProxy,
} from '../node/http-proxy.js';
import { CONNECT_TIMEOUT_CODE, failKind, TIMEOUT_CODE } from '../../core/stats.js';
import {
  BAIL,
  NEED_MORE,
  ChunkedScanner,
  HeadScratch,
  bodiless,
  findHeader,
  headerValue,
  nameAt,
  parseRequest,
  parseResponse,
  requestTarget,
  type RequestHead,
  type ResponseHead,
} from './http1.js';
import type { LongConnection } from '../../core/long.js';
import type { ServiceRuntime } from '../../core/service.js';
import { Fail, type FailKind } from '../../core/stats.js';
import type { SilenceWatch, Watched } from '../../core/silence.js';
import type { Target } from '../../core/targets.js';
import type { UpstreamConn, UpstreamUser } from './upstream-pool.js';

/** What the fast path needs from the listener a connection arrived on. */
export interface FastListener {
  closing: boolean;
  single: ServiceRuntime | null;
  routeTo(host: string, path: string): ServiceRuntime | undefined;
  /** ACME HTTP-01 answers set by the daemon (usually none). */
  readonly challenges: Challenges;
  /** Gives the connection to Node's http server (the full path): `socket` is paused and holds
   * the unread bytes. */
  readonly toFullPath: (socket: Socket) => void;
  forget(conn: FastConnection): void;
}

export interface ClientTimeouts {
  /** Idle between requests. */
  keepAliveMs: number;
  /** Silence while a head is half received. */
  headersMs: number;
  /** Silence (no byte either way) during an exchange, long responses excepted. */
  idleMs: number;
}

const LAST_CHUNK = Buffer.from('0\r\n\r\n', 'latin1');

/**
 * Request heads are parsed and dispatched in one synchronous step too (the exchange keeps the
 * head's scalar fields — method, close, contentLength — never its lines or names, which like its
 * bytes are only valid during that step): one scratch serves every connection. A scratch of its
 * own per connection was 2 KB of typed array allocated and freed per new connection.
 */
const REQUEST_SCRATCH = new HeadScratch();

/** Response heads are parsed and relayed in one synchronous step: one scratch serves them all. */
const RESPONSE_SCRATCH = new HeadScratch();

const enum Framing {
  NONE,
  LENGTH,
  CHUNKED,
  /** Delimited by the upstream closing the connection. */
  CLOSE,
}

function codedError(message: string, code: string): NodeJS.ErrnoException {
  const err: NodeJS.ErrnoException = new Error(message);
  err.code = code;
  return err;
}

/** One client connection on the fast path. */
export class FastConnection implements Watched, DirectReader {
  /** Bytes received and not consumed yet (a partial head, or pipelined requests). */
  buf: Buffer | null = null;
  ex: FastExchange | null = null;
  readonly remote: string;
  /** X-Forwarded-Proto of this connection's requests: https on a TLS listener. */
  readonly proto: 'http' | 'https';
  /** The X-Forwarded-For/-Proto lines of this connection's requests (when they bring none). */
  readonly forwardedFor: Buffer;
  active = true;
  silentMs = 0;
  /** The client sent FIN: nothing more is served. */
  private halfClosed = false;
  /** When the partial head in `buf` began arriving (Date.now()), 0 when there is none. */
  private headSince = 0;
  /** Ending or closed: nothing more is read into exchanges. */
  done = false;
  constructor(
    readonly listener: FastListener,
    /** The connection's bytes: a plain socket's handle or streams, or a TLS handle. */
    readonly io: ClientIO,
    readonly proxy: HttpProxy,
    private readonly timeouts: ClientTimeouts,
    private readonly watch: SilenceWatch,
  ) {
    this.remote = io.remoteAddress;
    this.proto = forwardedProto(io);
    this.forwardedFor = forwardedForLines(this.remote, this.proto);
    watch.add(this);
    io.attach(this);
  }

  /** Idle: no exchange and no partial request (a listener's sweep may close it). */
  get idle(): boolean {
    return this.ex === null && this.buf === null;
  }

  onBytes(chunk: Buffer): void {
    this.active = true;
    const ex = this.ex;
    if (ex !== null && ex.bodyLeft > 0) {
      const n = Math.min(ex.bodyLeft, chunk.length);
      ex.sendBody(owned(n === chunk.length ? chunk : chunk.subarray(0, n)));
      if (n === chunk.length) return;
      chunk = chunk.subarray(n);
    }
    this.buf = this.buf === null ? chunk : Buffer.concat([this.buf, chunk]);
    // A pipelined request waits for the current exchange.
    if (this.ex === null) this.next();
    else this.io.pause();
    // A partial or pipelined request outlives this read.
    if (this.buf !== null) this.buf = owned(this.buf);
  }

  /** Starts exchanges for the buffered requests, one at a time. */
  private next(): void {
    while (this.ex === null && this.buf !== null && !this.done) {
      const buf = this.buf;
      const head = parseRequest(buf, 0, REQUEST_SCRATCH);
      if (head === NEED_MORE) {
        this.slowHead();
        // The rest of the head is still to come: reading may have been paused while the
        // exchange before it ran (a pipelined head that arrived in pieces).
        if (!this.done) this.io.resume();
        return;
      }
      this.headSince = 0;
      if (head === BAIL) {
        this.toFullPath();
        return;
      }
      this.buf = head.end < buf.length ? buf.subarray(head.end) : null;
      this.begin(head);
    }
    if (this.ex === null && !this.done) this.io.resume();
  }

  /**
   * A head that trickles in counts from its first byte (as Node's headersTimeout does): a client
   * sending a byte now and then is never silent, so the silence check alone would not end it.
   */
  private slowHead(): void {
    const now = Date.now();
    if (this.headSince === 0) this.headSince = now;
    else if (now - this.headSince >= this.timeouts.headersMs) this.io.destroy();
  }

  private begin(head: RequestHead): void {
    // The fast path takes HTTP/1.1 without Transfer-Encoding only: the Host count is what's left.
    const problem = framingProblem({ minor: 1, transferEncoding: null, hosts: head.hosts });
    if (problem !== null) {
      this.reply(head, failure('BAD_REQUEST', problem), true);
      return;
    }
    const listener = this.listener;
    if (listener.challenges.size > 0) {
      const answer = challengeAnswer(listener.challenges, requestTarget(head));
      if (answer !== undefined) {
        this.io.write(challengeResponse(answer));
        this.end();
        return;
      }
    }
    const service =
      listener.single ?? listener.routeTo(hostName(findHeader(head, 'host')), requestTarget(head));
    if (service === undefined) {
      const host = hostName(findHeader(head, 'host'));
      this.reply(head, noService(host, requestTarget(head)), false);
      return;
    }
    const max = service.settings.maxBodyBytes;
    if (head.contentLength > max) {
      this.reply(head, bodyTooLarge(max), true);
      return;
    }
    const target = service.pick(pickHeaders(head, service));
    if (target === undefined) {
      service.unavailable++;
      this.reply(head, NO_BACKEND, false);
      return;
    }
    const ex = new FastExchange(this, service, head);
    this.ex = ex;
    ex.dispatch(target);
    this.takeBody(ex);
  }

  /** Body bytes that came with the head go to the exchange; the rest is read as it comes. */
  private takeBody(ex: FastExchange): void {
    const buf = this.buf;
    if (buf !== null && ex.bodyLeft > 0) {
      const n = Math.min(ex.bodyLeft, buf.length);
      this.buf = n === buf.length ? null : buf.subarray(n);
      ex.sendBody(owned(n === buf.length ? buf : buf.subarray(0, n)));
    }
    // Reading may have been paused while the exchange before this one ran (this request was
    // pipelined behind it): the body still to come must be read, unless the exchange holds it.
    if (ex.bodyLeft > 0 && !ex.bodyHeld && this.ex === ex) this.io.resume();
  }

  /** A response of the proxy's own; a body the client still sends means closing after it. */
  private reply(head: RequestHead, f: Failure, close: boolean): void {
    const mustClose = close || head.close || head.contentLength > 0 || this.listener.closing;
    this.io.write(failureResponse(f, mustClose));
    if (mustClose) this.end();
  }

  /** The exchange is over: next request, or close when it had to. */
  exchangeDone(close: boolean): void {
    this.ex = null;
    if (close || this.halfClosed) {
      this.end();
      return;
    }
    if (this.buf !== null) this.next();
    else this.io.resume();
  }

  private end(): void {
    this.done = true;
    this.buf = null;
    this.io.end();
  }

  /** Hands the connection and its unread bytes to Node's http server. */
  private toFullPath(): void {
    const buf = this.buf;
    this.buf = null;
    this.done = true;
    this.watch.delete(this);
    this.listener.forget(this);
    this.io.handOff(buf, this.listener.toFullPath);
  }

  /** The client sent FIN. As Node's http server does (httpAllowHalfOpen off), the exchange
   * under way is abandoned and the connection ends. */
  onEof(): void {
    this.halfClosed = true;
    if (this.ex === null) this.end();
    else this.ex.clientGone();
  }

  onClose(): void {
    this.done = true;
    this.watch.delete(this);
    this.listener.forget(this);
    this.ex?.clientGone();
  }

  onDrain(): void {
    this.ex?.clientDrained();
  }

  silent(silentMs: number): void {
    const ex = this.ex;
    let limit: number;
    if (ex !== null) {
      if (ex.long) return;
      limit = this.timeouts.idleMs;
    } else limit = this.buf === null ? this.timeouts.keepAliveMs : this.timeouts.headersMs;
    if (silentMs >= limit) this.io.destroy();
  }

  /** Closes the connection if it is idle (a closing listener's sweep). */
  closeIfIdle(): void {
    if (this.idle) this.io.destroy();
  }
}

/** Headers service.pick() reads: the cookies, the sticky and the override headers. */
function pickHeaders(head: RequestHead, service: ServiceRuntime): IncomingHttpHeaders | null {
  const { sticky, override } = service.settings;
  if (sticky === null && override === null) return null;
  const headers: IncomingHttpHeaders = {};
  const names = head.names;
  const stickyHeader = sticky?.header;
  const forceHeader = override?.header;
  const named = stickyHeader !== undefined || forceHeader !== undefined;
  for (let k = 0; k < head.count; k++) {
    const name = names[k] ?? (named ? nameAt(head, k) : undefined);
    if (name === undefined) continue;
    if (name === 'cookie') {
      const v = headerValue(head, k);
      headers.cookie = headers.cookie === undefined ? v : `${headers.cookie}; ${v}`;
    } else if (name === forceHeader || name === stickyHeader) {
      headers[name] ??= headerValue(head, k);
    }
  }
  return headers;
}

/** One request and its response, possibly over two attempts. */
class FastExchange implements UpstreamUser, LongConnection {
  readonly kind = 'sse' as const;
  readonly started = performance.now();
  readonly upHead: Buffer;
  readonly cookie: string | null;
  target!: Target;
  up: UpstreamConn | null = null;
  attempts = 0;
  /** The current attempt's connection is up: from here on, bytes may have been sent. */
  connected = false;
  reused = false;
  /** Request body bytes the client has yet to send. */
  bodyLeft: number;
  /** Body received while the connection was not up yet. */
  private queue: Buffer[] | null = null;
  /** Body bytes wait (no connection yet, or the upstream's buffer is full): reading is paused. */
  bodyHeld = false;
  private connectTimer: NodeJS.Timeout | null = null;
  /** Bytes of a response head not complete yet. */
  private rbuf: Buffer | null = null;
  /** The response head went to the client. */
  responded = false;
  status = 0;
  private framing = Framing.NONE;
  private left = 0;
  private scanner: ChunkedScanner | null = null;
  private reusable = false;
  private closeClient = false;
  long = false;
  private headAt = 0;
  finished = false;
  private fail: FailKind = Fail.NONE;
  /** Its revision was forced (routing.override): not counted in the revision's numbers. */
  private readonly forced: boolean;

  constructor(
    readonly conn: FastConnection,
    readonly service: ServiceRuntime,
    readonly head: RequestHead,
  ) {
    this.cookie = service.newCookie;
    this.forced = service.forced;
    this.bodyLeft = head.contentLength > 0 ? head.contentLength : 0;
    this.upHead = upstreamRequestHead(
      head,
      conn.remote,
      conn.forwardedFor,
      service.settings.override,
      conn.proto,
    );
  }

  dispatch(target: Target): void {
    target.acquire();
    this.target = target;
    this.attempts++;
    this.connected = false;
    const up = target.pool.take(this);
    this.up = up;
    this.reused = up.reused;
    // Before the connect this only queues in the socket: nothing is sent if the connect fails.
    up.active = true;
    up.write(this.upHead);
    if (up.connected) this.upConnected();
    else this.armConnectTimeout(up);
  }

  private armConnectTimeout(up: UpstreamConn): void {
    const ms = this.conn.proxy.connectTimeoutMs;
    this.connectTimer = setTimeout(() => {
      up.socket.destroy(codedError(`connect timed out after ${ms} ms`, CONNECT_TIMEOUT_CODE));
    }, ms);
  }

  private clearConnectTimer(): void {
    if (this.connectTimer !== null) {
      clearTimeout(this.connectTimer);
      this.connectTimer = null;
    }
  }

  upConnected(): void {
    this.clearConnectTimer();
    this.connected = true;
    this.target.connected();
    const queue = this.queue;
    if (queue === null) return;
    this.queue = null;
    const up = this.up!;
    let ok = true;
    for (const chunk of queue) ok = up.write(chunk);
    if (!ok) return;
    this.bodyHeld = false;
    this.conn.io.resume();
  }

  sendBody(chunk: Buffer): void {
    this.bodyLeft -= chunk.length;
    const up = this.up;
    if (up === null || this.finished) return;
    if (!this.connected) {
      (this.queue ??= []).push(chunk);
      this.holdBody();
      return;
    }
    up.active = true;
    if (!up.write(chunk)) this.holdBody();
  }

  private holdBody(): void {
    this.bodyHeld = true;
    this.conn.io.pause();
  }

  upDrain(): void {
    this.bodyHeld = false;
    if (this.bodyLeft > 0) this.conn.io.resume();
  }

  clientDrained(): void {
    if (this.responded) this.up?.socket.resume();
  }

  /** Writes to the client; a full buffer pauses the upstream until the client drains. */
  private toClient(bytes: Uint8Array): void {
    const conn = this.conn;
    if (conn.io.destroyed) return;
    conn.active = true;
    if (!conn.io.write(bytes)) this.up?.socket.pause();
  }

  upData(chunk: Buffer): void {
    if (this.responded) this.relayBody(chunk);
    else this.headBytes(chunk);
  }

  /** Response bytes before the final head: interim (1xx) heads, then the head. */
  private headBytes(chunk: Buffer): void {
    const buf = this.rbuf === null ? chunk : Buffer.concat([this.rbuf, chunk]);
    this.rbuf = null;
    let at = 0;
    for (;;) {
      const head = parseResponse(buf, at, RESPONSE_SCRATCH);
      if (head === NEED_MORE) {
        // Kept past this call: copied out of the shared read buffer.
        this.rbuf = Buffer.from(buf.subarray(at));
        return;
      }
      if (head === BAIL || head.status === 101) {
        this.upFailed(codedError('invalid upstream response', BAD_RESPONSE_CODE));
        return;
      }
      if (head.status >= 200) {
        this.startResponse(head, buf);
        return;
      }
      if (head.status === RELAYED_INTERIM) this.toClient(Buffer.from(buf.subarray(at, head.end)));
      at = head.end;
    }
  }

  private startResponse(head: ResponseHead, buf: Buffer): void {
    this.responded = true;
    this.status = head.status;
    this.clearConnectTimer();
    if (bodiless(this.head.method, head.status)) this.framing = Framing.NONE;
    else if (head.chunked) {
      this.framing = Framing.CHUNKED;
      this.scanner = new ChunkedScanner();
    } else if (head.contentLength >= 0) {
      this.framing = Framing.LENGTH;
      this.left = head.contentLength;
    } else this.framing = Framing.CLOSE;
    this.reusable = !head.close && this.framing !== Framing.CLOSE;
    // Decided with the head: a request still sending its body, or a listener going away.
    this.closeClient =
      this.head.close ||
      this.conn.listener.closing ||
      this.framing === Framing.CLOSE ||
      this.bodyLeft > 0;
    const end = this.bodyEnd(buf, head.end);
    if (end === -2) {
      this.upFailed(codedError('invalid chunked framing', BAD_RESPONSE_CODE));
      return;
    }
    const body = end > head.end ? buf.subarray(head.end, end) : null;
    const hsts = this.conn.proto === 'https' ? hstsValue(this.service.settings.tls) : null;
    this.toClient(clientResponseHead(head, this.cookie, this.closeClient, body, hsts));
    if (this.complete(end, buf.length)) return;
    if (head.eventStream) this.startStream();
  }

  /** Past the response's bytes in buf[from…]: its end offset, or buf.length; -2 on bad framing. */
  private bodyEnd(buf: Buffer, from: number): number {
    switch (this.framing) {
      case Framing.NONE:
        return from;
      case Framing.LENGTH: {
        const n = Math.min(this.left, buf.length - from);
        this.left -= n;
        return from + n;
      }
      case Framing.CHUNKED: {
        const end = this.scanner!.feed(buf, from, buf.length);
        return end === -1 ? buf.length : end;
      }
      case Framing.CLOSE:
        return buf.length;
    }
  }

  private responseDone(): boolean {
    switch (this.framing) {
      case Framing.NONE:
        return true;
      case Framing.LENGTH:
        return this.left === 0;
      case Framing.CHUNKED:
        return this.scanner!.done();
      case Framing.CLOSE:
        return false;
    }
  }

  /** Finishes the exchange when the response is all relayed; true then. */
  private complete(end: number, length: number): boolean {
    if (!this.responseDone()) return false;
    // Bytes past the response's end break the framing: that connection is not reused.
    if (end < length) this.reusable = false;
    this.finish();
    return true;
  }

  private relayBody(chunk: Buffer): void {
    const end = this.bodyEnd(chunk, 0);
    if (end === -2) {
      this.upFailed(codedError('invalid chunked framing', BAD_RESPONSE_CODE));
      return;
    }
    // A copy: the socket may keep it queued after this call, and chunk's memory is reused.
    if (end > 0) this.toClient(Buffer.from(chunk.subarray(0, end)));
    this.complete(end, chunk.length);
  }

  /** An SSE response: a long connection of the target now, no longer a request in flight. */
  private startStream(): void {
    this.headAt = performance.now();
    this.long = true;
    this.up!.long = true;
    const target = this.target;
    target.release();
    target.openLong(this);
  }

  upEnd(): void {
    if (this.responded && this.framing === Framing.CLOSE) {
      this.reusable = false;
      this.finish();
      return;
    }
    this.upFailed(codedError('upstream closed the connection', 'ECONNRESET'));
  }

  upClose(err: NodeJS.ErrnoException | null): void {
    this.up = null;
    if (this.finished) return;
    this.upFailed(err ?? codedError('upstream closed the connection', 'ECONNRESET'));
  }

  upSilent(silentMs: number): void {
    if (this.long || silentMs < this.conn.proxy.timeoutMs) return;
    this.up?.socket.destroy(codedError('upstream timed out', TIMEOUT_CODE));
  }

  /** The attempt failed: retry once when safe, else answer 502/504 or cut a response under way. */
  private upFailed(err: NodeJS.ErrnoException): void {
    if (this.finished) return;
    this.clearConnectTimer();
    const up = this.up;
    this.up = null;
    up?.release(false);
    const kind = failKind(err, this.connected);
    this.target.attemptFailed(kind);
    this.fail = kind;
    if (this.responded) {
      // Part of the response is out: all that is left is to cut the client connection (and not
      // to start a pipelined request on it first).
      this.closeClient = true;
      this.finish();
      this.conn.io.destroy();
      return;
    }
    const next = this.retryTarget(err);
    if (next !== undefined) {
      this.service.events.retries++;
      this.fail = Fail.NONE;
      this.target.release();
      this.dispatch(next);
      return;
    }
    const f = upstreamFailure(err, this.connected, this.conn.proxy.limits);
    this.status = f.status;
    this.closeClient = this.head.close || this.conn.listener.closing || this.bodyLeft > 0;
    this.toClient(failureResponse(f, this.closeClient));
    this.finish();
  }

  private retryTarget(err: NodeJS.ErrnoException): Target | undefined {
    const retry = shouldRetry({
      attempts: this.attempts,
      connected: this.connected,
      reused: this.reused,
      method: this.head.method,
      hasBody: this.head.contentLength > 0,
      code: err.code,
    });
    return retry ? this.service.balancer.pick(new Set([this.target.id])) : undefined;
  }

  movableOnLoss(): boolean {
    return movableOnLoss(this.head.method, this.head.contentLength > 0, this.responded);
  }

  /** The client went away before the exchange ended: the upstream work stops too. */
  clientGone(): void {
    if (this.finished) return;
    const up = this.up;
    this.up = null;
    up?.release(false);
    this.finish();
  }

  /** LongConnection: a drain or shutdown ends the SSE stream, cleanly where the framing allows. */
  cut(): void {
    if (this.finished) return;
    const up = this.up;
    this.up = null;
    up?.release(false);
    if (this.framing === Framing.CHUNKED && this.scanner!.atBoundary()) {
      this.conn.io.write(LAST_CHUNK);
      this.finish();
    } else if (this.framing === Framing.CLOSE) {
      this.closeClient = true;
      this.finish();
    } else {
      this.closeClient = true;
      this.finish();
      this.conn.io.destroy();
    }
  }

  /** Records the exchange, gives the connection back (or closes it), frees the client. */
  private finish(): void {
    if (this.finished) return;
    this.finished = true;
    this.clearConnectTimer();
    const up = this.up;
    this.up = null;
    if (up !== null) up.release(this.reusable && this.bodyLeft === 0);
    const target = this.target;
    const now = performance.now();
    let latency = now - this.started;
    if (this.long) {
      target.closeLong(this);
      // A stream's duration says nothing about the app's speed: its time to the head does.
      latency = this.headAt - this.started;
    } else target.release();
    const failed = this.fail !== Fail.NONE;
    const status = this.responded || failed ? this.status : 0;
    if (!this.forced) target.counters.record(status, latency, this.fail, now);
    target.own.finish(status, latency);
    if (this.conn.ex === this) this.conn.exchangeDone(this.closeClient || this.bodyLeft > 0);
  }
}
