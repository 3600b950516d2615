// A strict HTTP/1.1 message parser (RFC 9112), written apart from the proxy's own parsers so the
// smuggling fuzzer can judge them: the client's bytes are read with it to know which requests an
// unambiguous reading contains, and the upstream's bytes to check what the proxy really sent.
// Anything a lenient parser might read two ways is an error here: obs-fold, bare CR or LF,
// whitespace before a colon, Content-Length with anything but digits or with two values,
// Content-Length with Transfer-Encoding, a coding list that does not end in one "chunked",
// Transfer-Encoding in HTTP/1.0, a missing or repeated Host in HTTP/1.1.

export interface StrictRequest {
  method: string;
  target: string;
  version: '1.0' | '1.1';
  /** [lowercase name, value] in order. */
  headers: Array<[string, string]>;
  /** The body as the framing delimits it (chunked: decoded). */
  body: Buffer;
  chunked: boolean;
  /** Content-Length header lines (the proxy should send at most one). */
  lengthLines: number;
  /** Well framed but to be refused (400): no Host or several (RFC 9112 3.2). */
  refuse: string | null;
}

export interface StrictParse {
  requests: StrictRequest[];
  /** clean: all bytes read; incomplete: a message was cut; error: bytes no strict reading takes. */
  end: 'clean' | 'incomplete' | 'error';
  /** With `error`: what was wrong. */
  reason?: string;
  /** The connection must close after the last request (Connection: close, HTTP/1.0). */
  closed: boolean;
  /** Bytes taken by the requests read. */
  consumed: number;
}

const TCHAR = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/;
const TARGET = /^[\x21-\x7e]+$/;
const FIELD_VALUE = /^[\t\x20-\x7e\x80-\xff]*$/;
const MAX_CHUNK_HEX = 15;

class Invalid extends Error {}
class Incomplete extends Error {}

/** Parses every request in `bytes`, stopping at the first one a strict reading refuses. */
export function parseRequests(bytes: Buffer): StrictParse {
  const requests: StrictRequest[] = [];
  let at = 0;
  while (at < bytes.length) {
    at = pastEmptyLines(bytes, at);
    if (at === bytes.length) break;
    try {
      const { request, end } = parseOne(bytes, at);
      requests.push(request);
      at = end;
      if (closesAfter(request)) return { requests, end: 'clean', closed: true, consumed: at };
    } catch (err) {
      if (err instanceof Incomplete) {
        return { requests, end: 'incomplete', closed: false, consumed: at };
      }
      if (err instanceof Invalid) {
        return { requests, end: 'error', reason: err.message, closed: true, consumed: at };
      }
      throw err;
    }
  }
  return { requests, end: 'clean', closed: false, consumed: at };
}

/**
 * RFC 9112 2.2: empty lines before a request line may be skipped; Node's parser skips any CR
 * and LF bytes there. The proxy writes its own request line, so this cannot reach the upstream.
 */
function pastEmptyLines(bytes: Buffer, from: number): number {
  let at = from;
  while (bytes[at] === 10 || bytes[at] === 13) at++;
  return at;
}

function closesAfter(req: StrictRequest): boolean {
  const tokens = listTokens(req.headers, 'connection');
  if (tokens.includes('close')) return true;
  return req.version === '1.0' && !tokens.includes('keep-alive');
}

function listTokens(headers: Array<[string, string]>, name: string): string[] {
  const out: string[] = [];
  for (const [n, v] of headers) {
    if (n !== name) continue;
    for (const part of v.split(',')) {
      const t = part.trim().toLowerCase();
      if (t !== '') out.push(t);
    }
  }
  return out;
}

/** One line ending in CRLF at `at`: its text and the offset after it. */
function line(bytes: Buffer, at: number): { text: string; next: number } {
  const lf = bytes.indexOf(10, at);
  if (lf < 0) {
    if (bytes.indexOf(13, at) >= 0 && bytes[bytes.length - 1] !== 13) throw new Invalid('bare CR');
    throw new Incomplete();
  }
  if (lf === at || bytes[lf - 1] !== 13) throw new Invalid('bare LF');
  const text = bytes.toString('latin1', at, lf - 1);
  if (text.includes('\r')) throw new Invalid('bare CR');
  if (text.includes('\0')) throw new Invalid('NUL');
  return { text, next: lf + 1 };
}

function parseOne(bytes: Buffer, at: number): { request: StrictRequest; end: number } {
  const start = line(bytes, at);
  // RFC 9112 3: a recipient may split the request line on runs of spaces; the proxy writes its
  // own request line, so that leniency cannot reach the upstream.
  const parts = start.text.split(/ +/);
  if (parts.length !== 3) throw new Invalid(`request line "${start.text.slice(0, 40)}"`);
  const [method, target, proto] = parts as [string, string, string];
  if (!TCHAR.test(method)) throw new Invalid('method');
  if (!TARGET.test(target)) throw new Invalid('target');
  if (proto !== 'HTTP/1.1' && proto !== 'HTTP/1.0') throw new Invalid('version');
  const version = proto === 'HTTP/1.1' ? '1.1' : '1.0';
  const { headers, next } = fields(bytes, start.next);
  const framing = framingOf(headers, version);
  const hosts = headers.filter(([n]) => n === 'host').length;
  const refuse = hosts > 1 || (hosts === 0 && version === '1.1') ? 'not exactly one Host' : null;
  const body = readBody(bytes, next, framing);
  return {
    request: {
      method,
      target,
      version,
      headers,
      body: body.body,
      chunked: framing.chunked,
      lengthLines: framing.lengthLines,
      refuse,
    },
    end: body.end,
  };
}

/** Header lines up to the blank line. */
function fields(bytes: Buffer, at: number): { headers: Array<[string, string]>; next: number } {
  const headers: Array<[string, string]> = [];
  let next = at;
  for (;;) {
    const l = line(bytes, next);
    next = l.next;
    if (l.text === '') return { headers, next };
    headers.push(field(l.text));
  }
}

function field(text: string): [string, string] {
  if (text[0] === ' ' || text[0] === '\t') throw new Invalid('obs-fold');
  const colon = text.indexOf(':');
  if (colon <= 0) throw new Invalid('field without a colon');
  const name = text.slice(0, colon);
  if (!TCHAR.test(name)) throw new Invalid(`field name "${name.slice(0, 30)}"`);
  const value = text.slice(colon + 1).replace(/^[ \t]+|[ \t]+$/g, '');
  if (!FIELD_VALUE.test(value)) throw new Invalid(`field value of ${name}`);
  return [name.toLowerCase(), value];
}

interface Framing {
  chunked: boolean;
  length: number;
  lengthLines: number;
}

function framingOf(headers: Array<[string, string]>, version: '1.0' | '1.1'): Framing {
  const codings = listTokens(headers, 'transfer-encoding');
  const hasTe = headers.some(([n]) => n === 'transfer-encoding');
  const lengths = headers.filter(([n]) => n === 'content-length').map(([, v]) => v);
  if (hasTe) {
    if (lengths.length > 0) throw new Invalid('Content-Length with Transfer-Encoding');
    if (version === '1.0') throw new Invalid('Transfer-Encoding in HTTP/1.0');
    if (codings.length === 0 || codings[codings.length - 1] !== 'chunked') {
      throw new Invalid('Transfer-Encoding not ending in chunked');
    }
    if (codings.filter((c) => c === 'chunked').length > 1) throw new Invalid('chunked twice');
    if (!codings.every((c) => TCHAR.test(c))) throw new Invalid('coding');
    return { chunked: true, length: -1, lengthLines: 0 };
  }
  let length = -1;
  for (const value of lengths) {
    for (const part of value.split(',')) {
      const v = part.trim();
      if (!/^[0-9]{1,15}$/.test(v)) throw new Invalid(`Content-Length "${value.slice(0, 20)}"`);
      if (length >= 0 && Number(v) !== length) throw new Invalid('two Content-Lengths');
      length = Number(v);
    }
  }
  return { chunked: false, length: Math.max(length, 0), lengthLines: lengths.length };
}

function readBody(bytes: Buffer, at: number, framing: Framing): { body: Buffer; end: number } {
  if (!framing.chunked) {
    if (bytes.length - at < framing.length) throw new Incomplete();
    return { body: bytes.subarray(at, at + framing.length), end: at + framing.length };
  }
  const parts: Buffer[] = [];
  let next = at;
  for (;;) {
    const l = line(bytes, next);
    const m =
      /^([0-9A-Fa-f]+)((?:;[!#$%&'*+\-.^_`|~0-9A-Za-z]+(?:=[!#$%&'*+\-.^_`|~0-9A-Za-z]+)?)*)$/.exec(
        l.text,
      );
    if (m === null) throw new Invalid(`chunk size line "${l.text.slice(0, 20)}"`);
    if (m[1]!.length > MAX_CHUNK_HEX) throw new Invalid('chunk size too long');
    const size = parseInt(m[1]!, 16);
    next = l.next;
    if (size === 0) break;
    if (bytes.length - next < size + 2) {
      if (bytes.length - next >= size && bytes[next + size] !== 13) throw new Invalid('chunk end');
      throw new Incomplete();
    }
    if (bytes[next + size] !== 13 || bytes[next + size + 1] !== 10) throw new Invalid('chunk end');
    parts.push(bytes.subarray(next, next + size));
    next += size + 2;
  }
  const trailers = fields(bytes, next);
  return { body: Buffer.concat(parts), end: trailers.next };
}
