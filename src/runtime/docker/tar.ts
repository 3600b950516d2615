// A small ustar writer and reader: enough for the archive endpoints (copy files into and out of
// containers) and for image build contexts. Long paths use a PAX header when they do not fit.

export type TarEntryType = 'file' | 'directory' | 'symlink';

export interface TarEntry {
  /** Path inside the archive, relative ("app/x.js"); directories may end with "/". */
  name: string;
  type?: TarEntryType;
  data?: Uint8Array | string;
  /** Permission bits; default 0o644 for files, 0o755 for directories. */
  mode?: number;
  /** Seconds since the epoch; default 0 so archives are reproducible. */
  mtime?: number;
  uid?: number;
  gid?: number;
  /** Target of a symlink. */
  linkname?: string;
}

export interface TarFile {
  name: string;
  type: TarEntryType | 'other';
  mode: number;
  size: number;
  mtime: number;
  linkname: string;
  data: Buffer;
}

const BLOCK = 512;
const TYPE_FLAGS: Record<TarEntryType, string> = { file: '0', directory: '5', symlink: '2' };

function writeString(buf: Buffer, offset: number, length: number, value: string): void {
  buf.write(value, offset, Math.min(length, Buffer.byteLength(value)), 'utf8');
}

function writeOctal(buf: Buffer, offset: number, length: number, value: number): void {
  writeString(buf, offset, length, value.toString(8).padStart(length - 1, '0') + '\0');
}

function header(
  name: string,
  prefix: string,
  typeflag: string,
  size: number,
  e: TarEntry,
  mode: number,
): Buffer {
  const h = Buffer.alloc(BLOCK);
  writeString(h, 0, 100, name);
  writeOctal(h, 100, 8, mode & 0o7777);
  writeOctal(h, 108, 8, e.uid ?? 0);
  writeOctal(h, 116, 8, e.gid ?? 0);
  writeOctal(h, 124, 12, size);
  writeOctal(h, 136, 12, Math.floor(e.mtime ?? 0));
  h.write('        ', 148, 8, 'ascii');
  h.write(typeflag, 156, 1, 'ascii');
  writeString(h, 157, 100, e.linkname ?? '');
  h.write('ustar\0', 257, 6, 'ascii');
  h.write('00', 263, 2, 'ascii');
  writeString(h, 265, 32, 'root');
  writeString(h, 297, 32, 'root');
  writeString(h, 345, 155, prefix);
  let sum = 0;
  for (const byte of h) sum += byte;
  writeString(h, 148, 8, sum.toString(8).padStart(6, '0') + '\0 ');
  return h;
}

function padding(size: number): Buffer {
  const rest = size % BLOCK;
  return Buffer.alloc(rest === 0 ? 0 : BLOCK - rest);
}

/** Splits a path into ustar (prefix, name), or null when it needs a PAX header. */
function splitName(path: string): [string, string] | null {
  if (Buffer.byteLength(path) <= 100) return ['', path];
  for (let i = path.indexOf('/'); i !== -1; i = path.indexOf('/', i + 1)) {
    const prefix = path.slice(0, i);
    const name = path.slice(i + 1);
    if (Buffer.byteLength(prefix) <= 155 && Buffer.byteLength(name) <= 100 && name) {
      return [prefix, name];
    }
  }
  return null;
}

function paxRecord(key: string, value: string): string {
  const body = ` ${key}=${value}\n`;
  let len = Buffer.byteLength(body) + 1;
  while (String(len).length + Buffer.byteLength(body) !== len) {
    len = String(len).length + Buffer.byteLength(body);
  }
  return `${len}${body}`;
}

/** Packs entries into a tar archive (with its two closing zero blocks). */
export function packTar(entries: Iterable<TarEntry>): Buffer {
  return Buffer.concat([...tarChunks(entries)]);
}

/**
 * The archive as a sequence of chunks, pulling entries one at a time: with a lazy iterable,
 * `Readable.from(tarChunks(entries))` streams large archives without holding them in memory.
 */
export function* tarChunks(entries: Iterable<TarEntry>): Generator<Buffer> {
  for (const e of entries) {
    const parts: Buffer[] = [];
    const type = e.type ?? 'file';
    let path = e.name.replace(/^\/+/, '');
    if (type === 'directory' && !path.endsWith('/')) path += '/';
    const data =
      type !== 'file' || e.data === undefined
        ? Buffer.alloc(0)
        : typeof e.data === 'string'
          ? Buffer.from(e.data, 'utf8')
          : Buffer.from(e.data.buffer, e.data.byteOffset, e.data.byteLength);
    const mode = e.mode ?? (type === 'directory' ? 0o755 : 0o644);
    let split = splitName(path);
    if (!split) {
      const pax = Buffer.from(paxRecord('path', path), 'utf8');
      parts.push(
        header('PaxHeader', '', 'x', pax.length, { name: 'PaxHeader' }, 0o644),
        pax,
        padding(pax.length),
      );
      split = ['', path.slice(0, 100)];
    }
    parts.push(header(split[1], split[0], TYPE_FLAGS[type], data.length, e, mode));
    if (data.length) parts.push(data, padding(data.length));
    yield* parts;
  }
  yield Buffer.alloc(BLOCK * 2);
}

function readString(buf: Buffer, offset: number, length: number): string {
  const slice = buf.subarray(offset, offset + length);
  const end = slice.indexOf(0);
  return slice.subarray(0, end === -1 ? length : end).toString('utf8');
}

function readNumber(buf: Buffer, offset: number, length: number): number {
  const first = buf[offset] ?? 0;
  if (first & 0x80) {
    // base-256 (GNU) for values that do not fit in octal
    let v = first & 0x7f;
    for (let i = 1; i < length; i++) v = v * 256 + (buf[offset + i] ?? 0);
    return v;
  }
  const s = readString(buf, offset, length).trim();
  return s ? parseInt(s, 8) : 0;
}

function parsePax(data: Buffer): Record<string, string> {
  const out: Record<string, string> = {};
  let i = 0;
  while (i < data.length) {
    const space = data.indexOf(0x20, i);
    if (space === -1) break;
    const len = Number(data.subarray(i, space).toString('ascii'));
    if (!len) break;
    const record = data.subarray(space + 1, i + len - 1).toString('utf8');
    const eq = record.indexOf('=');
    if (eq > 0) out[record.slice(0, eq)] = record.slice(eq + 1);
    i += len;
  }
  return out;
}

/** Reads every entry of a tar archive held in memory. */
export function unpackTar(buf: Uint8Array): TarFile[] {
  const tar = Buffer.from(buf.buffer, buf.byteOffset, buf.byteLength);
  const files: TarFile[] = [];
  let offset = 0;
  let longName: string | null = null;
  while (offset + BLOCK <= tar.length) {
    const h = tar.subarray(offset, offset + BLOCK);
    if (h.every((b) => b === 0)) break;
    const size = readNumber(h, 124, 12);
    const typeflag = String.fromCharCode(h[156] || 0x30);
    const data = tar.subarray(offset + BLOCK, offset + BLOCK + size);
    offset += BLOCK + size + padding(size).length;
    if (typeflag === 'x' || typeflag === 'L') {
      longName =
        typeflag === 'L' ? readString(data, 0, data.length) : (parsePax(data).path ?? null);
      continue;
    }
    if (typeflag === 'g') continue;
    const prefix = readString(h, 345, 155);
    const base = readString(h, 0, 100);
    const name = longName ?? (prefix ? `${prefix}/${base}` : base);
    longName = null;
    const type: TarFile['type'] =
      typeflag === '0' || typeflag === '\0' || typeflag === '7'
        ? 'file'
        : typeflag === '5'
          ? 'directory'
          : typeflag === '2'
            ? 'symlink'
            : 'other';
    files.push({
      name,
      type,
      mode: readNumber(h, 100, 8),
      size,
      mtime: readNumber(h, 136, 12),
      linkname: readString(h, 157, 100),
      data: Buffer.from(data),
    });
  }
  return files;
}
