// The one HTTP policy of the proxy: what both engines (fast/ on raw sockets, node/http-proxy.ts and
// node/tunnel.ts through Node's http server) ask, so they cannot drift apart: which headers are
// hop-by-hop, how a request's framing is judged, what X-Forwarded-* say, whether a failed
// attempt is retried, and which status, page and error code a failure gets. (The request id is
// request-id.ts's; forcing a revision is override.ts's.) One conformance suite runs both engines
// against these rules (conformance.test.ts).

import { CONNECT_TIMEOUT_CODE, TIMEOUT_CODE } from '../core/stats.js';
import type { TlsConfig } from '../types.js';

export { CONNECT_TIMEOUT_CODE, TIMEOUT_CODE };

// Hop-by-hop headers (RFC 9110 7.6.1), plus two meant for this proxy alone: `expect` (forwarded
// explicitly for 100-continue) and `proxy-authorization`. transfer-encoding is not here: the full
// path lets Node re-frame request bodies, the fast path takes no request with it.
export const HOP_REQUEST: ReadonlySet<string> = new Set([
  'connection',
  'keep-alive',
  'proxy-connection',
  'te',
  'upgrade',
  'expect',
  'proxy-authorization',
]);

/**
 * Never dropped because a Connection header names them: the message's framing and its host are
 * the proxy's to decide, not the client's (RFC 9110 7.6.1 forbids listing them). Upgrade stays
 * for the upgrade path, which forwards it explicitly.
 */
const NEVER_LISTED: ReadonlySet<string> = new Set([
  'content-length',
  'transfer-encoding',
  'host',
  'upgrade',
]);

/**
 * The header names a Connection value makes hop-by-hop (besides close and keep-alive), added to
 * `into` (a new set when null); the framing headers are never among them.
 */
export function connectionListed(value: string, into: Set<string> | null): Set<string> | null {
  let names = into;
  for (const part of value.split(',')) {
    const name = part.trim().toLowerCase();
    if (name === '' || name === 'close' || name === 'keep-alive' || NEVER_LISTED.has(name)) {
      continue;
    }
    (names ??= new Set()).add(name);
  }
  return names;
}

/** What the proxy knows of a request head's framing, from either parser. */
export interface RequestFraming {
  /** HTTP/1.x minor version; anything else (Node reads a line without a version as 0.9): -1. */
  minor: number;
  /** The Transfer-Encoding value (several lines joined by commas), or null. */
  transferEncoding: string | null;
  /** Host header lines. */
  hosts: number;
}

/**
 * Why a request that parsed must still be refused with 400 and the connection closed, or null.
 * Both paths ask this one function (their parsers already refuse CL with TE, two different
 * Content-Lengths, obs-fold and bare CR/LF).
 */
export function framingProblem(f: RequestFraming): string | null {
  if (f.minor !== 0 && f.minor !== 1) return 'not an HTTP/1.0 or HTTP/1.1 request';
  const te = f.transferEncoding;
  if (te !== null) {
    // RFC 9112 6.1: Transfer-Encoding in HTTP/1.0 means faulty framing; in a request, chunked
    // must be the final coding or the body's length cannot be known.
    if (f.minor === 0) return 'Transfer-Encoding in an HTTP/1.0 request';
    if (!endsInChunked(te)) return `Transfer-Encoding "${te.slice(0, 40)}" does not end in chunked`;
  }
  // RFC 9112 3.2: exactly one Host in HTTP/1.1 (at most one in 1.0).
  if (f.hosts > 1) return 'more than one Host header';
  if (f.hosts === 0 && f.minor === 1) return 'no Host header';
  return null;
}

/** The coding list ends in one "chunked", which appears nowhere else in it. */
function endsInChunked(value: string): boolean {
  const codings = value.split(',').map((c) => c.trim().toLowerCase());
  return codings.at(-1) === 'chunked' && codings.indexOf('chunked') === codings.length - 1;
}

/**
 * Announces trailers, which only a chunked body can carry: dropped from a request without one
 * (Node refuses to send it otherwise; the fast path takes no chunked request, so it always drops it).
 */
export const TRAILER = 'trailer';

/**
 * The one interim response relayed to clients (both paths): 103 Early Hints. 100 Continue is
 * the proxy's own business (Expect), 101 only ends an upgrade, 102 is obsolete.
 */
export const RELAYED_INTERIM = 103;

/** Set by the proxy itself, whatever the client sent (X-Forwarded-For is extended). */
export const FORWARDED: ReadonlySet<string> = new Set([
  'x-forwarded-for',
  'x-forwarded-proto',
  'x-forwarded-host',
]);

/** X-Forwarded-Proto: what the client spoke to the proxy (never what it claims). */
export function forwardedProto(socket: object): 'http' | 'https' {
  return (socket as { encrypted?: boolean }).encrypted === true ? 'https' : 'http';
}

/** Strict-Transport-Security for a TLS service's responses, or null. */
export function hstsValue(tls: TlsConfig | null): string | null {
  const age = tls?.hstsMaxAge ?? 0;
  if (age <= 0) return null;
  return `max-age=${age}${tls!.hstsIncludeSubDomains === true ? '; includeSubDomains' : ''}`;
}

/** X-Forwarded-For: the client's own chain (when it sent one) extended with its address. */
export function forwardedFor(chain: string | undefined, remote: string): string {
  return chain === undefined ? remote : `${chain}, ${remote}`;
}

/** Methods a reset on a reused keep-alive connection may resend, when they carry no body. */
const IDEMPOTENT_BODILESS: ReadonlySet<string> = new Set(['GET', 'HEAD', 'OPTIONS']);

/** What shouldRetry() weighs about a failed attempt. */
export interface FailedAttempt {
  /** Attempts made so far, this one included. */
  attempts: number;
  /** The upstream connection was up: bytes of the request may have reached the app. */
  connected: boolean;
  /** The connection came from the keep-alive pool. */
  reused: boolean;
  method: string;
  hasBody: boolean;
  /** The error's code (ECONNRESET, EPIPE, …). */
  code: string | undefined;
}

/**
 * The code of an exchange cut because its instance was found unreachable (ejected after failed
 * connects): a node cut off keeps its kept-alive connections open but answers nothing on them.
 */
export const LOST_CODE = 'HOTSWAP_UPSTREAM_LOST';

/**
 * Whether an exchange still waiting on an instance found unreachable is cut and moved to
 * another: the requests a reset may resend (idempotent, bodiless), before any byte of the answer.
 */
export function movableOnLoss(method: string, hasBody: boolean, responded: boolean): boolean {
  return !responded && !hasBody && IDEMPOTENT_BODILESS.has(method);
}

/**
 * Once, on another instance: a request whose connection failed before any byte was sent, or an
 * idempotent bodiless one that met a reset on a reused keep-alive connection (the app closed it
 * as the proxy reused it) or was cut from an instance found unreachable. Nothing else: the app
 * may have acted on it.
 */
export function shouldRetry(a: FailedAttempt): boolean {
  if (a.attempts > 1) return false;
  if (!a.connected) return true;
  if (a.hasBody || !IDEMPOTENT_BODILESS.has(a.method)) return false;
  if (a.code === LOST_CODE) return true;
  return a.reused && (a.code === 'ECONNRESET' || a.code === 'EPIPE');
}

/** Every answer the proxy writes itself: its status, by a stable code. */
const FAILURE_STATUS = {
  BAD_REQUEST: 400,
  NO_SERVICE: 404,
  BODY_TOO_LARGE: 413,
  BAD_GATEWAY: 502,
  BAD_RESPONSE: 502,
  NO_BACKEND: 503,
  UPSTREAM_TIMEOUT: 504,
  CONNECT_TIMEOUT: 504,
} as const;

export type FailureCode = keyof typeof FAILURE_STATUS;

/** An answer of the proxy's own: the page says the reason; X-Hotswap-Error carries the code. */
export interface Failure {
  code: FailureCode;
  status: number;
  reason: string;
}

export function failure(code: FailureCode, reason: string): Failure {
  return { code, status: FAILURE_STATUS[code], reason };
}

/** The answer to a failed upstream attempt that is not retried. */
export function upstreamFailure(
  err: { code?: string; message: string },
  connected: boolean,
  limits: { upstreamMs: number; connectMs: number },
): Failure {
  if (err.code === TIMEOUT_CODE) {
    return failure(
      'UPSTREAM_TIMEOUT',
      `upstream timed out (no response within ${limits.upstreamMs} ms)`,
    );
  }
  if (err.code === CONNECT_TIMEOUT_CODE) {
    return failure('CONNECT_TIMEOUT', `upstream connection timed out (${limits.connectMs} ms)`);
  }
  if (err.code === BAD_RESPONSE_CODE) return failure('BAD_RESPONSE', err.message);
  if (err.code === LOST_CODE) return failure('BAD_GATEWAY', err.message);
  const phase = connected ? 'request' : 'connection';
  return failure('BAD_GATEWAY', `upstream ${phase} failed (${err.code ?? err.message})`);
}

/** The code of an upstream response the proxy cannot relay (bad framing, bad headers). */
export const BAD_RESPONSE_CODE = 'HOTSWAP_BAD_RESPONSE';

const STATUS_TEXT: Readonly<Record<number, string>> = {
  400: 'Bad Request',
  404: 'Not Found',
  413: 'Content Too Large',
  502: 'Bad Gateway',
  503: 'Service Unavailable',
  504: 'Gateway Timeout',
};

/** The header that names the failure's code on every page the proxy writes. */
export const ERROR_HEADER = 'x-hotswap-error';

/** The body of the proxy's own pages: hotswap, the reason, the status. */
export function failureBody(f: Failure): string {
  return `hotswap: ${f.reason}\n${f.status} ${STATUS_TEXT[f.status] ?? ''}\n`;
}

/** The headers of those pages, as Node's writeHead takes them. */
export function failureHeaders(f: Failure, body: string): Record<string, string | number> {
  return {
    'content-type': 'text/plain; charset=utf-8',
    'content-length': Buffer.byteLength(body),
    'cache-control': 'no-store',
    [ERROR_HEADER]: `HOTSWAP_${f.code}`,
  };
}

/** A whole page for a raw socket (the fast path, a failed upgrade). */
export function failureResponse(f: Failure, close: boolean): Buffer {
  const body = failureBody(f);
  let head = `HTTP/1.1 ${f.status} ${STATUS_TEXT[f.status] ?? ''}\r\n`;
  for (const [name, value] of Object.entries(failureHeaders(f, body)))
    head += `${name}: ${value}\r\n`;
  if (close) head += 'connection: close\r\n';
  return Buffer.from(`${head}\r\n${body}`, 'utf8');
}
