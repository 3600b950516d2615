// The smuggling fuzzer's inputs: a seed corpus of the known request-smuggling families (each a
// message whose body hides a second request, framed ambiguously) and random mutations of them
// and of plain pipelines. Every request's target names its case (`/c<case>-<n>`), so whatever
// reaches the upstream can be traced back to the client bytes that produced it.

export interface FuzzCase {
  id: number;
  /** Family or mutation trail, for the report. */
  name: string;
  /** What the client writes, one write per element. */
  writes: Buffer[];
}

/** A case's tag in request targets: letters, so no mutation of digits can turn it into another's. */
export function tag(id: number): string {
  let out = '';
  let n = id;
  do {
    out = String.fromCharCode(97 + (n % 26)) + out;
    n = Math.floor(n / 26);
  } while (n > 0);
  return out;
}

/** The case id a tag stands for (tag's inverse). */
export function untag(text: string): number {
  let n = 0;
  for (const c of text) n = n * 26 + (c.charCodeAt(0) - 97);
  return n;
}

/** A deterministic PRNG (mulberry32): a seed reproduces a run. */
export function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** A request before it is written: a start line, header lines, raw body bytes. */
interface Draft {
  line: string;
  headers: string[];
  body: string;
}

const CRLF = '\r\n';

function write(d: Draft): string {
  return d.line + CRLF + d.headers.map((h) => h + CRLF).join('') + CRLF + d.body;
}

function chunked(body: string, size = 5): string {
  let out = '';
  for (let i = 0; i < body.length; i += size) {
    const part = body.slice(i, i + size);
    out += `${part.length.toString(16)}\r\n${part}\r\n`;
  }
  return `${out}0\r\n\r\n`;
}

/** The request a smuggling body hides: if an upstream ever reads it as a request, it leaked. */
function inner(id: number): string {
  return `GET /c${tag(id)}-s HTTP/1.1\r\nHost: fuzz\r\nX-Smuggled: 1\r\n\r\n`;
}

function plain(id: number, n: number, method = 'GET'): Draft {
  return { line: `${method} /c${tag(id)}-${n} HTTP/1.1`, headers: ['Host: fuzz'], body: '' };
}

function withBody(id: number, n: number, body: string, headers: string[]): Draft {
  return { line: `POST /c${tag(id)}-${n} HTTP/1.1`, headers: ['Host: fuzz', ...headers], body };
}

type Family = (id: number) => string;

const len = (s: string): number => Buffer.byteLength(s, 'latin1');

/** The known families, each ending with a plain request that a desynced reading would eat. */
const FAMILIES: Record<string, Family> = {
  'cl+connection-cl': (id) =>
    write(
      withBody(id, 1, inner(id), [
        `Content-Length: ${len(inner(id))}`,
        'Connection: content-length',
      ]),
    ),
  'cl+connection-list': (id) =>
    write(
      withBody(id, 1, inner(id), [
        `Content-Length: ${len(inner(id))}`,
        'Connection: keep-alive, content-length, host',
      ]),
    ),
  'te+connection-te': (id) =>
    write(
      withBody(id, 1, chunked(inner(id)), [
        'Transfer-Encoding: chunked',
        'Connection: transfer-encoding',
      ]),
    ),
  'te+connection-te-cl': (id) =>
    write(
      withBody(id, 1, chunked(inner(id)), [
        'Transfer-Encoding: chunked',
        'Connection: Transfer-Encoding, Content-Length',
      ]),
    ),
  'cl+te': (id) =>
    write(
      withBody(id, 1, `0\r\n\r\n${inner(id)}`, [
        `Content-Length: ${len(`0\r\n\r\n${inner(id)}`)}`,
        'Transfer-Encoding: chunked',
      ]),
    ),
  'te+cl': (id) =>
    write(
      withBody(id, 1, `0\r\n\r\n${inner(id)}`, ['Transfer-Encoding: chunked', 'Content-Length: 5']),
    ),
  'te-space-colon': (id) =>
    write(
      withBody(id, 1, `0\r\n\r\n${inner(id)}`, [
        'Transfer-Encoding : chunked',
        'Content-Length: 5',
      ]),
    ),
  'te-obs-fold': (id) =>
    write(
      withBody(id, 1, `0\r\n\r\n${inner(id)}`, [
        'Transfer-Encoding:',
        ' chunked',
        'Content-Length: 5',
      ]),
    ),
  'te-dup': (id) =>
    write(
      withBody(id, 1, chunked(inner(id)), [
        'Transfer-Encoding: chunked',
        'Transfer-Encoding: identity',
      ]),
    ),
  'te-list-identity': (id) =>
    write(withBody(id, 1, chunked(inner(id)), ['Transfer-Encoding: chunked, identity'])),
  'te-gzip-chunked': (id) =>
    write(withBody(id, 1, chunked('abcdefgh'), ['Transfer-Encoding: gzip, chunked'])),
  'te-xchunked': (id) =>
    write(
      withBody(id, 1, `0\r\n\r\n${inner(id)}`, [
        'Transfer-Encoding: xchunked',
        'Content-Length: 5',
      ]),
    ),
  'te-tab': (id) => write(withBody(id, 1, chunked(inner(id)), ['Transfer-Encoding:\tchunked'])),
  'te-vtab': (id) =>
    write(
      withBody(id, 1, `0\r\n\r\n${inner(id)}`, [
        'Transfer-Encoding: chunked\x0b',
        'Content-Length: 5',
      ]),
    ),
  'te-upper': (id) => write(withBody(id, 1, chunked(inner(id)), ['TRANSFER-ENCODING: CHUNKED'])),
  'te-http10': (id) =>
    write({
      line: `POST /c${tag(id)}-1 HTTP/1.0`,
      headers: ['Host: fuzz', 'Transfer-Encoding: chunked', 'Connection: keep-alive'],
      body: chunked(inner(id)),
    }),
  'cl-two-values': (id) =>
    write(withBody(id, 1, inner(id), ['Content-Length: 0', `Content-Length: ${len(inner(id))}`])),
  'cl-two-same': (id) =>
    write(
      withBody(id, 1, inner(id), [
        `Content-Length: ${len(inner(id))}`,
        `Content-Length: ${len(inner(id))}`,
      ]),
    ),
  'cl-list': (id) =>
    write(withBody(id, 1, inner(id), [`Content-Length: ${len(inner(id))}, ${len(inner(id))}`])),
  'cl-plus': (id) => write(withBody(id, 1, inner(id), [`Content-Length: +${len(inner(id))}`])),
  'cl-hex': (id) =>
    write(withBody(id, 1, inner(id), [`Content-Length: 0x${len(inner(id)).toString(16)}`])),
  'cl-leading-zero': (id) =>
    write(withBody(id, 1, inner(id), [`Content-Length: 00${len(inner(id))}`])),
  'cl-space-before-colon': (id) =>
    write(withBody(id, 1, inner(id), [`Content-Length : ${len(inner(id))}`])),
  'cl-negative': (id) => write(withBody(id, 1, inner(id), ['Content-Length: -1'])),
  'cl-huge': (id) => write(withBody(id, 1, inner(id), ['Content-Length: 99999999999999999999'])),
  'get-with-body': (id) =>
    write({
      line: `GET /c${tag(id)}-1 HTTP/1.1`,
      headers: ['Host: fuzz', `Content-Length: ${len(inner(id))}`],
      body: inner(id),
    }),
  'head-with-body': (id) =>
    write({
      line: `HEAD /c${tag(id)}-1 HTTP/1.1`,
      headers: ['Host: fuzz', `Content-Length: ${len(inner(id))}`],
      body: inner(id),
    }),
  'chunk-ext': (id) =>
    write(withBody(id, 1, `5;a=b;c\r\nhello\r\n0\r\n\r\n`, ['Transfer-Encoding: chunked'])),
  'chunk-size-overflow': (id) =>
    write(
      withBody(id, 1, `10000000000000005\r\nhello\r\n0\r\n\r\n${inner(id)}`, [
        'Transfer-Encoding: chunked',
      ]),
    ),
  'chunk-size-space': (id) =>
    write(withBody(id, 1, `5 \r\nhello\r\n0\r\n\r\n`, ['Transfer-Encoding: chunked'])),
  'chunk-bare-lf': (id) =>
    write(withBody(id, 1, `5\nhello\n0\n\n${inner(id)}`, ['Transfer-Encoding: chunked'])),
  'chunk-trailer-cl': (id) =>
    write(
      withBody(id, 1, `5\r\nhello\r\n0\r\nContent-Length: 50\r\n\r\n`, [
        'Transfer-Encoding: chunked',
      ]),
    ),
  'expect-continue': (id) =>
    write(withBody(id, 1, 'hello', ['Content-Length: 5', 'Expect: 100-continue'])),
  'upgrade-with-body': (id) =>
    write(
      withBody(id, 1, inner(id), [
        `Content-Length: ${len(inner(id))}`,
        'Connection: Upgrade',
        'Upgrade: websocket',
      ]),
    ),
  'bare-lf-head': (id) => `POST /c${tag(id)}-1 HTTP/1.1\nHost: fuzz\nContent-Length: 0\n\n`,
  'cr-only-head': (id) => `GET /c${tag(id)}-1 HTTP/1.1\rHost: fuzz\r\r\n\r\n`,
  'nul-in-header': (id) =>
    write({ line: `GET /c${tag(id)}-1 HTTP/1.1`, headers: ['Host: fuzz', 'X-A: a\0b'], body: '' }),
  'absolute-form': (id) =>
    write({ line: `GET http://fuzz/c${tag(id)}-1 HTTP/1.1`, headers: ['Host: fuzz'], body: '' }),
  'double-space-line': (id) =>
    write({ line: `GET  /c${tag(id)}-1 HTTP/1.1`, headers: ['Host: fuzz'], body: '' }),
  'no-host': (id) => write({ line: `GET /c${tag(id)}-1 HTTP/1.1`, headers: [], body: '' }),
  'two-hosts': (id) =>
    write({
      line: `GET /c${tag(id)}-1 HTTP/1.1`,
      headers: ['Host: fuzz', 'Host: other'],
      body: '',
    }),
  'close-then-more': (id) =>
    write({
      line: `GET /c${tag(id)}-1 HTTP/1.1`,
      headers: ['Host: fuzz', 'Connection: close'],
      body: '',
    }),
  'http10-then-more': (id) =>
    write({ line: `GET /c${tag(id)}-1 HTTP/1.0`, headers: ['Host: fuzz'], body: '' }),
  'connection-lists-forwarded': (id) =>
    write({
      line: `GET /c${tag(id)}-1 HTTP/1.1`,
      headers: [
        'Host: fuzz',
        'X-Forwarded-For: 6.6.6.6',
        'Connection: x-forwarded-for, x-request-id',
      ],
      body: '',
    }),
  'proxy-connection': (id) =>
    write(
      withBody(id, 1, inner(id), [
        `Content-Length: ${len(inner(id))}`,
        'Proxy-Connection: content-length',
        'Keep-Alive: timeout=5',
      ]),
    ),
};

export const FAMILY_NAMES = Object.keys(FAMILIES);

/** A seed case: the family's message, then a plain request a desynced upstream would eat. */
export function seedCase(id: number, family: string): FuzzCase {
  const text = FAMILIES[family]!(id) + write(plain(id, 2));
  return { id, name: family, writes: [Buffer.from(text, 'latin1')] };
}

/** Header lines a mutation may add: the ones framing and routing depend on. */
const SPICE = [
  'Content-Length: 0',
  'Content-Length: 7',
  'Transfer-Encoding: chunked',
  'Transfer-Encoding: identity',
  'Connection: content-length',
  'Connection: transfer-encoding',
  'Connection: host',
  'Connection: close',
  'Connection: keep-alive',
  'Connection: upgrade',
  'Upgrade: websocket',
  'Expect: 100-continue',
  'Host: other',
  'Keep-Alive: timeout=1',
  'TE: trailers',
  'Trailer: content-length',
  'X-Forwarded-For: 10.0.0.1',
  'X-Hotswap-Revision: 1',
];

type Mutation = (text: string, r: () => number, id: number) => string;

const pick = <T>(items: readonly T[], r: () => number): T => items[Math.floor(r() * items.length)]!;

/** The head of the first message in text: [start, end) of its header block. */
function headSpan(text: string): [number, number] {
  const lineEnd = text.indexOf('\n');
  const end = text.indexOf('\r\n\r\n');
  return [lineEnd < 0 ? 0 : lineEnd + 1, end < 0 ? text.length : end + 2];
}

const MUTATIONS: Record<string, Mutation> = {
  'add-header': (text, r) => {
    const [from] = headSpan(text);
    return text.slice(0, from) + pick(SPICE, r) + CRLF + text.slice(from);
  },
  'add-header-late': (text, r) => {
    const [, to] = headSpan(text);
    return text.slice(0, to) + pick(SPICE, r) + CRLF + text.slice(to);
  },
  'crlf-to-lf': (text, r) => replaceNth(text, '\r\n', r, '\n'),
  'crlf-to-cr': (text, r) => replaceNth(text, '\r\n', r, '\r'),
  'space-before-colon': (text, r) => replaceNth(text, ':', r, ' :'),
  'tab-after-colon': (text, r) => replaceNth(text, ': ', r, ':\t'),
  'fold-line': (text, r) => replaceNth(text, ': ', r, ':\r\n '),
  'digit-change': (text, r) => {
    const digits = [...text.matchAll(/[0-9]/g)];
    if (digits.length === 0) return text;
    const at = pick(digits, r).index;
    return text.slice(0, at) + String(Math.floor(r() * 10)) + text.slice(at + 1);
  },
  'upper-case-name': (text, r) => {
    const [from, to] = headSpan(text);
    const head = text
      .slice(from, to)
      .replace(/^[a-z-]+/gim, (m) => (r() < 0.5 ? m.toUpperCase() : m));
    return text.slice(0, from) + head + text.slice(to);
  },
  'duplicate-line': (text, r) => {
    const [from, to] = headSpan(text);
    const lines = text
      .slice(from, to)
      .split('\r\n')
      .filter((l) => l !== '');
    if (lines.length === 0) return text;
    return text.slice(0, from) + pick(lines, r) + CRLF + text.slice(from);
  },
  'drop-byte': (text, r) => {
    // In the first head's header lines: every request line, and so every case's tag, stays whole.
    const [from, to] = headSpan(text);
    const at = from + Math.floor(r() * (to - from));
    return text.slice(0, at) + text.slice(at + 1);
  },
  'append-pipelined': (text, r, id) =>
    text + write(r() < 0.5 ? plain(id, 7) : withBody(id, 8, 'abc', ['Content-Length: 3'])),
  'append-smuggle': (text, _r, id) => text + inner(id),
};

export const MUTATION_NAMES = Object.keys(MUTATIONS);

function replaceNth(text: string, find: string, r: () => number, by: string): string {
  const spots: number[] = [];
  for (let i = text.indexOf(find); i >= 0; i = text.indexOf(find, i + 1)) spots.push(i);
  if (spots.length === 0) return text;
  const at = pick(spots, r);
  return text.slice(0, at) + by + text.slice(at + find.length);
}

/** A random case: a seed or a plain pipeline, 1 to 3 mutations, split into 1 to 3 writes. */
export function randomCase(id: number, r: () => number): FuzzCase {
  let text: string;
  let name: string;
  if (r() < 0.6) {
    name = pick(FAMILY_NAMES, r);
    text = FAMILIES[name]!(id) + write(plain(id, 2));
  } else {
    name = 'pipeline';
    const body = 'x'.repeat(Math.floor(r() * 20));
    text =
      write(plain(id, 1, pick(['GET', 'HEAD', 'OPTIONS', 'DELETE'], r))) +
      write(
        r() < 0.5
          ? withBody(id, 2, body, [`Content-Length: ${body.length}`])
          : withBody(id, 2, chunked(body, 3), ['Transfer-Encoding: chunked']),
      ) +
      write(plain(id, 3));
  }
  const count = 1 + Math.floor(r() * 3);
  for (let i = 0; i < count; i++) {
    const m = pick(MUTATION_NAMES, r);
    text = MUTATIONS[m]!(text, r, id);
    name += `+${m}`;
  }
  return { id, name, writes: split(Buffer.from(text, 'latin1'), r) };
}

function split(bytes: Buffer, r: () => number): Buffer[] {
  const parts = Math.floor(r() * 3);
  const cuts = Array.from({ length: parts }, () => 1 + Math.floor(r() * (bytes.length - 1))).sort(
    (a, b) => a - b,
  );
  const out: Buffer[] = [];
  let from = 0;
  for (const cut of cuts) {
    if (cut > from) out.push(bytes.subarray(from, cut));
    from = Math.max(from, cut);
  }
  out.push(bytes.subarray(from));
  return out;
}
