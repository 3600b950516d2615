// Minimal HTTP/1.1 head parsing for the proxy's fast path (fast-http.ts). It recognises the
// common, well-formed case — an HTTP/1.1 request with no body or a Content-Length body, no
// upgrade, no Expect, no Transfer-Encoding — and says BAIL for anything else, malformed input
// included: such a connection goes to Node's http server (the full path, which also writes the
// 400s), so this parser never has to be lenient or complete. Header lines are located, not
// copied: the upstream head is assembled from byte ranges of the client's own buffer.
//
// Framing rules follow RFC 9112: a message with Transfer-Encoding is never trusted here, a
// request with two different Content-Length values bails, and obs-fold or a bare LF bails.

export const NEED_MORE = 0;
export const BAIL = 1;

const CR = 13;
const LF = 10;
const COLON = 58;
const SP = 32;
const HTAB = 9;

/** tchar (RFC 9110 5.6.2) by byte. */
const TCHAR = new Uint8Array(256);
for (const c of "!#$%&'*+-.^_`|~") TCHAR[c.charCodeAt(0)] = 1;
for (let c = 48; c <= 57; c++) TCHAR[c] = 1;
for (let c = 65; c <= 90; c++) TCHAR[c] = 1;
for (let c = 97; c <= 122; c++) TCHAR[c] = 1;

/** Bytes allowed in a field value: VCHAR, SP, HTAB and obs-text (what Node accepts too). */
const VALUE = new Uint8Array(256);
VALUE[HTAB] = 1;
for (let c = 32; c < 256; c++) VALUE[c] = c === 127 ? 0 : 1;

/** Upper bound of a head this path parses; a longer one goes to the full path (431 there). */
export const MAX_HEAD_BYTES = 16 * 1024;

/** One header line: [nameStart (= line start), nameEnd, valueStart, valueEnd, lineEnd (after CRLF)]. */
const LINE_FIELDS = 5;
/** Header lines a head may have on this path; more → BAIL (Node's server takes up to 2000). */
export const MAX_HEADERS = 100;

/**
 * The arrays a parse fills, reused from one parse to the next (the fast path has one for all
 * request heads and one for all response heads): a head's lines and names are valid until the
 * next parse into the same scratch.
 */
export class HeadScratch {
  readonly names: (string | undefined)[] = new Array<string | undefined>(MAX_HEADERS).fill(
    undefined,
  );
  readonly lines = new Int32Array(MAX_HEADERS * LINE_FIELDS);
  /** Lines found by the last scan. */
  count = 0;
}

export interface Head {
  /** Offset of the head's first byte in buf. */
  start: number;
  /** Offset just past the blank line that ends the head. */
  end: number;
  /** Offset just past the start line's CRLF. */
  startLineEnd: number;
  /** Header lines. */
  count: number;
  /**
   * Lowercase header names, in order, `count` of them (the scratch's; entries past `count` are
   * stale); undefined for a name the proxy has no rule for (nameAt() builds it when needed).
   */
  names: (string | undefined)[];
  /** LINE_FIELDS offsets per header line. */
  lines: Int32Array;
  buf: Buffer;
  /** A Connection header names something besides keep-alive / close (more hop-by-hop lines). */
  connectionNames: boolean;
}

export interface RequestHead extends Head {
  method: string;
  /** The request-target's bytes (requestTarget() builds the string when routing needs it). */
  targetStart: number;
  targetEnd: number;
  /** -1: no Content-Length (no body). */
  contentLength: number;
  /** The client asked to close after this exchange (Connection: close). */
  close: boolean;
  /** Host header lines (framingProblem() wants exactly one). */
  hosts: number;
}

export interface ResponseHead extends Head {
  status: number;
  /** HTTP/1.0 upstream: the connection is not reused. */
  http10: boolean;
  /** -1: none. */
  contentLength: number;
  chunked: boolean;
  /** The upstream will close the connection after this response. */
  close: boolean;
  eventStream: boolean;
}

const HTTP11 = Buffer.from('HTTP/1.1', 'latin1');

/** scanLines() results besides a head's end offset. */
const SCAN_NEED = -1;
const SCAN_BAIL = -2;

/** What a head that is not complete yet means: wait for more, or BAIL when it is already too long. */
function needMore(buf: Buffer, start: number): typeof NEED_MORE | typeof BAIL {
  return buf.length - start > MAX_HEAD_BYTES ? BAIL : NEED_MORE;
}

/**
 * Locates the header lines from `from` up to the blank line that ends the head (found on the way:
 * no separate search for it) into the scratch, with their number in scratch.count. Returns the
 * offset just past the blank line; SCAN_NEED when the bytes end first; SCAN_BAIL on anything that
 * is not a plain `name: value` line ending in CRLF, on more than MAX_HEADERS lines, or on a head
 * longer than MAX_HEAD_BYTES from `start`.
 */
function scanLines(buf: Buffer, start: number, from: number, scratch: HeadScratch): number {
  const { names, lines } = scratch;
  const len = buf.length;
  const limit = start + MAX_HEAD_BYTES;
  let count = 0;
  let i = from;
  for (;;) {
    if (i >= len) return i > limit ? SCAN_BAIL : SCAN_NEED;
    if (buf[i] === CR) {
      if (i + 1 >= len) return i > limit ? SCAN_BAIL : SCAN_NEED;
      if (buf[i + 1] !== LF) return SCAN_BAIL;
      scratch.count = count;
      return i + 2 - start > MAX_HEAD_BYTES ? SCAN_BAIL : i + 2;
    }
    const lineStart = i;
    while (i < len && TCHAR[buf[i]!] === 1) i++;
    if (i >= len) return i > limit ? SCAN_BAIL : SCAN_NEED;
    if (i === lineStart || buf[i] !== COLON || count === MAX_HEADERS) return SCAN_BAIL;
    const nameEnd = i++;
    while (i < len && (buf[i] === SP || buf[i] === HTAB)) i++;
    const valueStart = i;
    while (i < len && VALUE[buf[i]!] === 1) i++;
    // Checked as far as the bytes go: a bare LF bails now rather than waiting for more.
    if (i < len && buf[i] !== CR) return SCAN_BAIL;
    if (i + 1 >= len) return i > limit ? SCAN_BAIL : SCAN_NEED;
    if (buf[i + 1] !== LF) return SCAN_BAIL;
    let valueEnd = i;
    while (valueEnd > valueStart && (buf[valueEnd - 1] === SP || buf[valueEnd - 1] === HTAB)) {
      valueEnd--;
    }
    i += 2;
    names[count] = knownName(buf, lineStart, nameEnd);
    const o = count++ * LINE_FIELDS;
    lines[o] = lineStart;
    lines[o + 1] = nameEnd;
    lines[o + 2] = valueStart;
    lines[o + 3] = valueEnd;
    lines[o + 4] = i;
  }
}

/** The method as a string: the common ones without building one. */
function methodOf(buf: Buffer, start: number, end: number): string {
  const n = end - start;
  const c = buf[start];
  if (n === 3 && c === 71 && buf[start + 1] === 69 && buf[start + 2] === 84) return 'GET';
  if (
    n === 4 &&
    c === 80 &&
    buf[start + 1] === 79 &&
    buf[start + 2] === 83 &&
    buf[start + 3] === 84
  ) {
    return 'POST';
  }
  if (
    n === 4 &&
    c === 72 &&
    buf[start + 1] === 69 &&
    buf[start + 2] === 65 &&
    buf[start + 3] === 68
  ) {
    return 'HEAD';
  }
  return buf.toString('latin1', start, end);
}

/** The request-target (path and query) of a request head. */
export function requestTarget(head: RequestHead): string {
  return head.buf.toString('latin1', head.targetStart, head.targetEnd);
}

/** Header names the proxy acts on: recognised without building a string per header line. */
const KNOWN_NAMES = [
  'host',
  'content-length',
  'transfer-encoding',
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
  'x-request-id',
  'cookie',
  'content-type',
  'trailer',
];
const KNOWN_BY_LENGTH: string[][] = [];
for (const name of KNOWN_NAMES) (KNOWN_BY_LENGTH[name.length] ??= []).push(name);

/** The known lowercase name spelled (in any case) by buf[start, end), or undefined. */
function knownName(buf: Buffer, start: number, end: number): string | undefined {
  const candidates = KNOWN_BY_LENGTH[end - start];
  if (candidates === undefined) return undefined;
  next: for (const name of candidates) {
    // Names are tchar bytes: OR 0x20 lowercases letters and maps no other tchar onto a letter.
    for (let i = 0; i < name.length; i++) {
      if ((buf[start + i]! | 0x20) !== name.charCodeAt(i)) continue next;
    }
    return name;
  }
  return undefined;
}

/** The lowercase name of header line k (built and kept on first use for unknown names). */
export function nameAt(head: Head, k: number): string {
  const known = head.names[k];
  if (known !== undefined) return known;
  const o = k * LINE_FIELDS;
  const name = head.buf.toString('latin1', head.lines[o], head.lines[o + 1]).toLowerCase();
  head.names[k] = name;
  return name;
}

/** Every header name, lowercase, in order. */
export function headerNames(head: Head): string[] {
  return Array.from({ length: head.count }, (_, k) => nameAt(head, k));
}

/** Header k's value as a plain decimal (Content-Length); -2 when it is not one. */
function lengthAt(head: Head, k: number): number {
  const o = k * LINE_FIELDS;
  const buf = head.buf;
  const from = head.lines[o + 2]!;
  const to = head.lines[o + 3]!;
  if (to === from || to - from > 15) return -2;
  let n = 0;
  for (let i = from; i < to; i++) {
    const d = buf[i]! - 48;
    if (d < 0 || d > 9) return -2;
    n = n * 10 + d;
  }
  return n;
}

/** Header k's value starts with `lower` (lowercase ASCII), compared without case, no string built. */
function valueStarts(head: Head, k: number, lower: string, whole: boolean): boolean {
  const o = k * LINE_FIELDS;
  const buf = head.buf;
  const from = head.lines[o + 2]!;
  const length = head.lines[o + 3]! - from;
  if (length < lower.length || (whole && length !== lower.length)) return false;
  for (let i = 0; i < lower.length; i++) {
    // OR 0x20 lowercases letters; the tokens compared here hold only letters, '-' and '/'.
    if ((buf[from + i]! | 0x20) !== lower.charCodeAt(i)) return false;
  }
  return true;
}

/**
 * Reads a Connection header: whether it says close, keep-alive, and whether it names other
 * headers (hop-by-hop too). The usual single values are matched on the bytes.
 */
function connectionTokens(head: Head, k: number): { close: boolean; keepAlive: boolean } {
  if (valueStarts(head, k, 'keep-alive', true)) return KEEP_ALIVE;
  if (valueStarts(head, k, 'close', true)) return CLOSE;
  const value = headerValue(head, k);
  const tokens = { close: false, keepAlive: false };
  for (const part of value.toLowerCase().split(',')) {
    const token = part.trim();
    if (token === 'close') tokens.close = true;
    else if (token === 'keep-alive') tokens.keepAlive = true;
    else if (token !== '') head.connectionNames = true;
  }
  return tokens;
}

const KEEP_ALIVE = { close: false, keepAlive: true };
const CLOSE = { close: true, keepAlive: false };

export function headerValue(head: Head, k: number): string {
  const o = k * LINE_FIELDS;
  return head.buf.toString('latin1', head.lines[o + 2], head.lines[o + 3]);
}

/** The value of the first header called `name` (lowercase), or undefined. */
export function findHeader(head: Head, name: string): string | undefined {
  if (KNOWN_NAMES.includes(name)) {
    for (let k = 0; k < head.count; k++) {
      if (head.names[k] === name) return headerValue(head, k);
    }
    return undefined;
  }
  for (let k = 0; k < head.count; k++) {
    if (head.names[k] === undefined && nameAt(head, k) === name) return headerValue(head, k);
  }
  return undefined;
}

export function valueStart(head: Head, k: number): number {
  return head.lines[k * LINE_FIELDS + 2]!;
}

export function valueEnd(head: Head, k: number): number {
  return head.lines[k * LINE_FIELDS + 3]!;
}

export function lineStart(head: Head, k: number): number {
  return head.lines[k * LINE_FIELDS]!;
}

export function lineEnd(head: Head, k: number): number {
  return head.lines[k * LINE_FIELDS + 4]!;
}

/** buf[at…] starts with the first `n` bytes of "HTTP/1.1" (a loop: compare() costs more here). */
function startsHttp(buf: Buffer, at: number, n: number): boolean {
  for (let i = 0; i < n; i++) if (buf[at + i] !== HTTP11[i]) return false;
  return true;
}

/**
 * The bytes there are (fewer than 14) could begin a status line: "HTTP/1.", 0 or 1, a space,
 * three digits, then a space or the CR.
 */
function statusLineStart(buf: Buffer, start: number): boolean {
  for (let i = start; i < buf.length; i++) {
    const c = buf[i]!;
    const at = i - start;
    let ok: boolean;
    if (at < 7) ok = c === HTTP11[at];
    else if (at === 7) ok = c === 48 || c === 49;
    else if (at === 8) ok = c === SP;
    else if (at < 12) ok = c >= 48 && c <= 57;
    else ok = c === SP || c === CR;
    if (!ok) return false;
  }
  return true;
}

/** What follows the request-target: " HTTP/1.1" CRLF. */
const REQUEST_VERSION = Buffer.from(' HTTP/1.1\r\n', 'latin1');

/** Whether a comma-separated header value lists `token` (lowercase), ignoring case and spaces. */
export function hasToken(value: string, token: string): boolean {
  if (value.length === token.length && (value === token || value.toLowerCase() === token)) {
    return true;
  }
  if (value.indexOf(',') < 0) return false;
  const v = value.toLowerCase();
  if (v === token) return true;
  for (const part of v.split(',')) if (part.trim() === token) return true;
  return false;
}

/** Parses a request head at `start`: NEED_MORE, BAIL (full path) or the head. */
export function parseRequest(
  buf: Buffer,
  start: number,
  scratch = new HeadScratch(),
): RequestHead | typeof NEED_MORE | typeof BAIL {
  // Request line: METHOD SP request-target SP HTTP/1.1 CRLF
  const len = buf.length;
  let i = start;
  while (i < len && TCHAR[buf[i]!] === 1) i++;
  if (i >= len) return needMore(buf, start);
  if (i === start || buf[i] !== SP) return BAIL;
  const methodEnd = i;
  const targetStart = ++i;
  while (i < len && buf[i]! > SP && buf[i] !== 127) i++;
  if (i >= len) return needMore(buf, start);
  if (i === targetStart || buf[i] !== SP) return BAIL;
  const targetEnd = i;
  // Origin-form only: absolute-form, authority-form (CONNECT) and * go the full way.
  if (buf[targetStart] !== 47 /* / */) return BAIL;
  const version = Math.min(i + 11, len);
  for (let v = i; v < version; v++) {
    if (buf[v] !== REQUEST_VERSION[v - i]) return BAIL;
  }
  if (i + 11 > len) return needMore(buf, start);
  const method = methodOf(buf, start, methodEnd);
  if (method === 'CONNECT') return BAIL;
  const startLineEnd = i + 11;
  const end = scanLines(buf, start, startLineEnd, scratch);
  if (end === SCAN_NEED) return needMore(buf, start);
  if (end === SCAN_BAIL) return BAIL;
  const count = scratch.count;
  const names = scratch.names;
  const head: RequestHead = {
    buf,
    start,
    end,
    startLineEnd,
    count,
    names,
    lines: scratch.lines,
    method,
    targetStart,
    targetEnd,
    contentLength: -1,
    close: false,
    hosts: 0,
    connectionNames: false,
  };
  for (let k = 0; k < count; k++) {
    switch (names[k]) {
      case 'host':
        head.hosts++;
        break;
      case 'content-length': {
        const n = lengthAt(head, k);
        if (n < 0 || (head.contentLength >= 0 && n !== head.contentLength)) return BAIL;
        head.contentLength = n;
        break;
      }
      case 'transfer-encoding':
      case 'upgrade':
      case 'expect':
        return BAIL;
      case 'connection': {
        const tokens = connectionTokens(head, k);
        if (head.connectionNames && hasToken(headerValue(head, k), 'upgrade')) return BAIL;
        if (tokens.close) head.close = true;
        break;
      }
    }
  }
  return head;
}

/** Parses a response head at `start`: NEED_MORE, BAIL (not valid HTTP/1.x) or the head. */
export function parseResponse(
  buf: Buffer,
  start: number,
  scratch = new HeadScratch(),
): ResponseHead | typeof NEED_MORE | typeof BAIL {
  // Status line: HTTP/1.x SP 3DIGIT SP reason CRLF
  const len = buf.length;
  if (len - start < 14) return statusLineStart(buf, start) ? NEED_MORE : BAIL;
  // "HTTP/1.1 " or "HTTP/1.0 "
  const minor = buf[start + 7];
  if (!startsHttp(buf, start, 7) || buf[start + 8] !== SP) return BAIL;
  if (minor !== 48 && minor !== 49) return BAIL;
  const http10 = minor === 48;
  const d0 = buf[start + 9]! - 48;
  const d1 = buf[start + 10]! - 48;
  const d2 = buf[start + 11]! - 48;
  if (d0 < 1 || d0 > 5 || d1 < 0 || d1 > 9 || d2 < 0 || d2 > 9) return BAIL;
  const status = d0 * 100 + d1 * 10 + d2;
  let i = start + 12;
  if (buf[i] === SP) {
    i++;
    while (i < len && VALUE[buf[i]!] === 1) i++;
  }
  if (i < len && buf[i] !== CR) return BAIL;
  if (i + 1 >= len) return needMore(buf, start);
  if (buf[i + 1] !== LF) return BAIL;
  const startLineEnd = i + 2;
  const end = scanLines(buf, start, startLineEnd, scratch);
  if (end === SCAN_NEED) return needMore(buf, start);
  if (end === SCAN_BAIL) return BAIL;
  const count = scratch.count;
  const names = scratch.names;
  const head: ResponseHead = {
    buf,
    start,
    end,
    startLineEnd,
    count,
    names,
    lines: scratch.lines,
    status,
    http10,
    contentLength: -1,
    chunked: false,
    close: http10,
    eventStream: false,
    connectionNames: false,
  };
  let sawType = false;
  let saidClose = false;
  for (let k = 0; k < count; k++) {
    switch (names[k]) {
      case 'content-length': {
        const n = lengthAt(head, k);
        if (n < 0 || (head.contentLength >= 0 && n !== head.contentLength)) return BAIL;
        head.contentLength = n;
        break;
      }
      case 'transfer-encoding': {
        // Only a lone "chunked" is framed here; any other coding (or a list) goes unframed → BAIL.
        if (head.chunked || !valueStarts(head, k, 'chunked', true)) return BAIL;
        head.chunked = true;
        break;
      }
      case 'connection': {
        const tokens = connectionTokens(head, k);
        if (tokens.close) head.close = saidClose = true;
        else if (http10 && !saidClose && tokens.keepAlive) head.close = false;
        break;
      }
      case 'content-type':
        if (!sawType) {
          sawType = true;
          head.eventStream = valueStarts(head, k, 'text/event-stream', false);
        }
        break;
    }
  }
  // RFC 9112 6.3: Transfer-Encoding overrides Content-Length; a sender must not send both.
  if (head.chunked && head.contentLength >= 0) return BAIL;
  return head;
}

/** Whether a response to `method` with this status carries no body whatever its headers say. */
export function bodiless(method: string, status: number): boolean {
  return method === 'HEAD' || status === 204 || status === 304 || (status >= 100 && status < 200);
}

// ---------------------------------------------------------------- chunked framing

const S_SIZE = 0; // hex digits of a chunk size
const S_EXT = 1; // chunk extensions, up to CR
const S_SIZE_LF = 2;
const S_DATA = 3;
const S_DATA_CR = 4;
const S_DATA_LF = 5;
const S_TRAILER_START = 6; // start of a trailer line, or the final CRLF
const S_TRAILER = 7; // inside a trailer line
const S_TRAILER_LF = 8;
const S_LAST_LF = 9;
const S_DONE = 10;

/**
 * Follows the framing of a chunked body without copying it, so a relay knows where the message
 * (trailers included) ends and whether it stands between two chunks.
 */
export class ChunkedScanner {
  private state = S_SIZE;
  private size = 0;
  private digits = 0;
  private remaining = 0;

  /** Between chunks (nothing of a chunk half-sent): a cut can end the body cleanly there. */
  atBoundary(): boolean {
    return this.state === S_SIZE && this.digits === 0;
  }

  done(): boolean {
    return this.state === S_DONE;
  }

  /**
   * Consumes buf[from, to). Returns the offset just past the end of the message when it ends in
   * this range, -1 when more is needed, -2 on a framing error.
   */
  feed(buf: Uint8Array, from: number, to: number): number {
    let i = from;
    while (i < to) {
      const c = buf[i]!;
      switch (this.state) {
        case S_SIZE: {
          const v = hexValue(c);
          if (v >= 0) {
            if (++this.digits > 12) return -2;
            this.size = this.size * 16 + v;
          } else if (this.digits === 0) return -2;
          else if (c === CR) this.state = S_SIZE_LF;
          else if (c === 59 /* ; */ || c === SP || c === HTAB) this.state = S_EXT;
          else return -2;
          i++;
          break;
        }
        case S_EXT:
          if (c === CR) this.state = S_SIZE_LF;
          else if (c === LF) return -2;
          i++;
          break;
        case S_SIZE_LF:
          if (c !== LF) return -2;
          i++;
          this.digits = 0;
          if (this.size === 0) this.state = S_TRAILER_START;
          else {
            this.remaining = this.size;
            this.state = S_DATA;
          }
          this.size = 0;
          break;
        case S_DATA: {
          const take = Math.min(this.remaining, to - i);
          this.remaining -= take;
          i += take;
          if (this.remaining === 0) this.state = S_DATA_CR;
          break;
        }
        case S_DATA_CR:
          if (c !== CR) return -2;
          this.state = S_DATA_LF;
          i++;
          break;
        case S_DATA_LF:
          if (c !== LF) return -2;
          this.state = S_SIZE;
          i++;
          break;
        case S_TRAILER_START:
          if (c === LF) return -2;
          this.state = c === CR ? S_LAST_LF : S_TRAILER;
          i++;
          break;
        case S_TRAILER:
          if (c === CR) this.state = S_TRAILER_LF;
          else if (c === LF) return -2;
          i++;
          break;
        case S_TRAILER_LF:
          if (c !== LF) return -2;
          this.state = S_TRAILER_START;
          i++;
          break;
        case S_LAST_LF:
          if (c !== LF) return -2;
          this.state = S_DONE;
          return i + 1;
        default:
          return -2;
      }
    }
    return -1;
  }
}

function hexValue(c: number): number {
  if (c >= 48 && c <= 57) return c - 48;
  const l = c | 0x20;
  if (l >= 97 && l <= 102) return l - 87;
  return -1;
}
