// Which log records `hotswap daemon logs` shows: since a time, of one service, the last N.
import type { LogRecord } from './record.js';

export interface LogFilter {
  /** Epoch ms; records before are left out (a line without a time goes with the one before it). */
  sinceMs?: number;
  service?: string;
}

export function matches(r: LogRecord, f: LogFilter): boolean {
  if (f.service !== undefined && r.service !== f.service) return false;
  if (f.sinceMs !== undefined && r.time !== undefined && Date.parse(r.time) < f.sinceMs)
    return false;
  return true;
}

/**
 * Records of several logs in time order (a stable sort: lines without a time, a stack trace
 * say, keep their place after the line before them), filtered, the last `tail` of them.
 */
export function selectRecords(
  logs: LogRecord[][],
  f: LogFilter,
  tail: number | undefined,
): LogRecord[] {
  const keyed: Array<{ r: LogRecord; t: number }> = [];
  for (const records of logs) {
    let last = 0;
    for (const r of records) {
      const t = r.time === undefined ? last : Date.parse(r.time);
      last = Number.isNaN(t) ? last : t;
      keyed.push({ r, t: last });
    }
  }
  keyed.sort((a, b) => a.t - b.t);
  const picked: LogRecord[] = [];
  let keepUntimed = true;
  for (const { r } of keyed) {
    // An untimed line (a stack) follows the fate of the timed line before it in the filter.
    const ok: boolean =
      r.time === undefined && f.service === undefined ? keepUntimed : matches(r, f);
    if (r.time !== undefined) keepUntimed = ok;
    if (ok) picked.push(r);
  }
  return tail === undefined ? picked : picked.slice(Math.max(0, picked.length - tail));
}
