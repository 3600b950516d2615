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
  type Head,
  type RequestHead,
  type ResponseHead,
} from './http1.js';
import { nextRequestId } from './request-id.js';

/** Never forwarded upstream (hop-by-hop, or meant for this proxy, or set by it). */
const DROP_REQUEST = new Set([
  'connection',
  'keep-alive',
  'proxy-connection',
  'te',
  'upgrade',
  'expect',
  'proxy-authorization',
  'x-forwarded-for',
  'x-forwarded-proto',
  'x-forwarded-host',
]);

/** Never relayed to the client. Transfer-Encoding stays: the body is relayed as framed. */
const DROP_RESPONSE = new Set(['connection', 'keep-alive', 'proxy-connection', 'te', 'upgrade']);

/** Names a Connection header lists (they are hop-by-hop too), minus host and upgrade. */
function listedNames(head: Head): Set<string> | null {
  if (!head.connectionNames) return null;
  let listed: Set<string> | null = null;
  for (let k = 0; k < head.count; k++) {
    if (head.names[k] !== 'connection') continue;
    for (const part of headerValue(head, k).split(',')) {
      const name = part.trim().toLowerCase();
      if (name === '' || name === 'close' || name === 'keep-alive') continue;
      if (name === 'host' || name === 'upgrade') continue;
      (listed ??= new Set()).add(name);
    }
  }
  return listed;
}

/**
 * Byte ranges [start, end, start, end, …] of the head: its start line, then every header line
 * whose name is not dropped. Adjacent kept lines merge into one range.
 */
function keptRanges(head: Head, drop: Set<string>): number {
  const listed = listedNames(head);
  const ranges = RANGES;
  ranges[0] = head.start;
  ranges[1] = head.startLineEnd;
  let n = 2;
  const names = head.names;
  for (let k = 0; k < head.count; k++) {
    const name = names[k];
    if (name !== undefined && drop.has(name)) continue;
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

/** The first `n` RANGES of `head.buf`, then `extra` (latin1), then `tail` bytes, in one buffer. */
function assemble(head: Head, n: number, extra: string, tail: Uint8Array | null): Buffer {
  const ranges = RANGES;
  let size = extra.length + (tail === null ? 0 : tail.length);
  for (let i = 0; i < n; i += 2) size += ranges[i + 1]! - ranges[i]!;
  const out = Buffer.allocUnsafe(size);
  let at = 0;
  const src = head.buf;
  for (let i = 0; i < n; i += 2) at += src.copy(out, at, ranges[i], ranges[i + 1]);
  at += out.write(extra, at, 'latin1');
  if (tail !== null) out.set(tail, at);
  return out;
}

/** The request head for the upstream; `remote` is the client's address. */
export function upstreamRequestHead(head: RequestHead, remote: string): Buffer {
  const ranges = keptRanges(head, DROP_REQUEST);
  let host: string | undefined;
  let xff: string | undefined;
  let clientFwdHost: string | undefined;
  let requestId = false;
  let trailers = false;
  const names = head.names;
  for (let k = 0; k < head.count; k++) {
    switch (names[k]) {
      case 'host':
        host ??= headerValue(head, k);
        break;
      case 'x-forwarded-for': {
        const v = headerValue(head, k);
        xff = xff === undefined ? v : `${xff}, ${v}`;
        break;
      }
      case 'x-forwarded-host':
        clientFwdHost ??= headerValue(head, k);
        break;
      case 'x-request-id':
        requestId = true;
        break;
      case 'te':
        trailers ||= hasToken(headerValue(head, k), 'trailers');
        break;
    }
  }
  // The proxy relays trailers, so it may ask for them on the client's behalf.
  let extra = trailers ? 'te: trailers\r\n' : '';
  extra += `x-forwarded-for: ${xff === undefined ? remote : `${xff}, ${remote}`}\r\n`;
  extra += 'x-forwarded-proto: http\r\n';
  const fwdHost = host ?? clientFwdHost;
  if (fwdHost !== undefined) extra += `x-forwarded-host: ${fwdHost}\r\n`;
  if (!requestId) extra += `x-request-id: ${nextRequestId()}\r\n`;
  return assemble(head, ranges, `${extra}\r\n`, null);
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
): Buffer {
  const ranges = keptRanges(head, DROP_RESPONSE);
  let extra = setCookie === null ? '' : `set-cookie: ${setCookie}\r\n`;
  if (close) extra += 'connection: close\r\n';
  const out = assemble(head, ranges, `${extra}\r\n`, body);
  // The status line comes first in `out`.
  if (head.http10) out.write('1.1', 5, 'latin1');
  return out;
}

/** A small text response from the proxy itself (404, 413, 502, 503, 504). */
export function localResponse(
  status: number,
  text: string,
  reason: string,
  close: boolean,
): Buffer {
  const body = `hotswap: ${reason}\n${status} ${text}\n`;
  const length = Buffer.byteLength(body);
  const head =
    `HTTP/1.1 ${status} ${text}\r\ncontent-type: text/plain; charset=utf-8\r\n` +
    `content-length: ${length}\r\ncache-control: no-store\r\n` +
    (close ? 'connection: close\r\n' : '') +
    '\r\n';
  return Buffer.from(head + body, 'utf8');
}
