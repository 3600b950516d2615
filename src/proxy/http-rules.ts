// What both HTTP paths (fast-http.ts on raw sockets, http-proxy.ts and upgrade.ts through Node's
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

/** Set by the proxy itself, whatever the client sent (X-Forwarded-For is extended). */
export const FORWARDED: ReadonlySet<string> = new Set([
  'x-forwarded-for',
  'x-forwarded-proto',
  'x-forwarded-host',
]);

/** Methods a reset on a reused keep-alive connection may resend, when they carry no body. */
export const IDEMPOTENT_BODILESS: ReadonlySet<string> = new Set(['GET', 'HEAD', 'OPTIONS']);

export const STATUS_TEXT: Readonly<Record<number, string>> = {
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
