import assert from 'node:assert/strict';
import { test } from 'node:test';
import {
  BAIL,
  bodiless,
  ChunkedScanner,
  findHeader,
  headerNames,
  hasToken,
  headerValue,
  lineEnd,
  lineStart,
  MAX_HEAD_BYTES,
  NEED_MORE,
  parseRequest,
  parseResponse,
  requestTarget,
  type RequestHead,
  type ResponseHead,
} from './http1.js';

const b = (s: string): Buffer => Buffer.from(s, 'latin1');

function req(s: string | Buffer, start = 0): RequestHead {
  const r = parseRequest(typeof s === 'string' ? b(s) : s, start);
  if (typeof r === 'number') assert.fail(`expected a head, got ${r}`);
  return r;
}

function res(s: string | Buffer, start = 0): ResponseHead {
  const r = parseResponse(typeof s === 'string' ? b(s) : s, start);
  if (typeof r === 'number') assert.fail(`expected a head, got ${r}`);
  return r;
}

const reqResult = (s: string, start = 0) => parseRequest(b(s), start);
const resResult = (s: string, start = 0) => parseResponse(b(s), start);

/** The exact bytes of header line k, CRLF included. */
function line(head: RequestHead | ResponseHead, k: number): string {
  return head.buf.toString('latin1', lineStart(head, k), lineEnd(head, k));
}

// ---------------------------------------------------------------- requests

test('constants: NEED_MORE and BAIL are distinct numbers, MAX_HEAD_BYTES is 16 KiB', () => {
  assert.equal(NEED_MORE, 0);
  assert.equal(BAIL, 1);
  assert.equal(MAX_HEAD_BYTES, 16384);
});

test('simple GET: method, target, offsets, lowercase names, trimmed values, exact lines', () => {
  const text =
    'GET /a/b?c=d HTTP/1.1\r\n' +
    'Host: example.com\r\n' +
    'X-Pad:  \t padded \t \r\n' +
    'ACCEPT:*/*\r\n' +
    'X-Empty:\r\n' +
    '\r\n';
  const h = req(text);
  assert.equal(h.method, 'GET');
  assert.equal(requestTarget(h), '/a/b?c=d');
  assert.equal(h.start, 0);
  assert.equal(h.end, text.length);
  assert.equal(h.startLineEnd, 'GET /a/b?c=d HTTP/1.1\r\n'.length);
  assert.deepEqual(headerNames(h), ['host', 'x-pad', 'accept', 'x-empty']);
  assert.equal(h.count, 4);
  assert.equal(headerValue(h, 0), 'example.com');
  assert.equal(headerValue(h, 1), 'padded');
  assert.equal(headerValue(h, 2), '*/*');
  assert.equal(headerValue(h, 3), '');
  assert.equal(line(h, 0), 'Host: example.com\r\n');
  assert.equal(line(h, 1), 'X-Pad:  \t padded \t \r\n');
  assert.equal(line(h, 2), 'ACCEPT:*/*\r\n');
  assert.equal(line(h, 3), 'X-Empty:\r\n');
  // Lines are contiguous: start line, then each header line, then the blank line.
  assert.equal(lineStart(h, 0), h.startLineEnd);
  for (let k = 1; k < h.count; k++) assert.equal(lineStart(h, k), lineEnd(h, k - 1));
  assert.equal(lineEnd(h, 3) + 2, h.end);
  assert.equal(h.contentLength, -1);
  assert.equal(h.close, false);
  assert.equal(h.buf.toString('latin1', 0, h.startLineEnd), 'GET /a/b?c=d HTTP/1.1\r\n');
});

test('findHeader returns the first match by lowercase name, undefined when absent', () => {
  const h = req('GET / HTTP/1.1\r\nX-A: one\r\nHost: h\r\nx-a: two\r\n\r\n');
  assert.equal(findHeader(h, 'x-a'), 'one');
  assert.equal(findHeader(h, 'host'), 'h');
  assert.equal(findHeader(h, 'missing'), undefined);
  // Names are stored lowercase, so an uppercase lookup finds nothing.
  assert.equal(findHeader(h, 'Host'), undefined);
});

test('request with no header lines at all', () => {
  const h = req('GET / HTTP/1.1\r\n\r\n');
  assert.equal(h.end, 18);
  assert.equal(h.startLineEnd, 16);
  assert.deepEqual(headerNames(h), []);
  assert.equal(h.count, 0);
});

test('head at a non-zero offset: the second of two pipelined requests', () => {
  const first = 'POST /up HTTP/1.1\r\nHost: a\r\nContent-Length: 5\r\n\r\nhello';
  const second = 'DELETE /item/7 HTTP/1.1\r\nHost: b\r\nConnection: close\r\n\r\n';
  const buf = b(first + second + 'GET /third');
  const h1 = req(buf);
  assert.equal(h1.method, 'POST');
  assert.equal(h1.contentLength, 5);
  assert.equal(h1.end, first.length - 5);
  const start = h1.end + h1.contentLength;
  const h2 = req(buf, start);
  assert.equal(h2.method, 'DELETE');
  assert.equal(requestTarget(h2), '/item/7');
  assert.equal(h2.start, start);
  assert.equal(h2.end, first.length + second.length);
  assert.equal(h2.startLineEnd, start + 'DELETE /item/7 HTTP/1.1\r\n'.length);
  assert.deepEqual(headerNames(h2), ['host', 'connection']);
  assert.equal(findHeader(h2, 'host'), 'b');
  assert.equal(line(h2, 0), 'Host: b\r\n');
  assert.equal(line(h2, 1), 'Connection: close\r\n');
  assert.equal(lineStart(h2, 0), h2.startLineEnd);
  assert.equal(h2.close, true);
  assert.equal(h2.contentLength, -1);
  // The third request is still incomplete.
  assert.equal(parseRequest(buf, h2.end), NEED_MORE);
});

test('NEED_MORE for every proper prefix of a head, a head once complete', () => {
  const text = 'GET /x HTTP/1.1\r\nHost: h\r\nContent-Length: 3\r\n\r\n';
  for (let n = 0; n < text.length; n++) {
    assert.equal(reqResult(text.slice(0, n)), NEED_MORE, `prefix of ${n} bytes`);
  }
  assert.equal(req(text).end, text.length);
  // Body bytes after the head do not matter.
  assert.equal(req(text + 'abc').end, text.length);
});

test('Content-Length: parsed, equal duplicates accepted, conflicts and junk bail', () => {
  assert.equal(req('POST / HTTP/1.1\r\nContent-Length: 42\r\n\r\n').contentLength, 42);
  assert.equal(req('POST / HTTP/1.1\r\nContent-Length: 0\r\n\r\n').contentLength, 0);
  assert.equal(req('POST / HTTP/1.1\r\ncontent-length:007\r\n\r\n').contentLength, 7);
  assert.equal(
    req('POST / HTTP/1.1\r\nContent-Length: 12\r\nHost: h\r\nContent-Length: 12\r\n\r\n')
      .contentLength,
    12,
  );
  assert.equal(
    req('POST / HTTP/1.1\r\nContent-Length: 999999999999999\r\n\r\n').contentLength,
    999999999999999,
  );
  assert.equal(
    reqResult('POST / HTTP/1.1\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\n'),
    BAIL,
  );
  assert.equal(
    reqResult('POST / HTTP/1.1\r\nContent-Length: 12\r\nContent-Length: 0\r\n\r\n'),
    BAIL,
  );
  for (const bad of ['abc', '-1', '+1', '1.5', '0x10', '1 2', '5, 5', '', '1000000000000000']) {
    assert.equal(reqResult(`POST / HTTP/1.1\r\nContent-Length: ${bad}\r\n\r\n`), BAIL, bad);
  }
});

test('requests the fast path does not handle bail', () => {
  const cases: Record<string, string> = {
    'transfer-encoding': 'POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n',
    'transfer-encoding after content-length':
      'POST / HTTP/1.1\r\nContent-Length: 3\r\nTransfer-Encoding: chunked\r\n\r\n',
    upgrade: 'GET / HTTP/1.1\r\nUpgrade: websocket\r\n\r\n',
    expect: 'POST / HTTP/1.1\r\nExpect: 100-continue\r\nContent-Length: 1\r\n\r\n',
    'connection: upgrade': 'GET / HTTP/1.1\r\nConnection: Upgrade\r\n\r\n',
    'connection: keep-alive, upgrade': 'GET / HTTP/1.1\r\nConnection: keep-alive, UPGRADE\r\n\r\n',
    'HTTP/1.0': 'GET / HTTP/1.0\r\nHost: h\r\n\r\n',
    'HTTP/2.0': 'GET / HTTP/2.0\r\n\r\n',
    'lowercase version': 'GET / http/1.1\r\n\r\n',
    'missing version': 'GET /\r\n\r\n',
    CONNECT: 'CONNECT example.com:443 HTTP/1.1\r\nHost: example.com:443\r\n\r\n',
    'CONNECT with a path-like target': 'CONNECT /x HTTP/1.1\r\n\r\n',
    'absolute-form target': 'GET http://example.com/ HTTP/1.1\r\nHost: example.com\r\n\r\n',
    'asterisk target': 'OPTIONS * HTTP/1.1\r\nHost: h\r\n\r\n',
    'obs-fold': 'GET / HTTP/1.1\r\nX-A: one\r\n two\r\n\r\n',
    'obs-fold with a tab': 'GET / HTTP/1.1\r\nX-A: one\r\n\ttwo\r\n\r\n',
    'bare LF between header lines': 'GET / HTTP/1.1\r\nHost: h\nX-A: 1\r\n\r\n',
    'bare LF after the request line': 'GET / HTTP/1.1\nHost: h\r\n\r\n',
    'space before colon': 'GET / HTTP/1.1\r\nHost : h\r\n\r\n',
    'tab before colon': 'GET / HTTP/1.1\r\nHost\t: h\r\n\r\n',
    'empty header name': 'GET / HTTP/1.1\r\n: h\r\n\r\n',
    'no colon': 'GET / HTTP/1.1\r\nHost h\r\n\r\n',
    'non-token in name': 'GET / HTTP/1.1\r\nHo(st: h\r\n\r\n',
    'NUL in value': 'GET / HTTP/1.1\r\nX-A: a\x00b\r\n\r\n',
    'escape char in value': 'GET / HTTP/1.1\r\nX-A: a\x1bb\r\n\r\n',
    'DEL in value': 'GET / HTTP/1.1\r\nX-A: a\x7fb\r\n\r\n',
    'lone CR in value': 'GET / HTTP/1.1\r\nX-A: a\rb\r\n\r\n',
    'double space after method': 'GET  / HTTP/1.1\r\n\r\n',
    'double space before version': 'GET /  HTTP/1.1\r\n\r\n',
    'empty method': ' / HTTP/1.1\r\n\r\n',
    'leading empty line': '\r\nGET / HTTP/1.1\r\n\r\n',
    'non-token method': 'G(T / HTTP/1.1\r\n\r\n',
    'trailing junk after version': 'GET / HTTP/1.1 \r\n\r\n',
  };
  for (const [name, text] of Object.entries(cases)) {
    assert.equal(reqResult(text), BAIL, name);
  }
});

test('short complete heads bail instead of throwing (no read past the buffer)', () => {
  for (const text of [
    'GET / X\r\n\r\n',
    'GET / HTTP/1.\r\n\r\n',
    'A / \r\n\r\n',
    'GET /\r\n\r\n',
  ]) {
    assert.equal(reqResult(text), BAIL, JSON.stringify(text));
    // Also at the end of a larger buffer, as a pipelined request.
    const lead = 'GET / HTTP/1.1\r\n\r\n';
    assert.equal(reqResult(lead + text, lead.length), BAIL, JSON.stringify(text));
  }
  for (const text of [
    '\r\n\r\n',
    'HTTP/1\r\n\r\n',
    'HTTP/1.1\r\n\r\n',
    'HTTP/1.1 \r\n\r\n',
    'HTTP/1.1 20\r\n\r\n',
  ]) {
    assert.equal(resResult(text), BAIL, JSON.stringify(text));
    const lead = 'HTTP/1.1 204 No Content\r\n\r\n';
    assert.equal(resResult(lead + text, lead.length), BAIL, JSON.stringify(text));
  }
  // The shortest valid response head still parses.
  const h = res('HTTP/1.1 200\r\n\r\n');
  assert.equal(h.status, 200);
  assert.equal(h.end, 16);
  assert.deepEqual(headerNames(h), []);
});

test('obs-text and tabs inside values are accepted, a normal value with them is kept', () => {
  const h = req('GET / HTTP/1.1\r\nX-A: caf\xe9\tb\r\n\r\n');
  assert.equal(headerValue(h, 0), 'caf\xe9\tb');
});

test('bare-LF heads bail instead of waiting for a CRLFCRLF that never comes', () => {
  assert.equal(reqResult('GET / HTTP/1.1\nHost: h\n\n'), BAIL);
  assert.equal(reqResult('GET / HTTP/1.1\nHost: h\n'), BAIL);
  assert.equal(reqResult('GET / HTTP/1.1\r\nHost: h\n'), BAIL);
  assert.equal(reqResult('\n'), BAIL);
  // A CRLF split across reads is still just incomplete.
  assert.equal(reqResult('GET / HTTP/1.1\r'), NEED_MORE);
  assert.equal(reqResult('GET / HTTP/1.1\r\nHost: h\r\n\r'), NEED_MORE);
  // Only bytes from `start` on count.
  const buf = b('x\nGET / HTTP/1.1\r\nHost: h\r\n');
  assert.equal(parseRequest(buf, 2), NEED_MORE);
  assert.equal(parseResponse(b('HTTP/1.1 200 OK\nServer: s\n\n'), 0), BAIL);
});

test('MAX_HEAD_BYTES: longer heads bail, complete or not; a head of exactly the limit parses', () => {
  const pre = 'GET / HTTP/1.1\r\nX-Big: ';
  const fill = (n: number) => 'a'.repeat(n);
  // Exactly MAX_HEAD_BYTES long, complete.
  const exact = pre + fill(MAX_HEAD_BYTES - pre.length - 4) + '\r\n\r\n';
  assert.equal(exact.length, MAX_HEAD_BYTES);
  assert.equal(req(exact).end, MAX_HEAD_BYTES);
  // One byte over, complete.
  const over = pre + fill(MAX_HEAD_BYTES - pre.length - 3) + '\r\n\r\n';
  assert.equal(over.length, MAX_HEAD_BYTES + 1);
  assert.equal(reqResult(over), BAIL);
  // Incomplete: NEED_MORE up to the limit, BAIL past it.
  const partial = pre + fill(MAX_HEAD_BYTES);
  assert.equal(reqResult(partial.slice(0, MAX_HEAD_BYTES)), NEED_MORE);
  assert.equal(reqResult(partial.slice(0, MAX_HEAD_BYTES + 1)), BAIL);
  // The limit is measured from `start`, not from the buffer's beginning.
  const lead = 'GET / HTTP/1.1\r\n\r\n';
  const buf = b(lead + exact);
  assert.equal(req(buf, lead.length).end, lead.length + MAX_HEAD_BYTES);
  assert.equal(parseRequest(b(lead + partial.slice(0, MAX_HEAD_BYTES)), lead.length), NEED_MORE);
});

test('Connection: close sets close; keep-alive alone does not', () => {
  assert.equal(req('GET / HTTP/1.1\r\nConnection: close\r\n\r\n').close, true);
  assert.equal(req('GET / HTTP/1.1\r\nConnection: CLOSE\r\n\r\n').close, true);
  assert.equal(req('GET / HTTP/1.1\r\nConnection: keep-alive, close\r\n\r\n').close, true);
  assert.equal(
    req('GET / HTTP/1.1\r\nConnection: keep-alive\r\nConnection: close\r\n\r\n').close,
    true,
  );
  assert.equal(req('GET / HTTP/1.1\r\nConnection: keep-alive\r\n\r\n').close, false);
  assert.equal(req('GET / HTTP/1.1\r\nConnection: closed\r\n\r\n').close, false);
  assert.equal(req('GET / HTTP/1.1\r\nX-Connection: close\r\n\r\n').close, false);
});

test('hasToken matches whole comma-separated tokens, ignoring case and spaces', () => {
  assert.equal(hasToken('close', 'close'), true);
  assert.equal(hasToken('Close', 'close'), true);
  assert.equal(hasToken('keep-alive, close', 'close'), true);
  assert.equal(hasToken('keep-alive ,\tClose ', 'close'), true);
  assert.equal(hasToken('keep-alive,close', 'keep-alive'), true);
  assert.equal(hasToken('closed', 'close'), false);
  assert.equal(hasToken('enclose, keep-alive', 'close'), false);
  assert.equal(hasToken('', 'close'), false);
});

// ---------------------------------------------------------------- responses

test('simple response: status, offsets, headers', () => {
  const text = 'HTTP/1.1 200 OK\r\nContent-Length: 5\r\nContent-Type: text/plain\r\n\r\nhello';
  const h = res(text);
  assert.equal(h.status, 200);
  assert.equal(h.http10, false);
  assert.equal(h.contentLength, 5);
  assert.equal(h.chunked, false);
  assert.equal(h.close, false);
  assert.equal(h.eventStream, false);
  assert.equal(h.startLineEnd, 'HTTP/1.1 200 OK\r\n'.length);
  assert.equal(h.end, text.length - 5);
  assert.deepEqual(headerNames(h), ['content-length', 'content-type']);
  assert.equal(line(h, 1), 'Content-Type: text/plain\r\n');
  assert.equal(findHeader(h, 'content-type'), 'text/plain');
});

test('response at a non-zero offset and NEED_MORE for partial heads', () => {
  const first = 'HTTP/1.1 204 No Content\r\n\r\n';
  const second = 'HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\n\r\n';
  const buf = b(first + second);
  const h1 = res(buf);
  assert.equal(h1.status, 204);
  assert.equal(h1.end, first.length);
  const h2 = res(buf, h1.end);
  assert.equal(h2.status, 404);
  assert.equal(h2.start, first.length);
  assert.equal(h2.startLineEnd, first.length + 'HTTP/1.1 404 Not Found\r\n'.length);
  assert.equal(h2.end, buf.length);
  assert.equal(line(h2, 0), 'Content-Length: 0\r\n');
  for (let n = 0; n < second.length; n++) {
    assert.equal(resResult(second.slice(0, n)), NEED_MORE, `prefix of ${n} bytes`);
  }
});

test('response status line: empty reason, odd reasons, and malformed lines', () => {
  const h = res('HTTP/1.1 200\r\nContent-Length: 0\r\n\r\n');
  assert.equal(h.status, 200);
  assert.equal(h.startLineEnd, 14);
  assert.equal(res('HTTP/1.1 200 \r\n\r\n').status, 200);
  assert.equal(res('HTTP/1.1 503 Service \xdanavailable\r\n\r\n').status, 503);
  assert.equal(res('HTTP/1.1 101 Switching Protocols\r\n\r\n').status, 101);
  assert.equal(res('HTTP/1.1 599 x\r\n\r\n').status, 599);
  const bad = [
    'HTTP/1.1 20 OK\r\n\r\n',
    'HTTP/1.1 2000 OK\r\n\r\n',
    'HTTP/1.1 099 x\r\n\r\n',
    'HTTP/1.1 600 x\r\n\r\n',
    'HTTP/1.1 2x0 OK\r\n\r\n',
    'HTTP/1.1  200 OK\r\n\r\n',
    'HTTP/1.2 200 OK\r\n\r\n',
    'HTTP/2 200 OK\r\n\r\n',
    'http/1.1 200 OK\r\n\r\n',
    'ICY 200 OK\r\n\r\n',
    'HTTP/1.1 200 O\x01K\r\n\r\n',
    'HTTP/1.1 200 OK\nServer: x\r\n\r\n',
    'HTTP/1.1 200 OK\r\nServer : x\r\n\r\n',
    'HTTP/1.1 200 OK\r\nX-A: a\r\n b\r\n\r\n',
    '\r\n\r\n',
  ];
  for (const text of bad) assert.equal(resResult(text), BAIL, JSON.stringify(text));
});

test('response framing: chunked, content-length and their conflicts', () => {
  const c = res('HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n');
  assert.equal(c.chunked, true);
  assert.equal(c.contentLength, -1);
  assert.equal(res('HTTP/1.1 200 OK\r\nTransfer-Encoding:  Chunked \r\n\r\n').chunked, true);
  const none = res('HTTP/1.1 200 OK\r\n\r\n');
  assert.equal(none.chunked, false);
  assert.equal(none.contentLength, -1);
  assert.equal(
    res('HTTP/1.1 200 OK\r\nContent-Length: 3\r\ncontent-length: 3\r\n\r\n').contentLength,
    3,
  );
  const bail = {
    'gzip, chunked': 'HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip, chunked\r\n\r\n',
    gzip: 'HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip\r\n\r\n',
    'chunked twice':
      'HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\nTransfer-Encoding: chunked\r\n\r\n',
    'chunked + content-length':
      'HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\nContent-Length: 5\r\n\r\n',
    'content-length + chunked':
      'HTTP/1.1 200 OK\r\nContent-Length: 5\r\nTransfer-Encoding: chunked\r\n\r\n',
    'two content-lengths': 'HTTP/1.1 200 OK\r\nContent-Length: 5\r\nContent-Length: 6\r\n\r\n',
    'non-digit content-length': 'HTTP/1.1 200 OK\r\nContent-Length: 5a\r\n\r\n',
  };
  for (const [name, text] of Object.entries(bail)) assert.equal(resResult(text), BAIL, name);
});

test('response close: HTTP/1.1 keeps alive unless told, HTTP/1.0 closes unless kept alive', () => {
  assert.equal(res('HTTP/1.1 200 OK\r\n\r\n').close, false);
  assert.equal(res('HTTP/1.1 200 OK\r\nConnection: close\r\n\r\n').close, true);
  assert.equal(res('HTTP/1.1 200 OK\r\nConnection: Keep-Alive, Close\r\n\r\n').close, true);
  // keep-alive does not undo anything on HTTP/1.1.
  assert.equal(res('HTTP/1.1 200 OK\r\nConnection: keep-alive\r\n\r\n').close, false);

  const h10 = res('HTTP/1.0 200 OK\r\nContent-Length: 2\r\n\r\n');
  assert.equal(h10.http10, true);
  assert.equal(h10.close, true);
  assert.equal(h10.status, 200);
  assert.equal(h10.contentLength, 2);
  const ka = res('HTTP/1.0 200 OK\r\nConnection: Keep-Alive\r\n\r\n');
  assert.equal(ka.http10, true);
  assert.equal(ka.close, false);
  assert.equal(res('HTTP/1.0 200 OK\r\nConnection: keep-alive, close\r\n\r\n').close, true);
  // A close anywhere wins over a keep-alive in another Connection line.
  assert.equal(
    res('HTTP/1.0 200 OK\r\nConnection: close\r\nConnection: keep-alive\r\n\r\n').close,
    true,
  );
  assert.equal(
    res('HTTP/1.0 200 OK\r\nConnection: keep-alive\r\nConnection: close\r\n\r\n').close,
    true,
  );
});

test('eventStream follows the first Content-Type only', () => {
  assert.equal(res('HTTP/1.1 200 OK\r\nContent-Type: text/event-stream\r\n\r\n').eventStream, true);
  assert.equal(
    res('HTTP/1.1 200 OK\r\nContent-Type: text/event-stream; charset=utf-8\r\n\r\n').eventStream,
    true,
  );
  assert.equal(res('HTTP/1.1 200 OK\r\nContent-Type: text/html\r\n\r\n').eventStream, false);
  assert.equal(
    res('HTTP/1.1 200 OK\r\nContent-Type: text/html\r\nContent-Type: text/event-stream\r\n\r\n')
      .eventStream,
    false,
  );
  assert.equal(
    res('HTTP/1.1 200 OK\r\nContent-Type: text/event-stream\r\nContent-Type: text/html\r\n\r\n')
      .eventStream,
    true,
  );
  assert.equal(res('HTTP/1.1 200 OK\r\n\r\n').eventStream, false);
});

test('response MAX_HEAD_BYTES: incomplete and complete heads past the limit bail', () => {
  const pre = 'HTTP/1.1 200 OK\r\nSet-Cookie: ';
  const exact = pre + 'c'.repeat(MAX_HEAD_BYTES - pre.length - 4) + '\r\n\r\n';
  assert.equal(exact.length, MAX_HEAD_BYTES);
  assert.equal(res(exact).end, MAX_HEAD_BYTES);
  const over = pre + 'c'.repeat(MAX_HEAD_BYTES - pre.length - 3) + '\r\n\r\n';
  assert.equal(resResult(over), BAIL);
  assert.equal(resResult(over.slice(0, MAX_HEAD_BYTES)), NEED_MORE);
  assert.equal(resResult(over.slice(0, MAX_HEAD_BYTES + 1)), BAIL);
});

test('bodiless: HEAD, 1xx, 204 and 304 carry no body', () => {
  assert.equal(bodiless('HEAD', 200), true);
  assert.equal(bodiless('HEAD', 404), true);
  assert.equal(bodiless('GET', 204), true);
  assert.equal(bodiless('GET', 304), true);
  assert.equal(bodiless('GET', 100), true);
  assert.equal(bodiless('GET', 103), true);
  assert.equal(bodiless('GET', 199), true);
  assert.equal(bodiless('GET', 200), false);
  assert.equal(bodiless('POST', 201), false);
  assert.equal(bodiless('GET', 205), false);
  assert.equal(bodiless('GET', 404), false);
  assert.equal(bodiless('head', 200), false);
});

// ---------------------------------------------------------------- chunked bodies

const BODY = '5\r\nhello\r\n1a\r\nabcdefghijklmnopqrstuvwxyz\r\n0\r\n\r\n';

test('ChunkedScanner: a whole body in one feed ends just past the final CRLF', () => {
  const s = new ChunkedScanner();
  assert.equal(s.done(), false);
  const buf = b(BODY);
  assert.equal(s.feed(buf, 0, buf.length), BODY.length);
  assert.equal(s.done(), true);
  // Only the terminating chunk.
  const t = new ChunkedScanner();
  assert.equal(t.feed(b('0\r\n\r\n'), 0, 5), 5);
  assert.equal(t.done(), true);
});

test('ChunkedScanner: byte-by-byte feeding finds the end at the last byte', () => {
  const buf = b(BODY);
  const s = new ChunkedScanner();
  for (let i = 0; i < buf.length - 1; i++) {
    assert.equal(s.feed(buf, i, i + 1), -1, `byte ${i}`);
    assert.equal(s.done(), false);
  }
  assert.equal(s.feed(buf, buf.length - 1, buf.length), buf.length);
  assert.equal(s.done(), true);
});

test('ChunkedScanner: any split into two feeds gives the same end', () => {
  const text = '3;a=b\r\nabc\r\n10\r\n0123456789abcdef\r\n0\r\nX-T: 1\r\n\r\n';
  const buf = b(text);
  for (let cut = 0; cut <= buf.length; cut++) {
    const s = new ChunkedScanner();
    const r1 = s.feed(buf, 0, cut);
    if (cut === buf.length) {
      assert.equal(r1, buf.length);
    } else {
      assert.equal(r1, -1, `cut ${cut}`);
      assert.equal(s.feed(buf, cut, buf.length), buf.length, `cut ${cut}`);
    }
  }
});

test('ChunkedScanner: chunk extensions and uppercase hex', () => {
  const text =
    '5;name=value;q="x y"\r\nhello\r\nA ; ext\r\n0123456789\r\nf\tx\r\n' +
    'z'.repeat(15) +
    '\r\n0;last\r\n\r\n';
  const buf = b(text);
  const s = new ChunkedScanner();
  assert.equal(s.feed(buf, 0, buf.length), buf.length);
  assert.equal(s.done(), true);
});

test('ChunkedScanner: trailers are consumed up to the empty line', () => {
  const text = '2\r\nhi\r\n0\r\nX-Checksum: abc\r\nX-Other: 1\r\n\r\n';
  const buf = b(text);
  const s = new ChunkedScanner();
  assert.equal(s.feed(buf, 0, buf.length), buf.length);
  // Byte by byte as well, through the trailers.
  const t = new ChunkedScanner();
  let end = -1;
  for (let i = 0; i < buf.length && end === -1; i++) end = t.feed(buf, i, i + 1);
  assert.equal(end, buf.length);
  // Stopping right before the final CRLF is not the end.
  const u = new ChunkedScanner();
  assert.equal(u.feed(buf, 0, buf.length - 2), -1);
  assert.equal(u.done(), false);
});

test('ChunkedScanner: atBoundary is true between chunks and false inside one', () => {
  const buf = b('5\r\nhello\r\n3\r\nabc\r\n0\r\n\r\n');
  const s = new ChunkedScanner();
  assert.equal(s.atBoundary(), true); // before anything
  const boundaries: number[] = [];
  for (let i = 0; i < buf.length; i++) {
    s.feed(buf, i, i + 1);
    if (s.atBoundary()) boundaries.push(i + 1);
  }
  // After "5\r\nhello\r\n" (10) and after "3\r\nabc\r\n" (18); never inside a chunk, in the
  // terminating chunk, or once done.
  assert.deepEqual(boundaries, [10, 18]);
  assert.equal(s.done(), true);
  assert.equal(s.atBoundary(), false);

  const m = new ChunkedScanner();
  assert.equal(m.feed(buf, 0, 5), -1); // "5\r\nhe": mid-data
  assert.equal(m.atBoundary(), false);
  assert.equal(m.feed(buf, 5, 10), -1); // "llo\r\n"
  assert.equal(m.atBoundary(), true);
  assert.equal(m.feed(buf, 10, 11), -1); // "3": a size digit has been read
  assert.equal(m.atBoundary(), false);
});

test('ChunkedScanner: framing errors return -2', () => {
  const bad: Record<string, string> = {
    'non-hex size': 'g\r\n',
    'empty size': '\r\n',
    'size then junk': '5x\r\nhello\r\n0\r\n\r\n',
    'missing CRLF after data': '5\r\nhelloX\r\n0\r\n\r\n',
    'LF without CR after data': '5\r\nhello\n0\r\n\r\n',
    'CR without LF after data': '5\r\nhello\rX',
    'CR without LF after size': '5\rXhello',
    'bare LF after size': '5\nhello\r\n',
    'bare LF in extension': '5;x\nhello\r\n',
    'bare LF in a trailer': '0\r\nX-T: 1\n\r\n',
    'CR without LF ending a trailer': '0\r\nX-T: 1\rX',
    'CR without LF at the very end': '0\r\n\rX',
    'bare LF as the final line': '0\r\n\n',
    'too many size digits': '1000000000000\r\n',
    'negative size': '-5\r\n',
  };
  for (const [name, text] of Object.entries(bad)) {
    const buf = b(text);
    assert.equal(new ChunkedScanner().feed(buf, 0, buf.length), -2, name);
  }
  // Twelve hex digits is still a size (the data just has not arrived).
  const big = b('00000000000a\r\n');
  assert.equal(new ChunkedScanner().feed(big, 0, big.length), -1);
  // Feeding past the end of a finished message is an error, not a second message.
  const s = new ChunkedScanner();
  const done = b('0\r\n\r\n0\r\n\r\n');
  assert.equal(s.feed(done, 0, 5), 5);
  assert.equal(s.feed(done, 5, 10), -2);
});

test('ChunkedScanner: a framing error is found byte by byte at the offending byte', () => {
  const buf = b('5\r\nhelloX\r\n');
  const s = new ChunkedScanner();
  for (let i = 0; i < 8; i++) assert.equal(s.feed(buf, i, i + 1), -1, `byte ${i}`);
  assert.equal(s.feed(buf, 8, 9), -2);
});

test('ChunkedScanner: bytes after the message are not consumed', () => {
  const body = '4\r\nwxyz\r\n0\r\n\r\n';
  const next = 'HTTP/1.1 200 OK\r\n\r\n';
  const buf = b('HEAD' + body + next);
  const s = new ChunkedScanner();
  // Feeding from a non-zero offset returns an absolute offset.
  assert.equal(s.feed(buf, 4, buf.length), 4 + body.length);
  assert.equal(buf.toString('latin1', 4 + body.length), next);
  // With trailers too.
  const withTrailer = b('0\r\nA: b\r\n\r\nGET / HTTP/1.1\r\n\r\n');
  assert.equal(new ChunkedScanner().feed(withTrailer, 0, withTrailer.length), 11);
  // `to` bounds the scan: bytes beyond it are never looked at.
  const t = new ChunkedScanner();
  assert.equal(t.feed(buf, 4, 4 + body.length - 1), -1);
  assert.equal(t.feed(buf, 4 + body.length - 1, buf.length), 4 + body.length);
});

test('ChunkedScanner: data bytes that look like framing are treated as data', () => {
  const data = '0\r\n\r\n';
  const text = `5\r\n${data}\r\n0\r\n\r\n`;
  const buf = b(text);
  assert.equal(new ChunkedScanner().feed(buf, 0, buf.length), buf.length);
  // Works on a plain Uint8Array too.
  const u8 = new Uint8Array(buf);
  assert.equal(new ChunkedScanner().feed(u8, 0, u8.length), u8.length);
});
