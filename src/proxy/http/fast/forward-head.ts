// The heads the fast path forwards, assembled from byte ranges of the heads it received: the
// client's header lines go upstream as the client spelled them, minus hop-by-hop ones, plus
// X-Forwarded-* and X-Request-Id; the upstream's lines go to the client minus hop-by-hop ones.
// Same rules as the full path's requestHeaderList / responseHead (http-proxy.ts).
import {
  hasToken,
  headerValue,
  lineEnd,
  lineStart,
  MAX_HEADERS,
  nameAt,
  valueEnd,
  valueStart,
  type Head,
  type RequestHead,
  type ResponseHead,
} from './http1.js';
import { withoutCookie } from '../cookies.js';
import { connectionListed, forwardedFor, FORWARDED, HOP_REQUEST, TRAILER } from '../policy.js';
import type { OverrideConfig } from '../../types.js';
import { REQUEST_ID_LENGTH, writeRequestId } from '../request-id.js';

/** Never forwarded upstream (hop-by-hop, or meant for this proxy, or set by it). */
const DROP_REQUEST = new Set([...HOP_REQUEST, ...FORWARDED, TRAILER]);

/** Never relayed to the client. Transfer-Encoding stays: the body is relayed as framed. */
const DROP_RESPONSE = new Set(['connection', 'keep-alive', 'proxy-connection', 'te', 'upgrade']);

/** Names the head's Connection headers make hop-by-hop (never the framing ones). */
function listedNames(head: Head): Set<string> | null {
  if (!head.connectionNames) return null;
  let listed: Set<string> | null = null;
  for (let k = 0; k < head.count; k++) {
    if (head.names[k] === 'connection') listed = connectionListed(headerValue(head, k), listed);
  }
  return listed;
}

/**
 * Byte ranges [start, end, start, end, …] of the head: its start line, then every header line
 * whose name is not dropped. Adjacent kept lines merge into one range. Of repeated
 * Content-Length lines (the parser let them through only with one value) the first is kept: the
 * proxy sends one framing.
 */
function keptRanges(head: Head, drop: Set<string>, override: OverrideConfig | null = null): number {
  const listed = listedNames(head);
  const forceHeader = override?.header;
  const cookies = override?.cookie !== undefined;
  const ranges = RANGES;
  ranges[0] = head.start;
  ranges[1] = head.startLineEnd;
  let n = 2;
  let lengths = 0;
  const names = head.names;
  for (let k = 0; k < head.count; k++) {
    const name = names[k];
    if (name !== undefined && drop.has(name)) continue;
    if (name === 'content-length' && lengths++ > 0) continue;
    // The override's header and the cookie lines (sent again without its cookie) stay here.
    if (override !== null && (nameAt(head, k) === forceHeader || (cookies && name === 'cookie'))) {
      continue;
    }
    if (listed !== null && listed.has(nameAt(head, k))) continue;
    const start = lineStart(head, k);
    if (ranges[n - 1] === start) ranges[n - 1] = lineEnd(head, k);
    else {
      ranges[n++] = start;
      ranges[n++] = lineEnd(head, k);
    }
  }
  return n;
}

/** keptRanges()'s output: heads are assembled one at a time, synchronously. */
const RANGES = new Int32Array(2 * (MAX_HEADERS + 1));

/**
 * Copies src[from, to) into out at `at`; returns the new offset. Short runs (most header lines)
 * go byte by byte: Buffer#copy's own checks cost more than the copy at that size.
 */
function put(out: Buffer, at: number, src: Uint8Array, from: number, to: number): number {
  if (to - from > 48) return at + (src as Buffer).copy(out, at, from, to);
  for (let i = from; i < to; i++) out[at++] = src[i]!;
  return at;
}

function rangesSize(n: number): number {
  let size = 0;
  for (let i = 0; i < n; i += 2) size += RANGES[i + 1]! - RANGES[i]!;
  return size;
}

function putRanges(out: Buffer, at: number, src: Buffer, n: number): number {
  for (let i = 0; i < n; i += 2) at = put(out, at, src, RANGES[i]!, RANGES[i + 1]!);
  return at;
}

const latin1 = (text: string): Buffer => Buffer.from(text, 'latin1');
const FORWARDED_HOST = latin1('x-forwarded-host: ');
const REQUEST_ID = latin1('x-request-id: ');
const CLOSE_LINE = latin1('connection: close\r\n');

function crlf(out: Buffer, at: number): number {
  out[at] = 13;
  out[at + 1] = 10;
  return at + 2;
}

/** forwardedForLines() by client address, per scheme: most connections come from few addresses. */
const FORWARDED_LINES = { http: new Map<string, Buffer>(), https: new Map<string, Buffer>() };
/** Addresses remembered per scheme; past this the cache starts over (a scan, many clients). */
const FORWARDED_LINES_MAX = 1024;

/**
 * The lines a connection adds to every request that has no X-Forwarded-For of its own. Shared
 * between connections from one address (only ever copied from), so a new connection builds no
 * string or Buffer for them.
 */
export function forwardedForLines(remote: string, proto: 'http' | 'https'): Buffer {
  const cache = FORWARDED_LINES[proto];
  let lines = cache.get(remote);
  if (lines === undefined) {
    lines = latin1(
      `x-forwarded-for: ${forwardedFor(undefined, remote)}\r\nx-forwarded-proto: ${proto}\r\n`,
    );
    if (cache.size >= FORWARDED_LINES_MAX) cache.clear();
    cache.set(remote, lines);
  }
  return lines;
}

/**
 * The request head for the upstream: the client's lines minus hop-by-hop ones, then
 * X-Forwarded-For/-Proto (`forwardedFor`, the connection's own, when the client sent none),
 * X-Forwarded-Host and X-Request-Id. Written as bytes: no string is built in the usual case.
 */
export function upstreamRequestHead(
  head: RequestHead,
  remote: string,
  forwardedFor: Buffer,
  override: OverrideConfig | null = null,
  proto: 'http' | 'https' = 'http',
): Buffer {
  const n = keptRanges(head, DROP_REQUEST, override);
  let cookie: string | null = null;
  let host = -1;
  let clientFwdHost = -1;
  let xff = 0;
  let requestId = false;
  let trailers = false;
  const names = head.names;
  for (let k = 0; k < head.count; k++) {
    switch (names[k]) {
      case 'host':
        if (host < 0) host = k;
        break;
      case 'x-forwarded-for':
        xff++;
        break;
      case 'x-forwarded-host':
        if (clientFwdHost < 0) clientFwdHost = k;
        break;
      case 'x-request-id':
        requestId = true;
        break;
      case 'te':
        trailers ||= hasToken(headerValue(head, k), 'trailers');
        break;
      case 'cookie':
        if (override?.cookie !== undefined) {
          const v = headerValue(head, k);
          cookie = cookie === null ? v : `${cookie}; ${v}`;
        }
        break;
    }
  }
  if (cookie !== null) cookie = withoutCookie(cookie, override!.cookie!);
  // The rare shapes (a client X-Forwarded-For, TE: trailers, a cookie line rewritten) go
  // through a string.
  const extra =
    xff > 0 || trailers || cookie !== null
      ? forwardedExtra(head, remote, trailers, cookie, proto)
      : null;
  const fwdHost = host >= 0 ? host : clientFwdHost;
  let size = rangesSize(n) + (extra === null ? forwardedFor.length : extra.length) + 2;
  if (fwdHost >= 0)
    size += FORWARDED_HOST.length + valueEnd(head, fwdHost) - valueStart(head, fwdHost) + 2;
  if (!requestId) size += REQUEST_ID.length + REQUEST_ID_LENGTH + 2;
  const out = Buffer.allocUnsafe(size);
  const src = head.buf;
  let at = putRanges(out, 0, src, n);
  if (extra === null) at = put(out, at, forwardedFor, 0, forwardedFor.length);
  else at += out.write(extra, at, 'latin1');
  if (fwdHost >= 0) {
    at = put(out, at, FORWARDED_HOST, 0, FORWARDED_HOST.length);
    at = crlf(out, put(out, at, src, valueStart(head, fwdHost), valueEnd(head, fwdHost)));
  }
  if (!requestId) {
    at = put(out, at, REQUEST_ID, 0, REQUEST_ID.length);
    at = crlf(out, writeRequestId(out, at));
  }
  crlf(out, at);
  return out;
}

/**
 * TE, Cookie and X-Forwarded-For/-Proto lines when the client sent X-Forwarded-For, asked for
 * trailers, or sent cookies that lost the override's.
 */
function forwardedExtra(
  head: RequestHead,
  remote: string,
  trailers: boolean,
  cookie: string | null,
  proto: 'http' | 'https',
): string {
  // The proxy relays trailers, so it may ask for them on the client's behalf.
  let extra = trailers ? 'te: trailers\r\n' : '';
  if (cookie !== null) extra += `cookie: ${cookie}\r\n`;
  let chain: string | undefined;
  for (let k = 0; k < head.count; k++) {
    if (head.names[k] !== 'x-forwarded-for') continue;
    const value = headerValue(head, k);
    chain = chain === undefined ? value : `${chain}, ${value}`;
  }
  extra += `x-forwarded-for: ${forwardedFor(chain, remote)}\r\nx-forwarded-proto: ${proto}\r\n`;
  return extra;
}

/**
 * The response head for the client, followed by `body` (the first body bytes, sent in the same
 * write). `setCookie` and `close` add lines; an HTTP/1.0 status line is answered as HTTP/1.1.
 */
export function clientResponseHead(
  head: ResponseHead,
  setCookie: string | null,
  close: boolean,
  body: Uint8Array | null,
  hsts: string | null = null,
): Buffer {
  const n = keptRanges(head, DROP_RESPONSE);
  let cookie = setCookie === null ? null : `set-cookie: ${setCookie}\r\n`;
  if (hsts !== null) cookie = `${cookie ?? ''}strict-transport-security: ${hsts}\r\n`;
  let size = rangesSize(n) + 2 + (body === null ? 0 : body.length);
  if (cookie !== null) size += cookie.length;
  if (close) size += CLOSE_LINE.length;
  const out = Buffer.allocUnsafe(size);
  let at = putRanges(out, 0, head.buf, n);
  if (cookie !== null) at += out.write(cookie, at, 'latin1');
  if (close) at = put(out, at, CLOSE_LINE, 0, CLOSE_LINE.length);
  at = crlf(out, at);
  if (body !== null) out.set(body, at);
  // The status line comes first in `out`.
  if (head.http10) out.write('1.1', 5, 'latin1');
  return out;
}
