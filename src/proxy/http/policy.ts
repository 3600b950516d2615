// What both HTTP paths (fast/ on raw sockets, node/http-proxy.ts and node/tunnel.ts through Node's
// http server) agree on: which headers are hop-by-hop, which requests may be retried, and the
// small error pages the proxy writes itself.

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

/** Methods a reset on a reused keep-alive connection may resend, when they carry no body. */
export const IDEMPOTENT_BODILESS: ReadonlySet<string> = new Set(['GET', 'HEAD', 'OPTIONS']);

export const STATUS_TEXT: Readonly<Record<number, string>> = {
  400: 'Bad Request',
  404: 'Not Found',
  413: 'Content Too Large',
  502: 'Bad Gateway',
  503: 'Service Unavailable',
  504: 'Gateway Timeout',
};

/** The body of the proxy's own error pages: hotswap, the reason, the status. */
export function errorBody(status: number, reason: string): string {
  return `hotswap: ${reason}\n${status} ${STATUS_TEXT[status] ?? ''}\n`;
}

/** A whole error response for a raw socket (the fast path, a failed upgrade). */
export function errorResponse(status: number, reason: string, close: boolean): Buffer {
  const body = errorBody(status, reason);
  const head =
    `HTTP/1.1 ${status} ${STATUS_TEXT[status] ?? ''}\r\ncontent-type: text/plain; charset=utf-8\r\n` +
    `content-length: ${Buffer.byteLength(body)}\r\ncache-control: no-store\r\n` +
    (close ? 'connection: close\r\n' : '') +
    '\r\n';
  return Buffer.from(head + body, 'utf8');
}
