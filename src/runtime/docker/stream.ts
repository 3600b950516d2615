// Docker's multiplexed stdout/stderr stream (logs, attach and exec of a container without a
// TTY): frames of an 8-byte header [stream, 0, 0, 0, size (uint32 BE)] followed by size bytes.

export type StreamName = 'stdin' | 'stdout' | 'stderr';

export interface Frame {
  stream: StreamName;
  data: Buffer;
}

export interface Output {
  stdout: string;
  stderr: string;
  /** stdout and stderr interleaved in arrival order. */
  combined: string;
}

const HEADER = 8;
const NAMES: Record<number, StreamName> = { 0: 'stdin', 1: 'stdout', 2: 'stderr' };

/** Incremental demultiplexer: push chunks as they arrive, get whole frames back. */
export class Demuxer {
  private pending: Buffer = Buffer.alloc(0);

  push(chunk: Uint8Array): Frame[] {
    this.pending = this.pending.length
      ? Buffer.concat([this.pending, chunk])
      : Buffer.from(chunk.buffer, chunk.byteOffset, chunk.byteLength);
    const frames: Frame[] = [];
    while (this.pending.length >= HEADER) {
      const kind = this.pending[0] ?? 1;
      const size = this.pending.readUInt32BE(4);
      if (this.pending.length < HEADER + size) break;
      frames.push({
        stream: NAMES[kind] ?? 'stdout',
        data: Buffer.from(this.pending.subarray(HEADER, HEADER + size)),
      });
      this.pending = this.pending.subarray(HEADER + size);
    }
    return frames;
  }

  /** Bytes left over that do not make a whole frame (a truncated stream). */
  get leftover(): number {
    return this.pending.length;
  }
}

export function demuxBuffer(buf: Uint8Array): Frame[] {
  return new Demuxer().push(buf);
}

/** Frames of a multiplexed stream; with tty=true the stream is raw and all of it is stdout. */
export async function* demuxStream(
  source: AsyncIterable<Uint8Array> | Iterable<Uint8Array>,
  opts: { tty?: boolean } = {},
): AsyncGenerator<Frame> {
  if (opts.tty) {
    for await (const chunk of source) yield { stream: 'stdout', data: Buffer.from(chunk) };
    return;
  }
  const demuxer = new Demuxer();
  for await (const chunk of source) yield* demuxer.push(chunk);
}

export function framesToOutput(frames: Iterable<Frame>): Output {
  const out: Buffer[] = [];
  const err: Buffer[] = [];
  const all: Buffer[] = [];
  for (const f of frames) {
    if (f.stream === 'stderr') err.push(f.data);
    else out.push(f.data);
    all.push(f.data);
  }
  return {
    stdout: Buffer.concat(out).toString('utf8'),
    stderr: Buffer.concat(err).toString('utf8'),
    combined: Buffer.concat(all).toString('utf8'),
  };
}

export async function collectOutput(
  source: AsyncIterable<Uint8Array> | Iterable<Uint8Array>,
  opts: { tty?: boolean } = {},
): Promise<Output> {
  const frames: Frame[] = [];
  for await (const f of demuxStream(source, opts)) frames.push(f);
  return framesToOutput(frames);
}
