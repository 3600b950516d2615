// Reading the daemon's and the proxy's log files back (`hotswap daemon logs`), and following
// them as they grow, across a rotation.
import { closeSync, existsSync, openSync, readFileSync, readSync, statSync } from 'node:fs';
import { setTimeout as sleep } from 'node:timers/promises';
import { parseLine, type LogRecord } from './record.js';

export interface LogSource {
  component: string;
  path: string;
}

/** The records of one log, its rotated copy first. */
export function readLog(source: LogSource): LogRecord[] {
  const records: LogRecord[] = [];
  for (const path of [`${source.path}.1`, source.path]) {
    if (!existsSync(path)) continue;
    for (const line of readFileSync(path, 'utf8').split('\n'))
      if (line.trim() !== '') records.push(parseLine(line, source.component));
  }
  return records;
}

/**
 * Calls `emit` with each line appended to the logs from now on, until the signal aborts. A
 * rotation (the file copied to `.1`, then truncated) is seen by the copy changing: the rest of
 * what was not read yet is read from the copy, then the file again from its start.
 */
export async function followLogs(
  sources: LogSource[],
  emit: (r: LogRecord) => void,
  signal: AbortSignal,
  pollMs = 200,
): Promise<void> {
  const state = sources.map((s) => ({
    s,
    offset: sizeOf(s.path),
    rotated: signature(`${s.path}.1`),
    partial: '',
  }));
  const take = (f: (typeof state)[number], text: string): void => {
    const lines = (f.partial + text).split('\n');
    f.partial = lines.pop() ?? '';
    for (const line of lines) if (line.trim() !== '') emit(parseLine(line, f.s.component));
  };
  while (!signal.aborted) {
    for (const f of state) {
      const rotated = signature(`${f.s.path}.1`);
      if (rotated !== f.rotated) {
        f.rotated = rotated;
        const copied = sizeOf(`${f.s.path}.1`);
        if (copied > f.offset) take(f, readRange(`${f.s.path}.1`, f.offset, copied));
        f.offset = 0;
      }
      const size = sizeOf(f.s.path);
      if (size < f.offset) f.offset = 0; // truncated by someone else
      if (size === f.offset) continue;
      take(f, readRange(f.s.path, f.offset, size));
      f.offset = size;
    }
    await sleep(pollMs, undefined, { signal }).catch(() => undefined);
  }
}

/** Size and time of a file's last change, or '' when there is none. */
function signature(path: string): string {
  try {
    const st = statSync(path);
    return `${st.size}:${st.mtimeMs}:${st.ino}`;
  } catch {
    return '';
  }
}

function sizeOf(path: string): number {
  try {
    return statSync(path).size;
  } catch {
    return 0;
  }
}

function readRange(path: string, start: number, end: number): string {
  const buf = Buffer.alloc(end - start);
  const fd = openSync(path, 'r');
  try {
    const n = readSync(fd, buf, 0, buf.length, start);
    return buf.subarray(0, n).toString('utf8');
  } finally {
    closeSync(fd);
  }
}
