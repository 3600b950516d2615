// One line of a daemon or proxy log, as written (JSON) and as shown (a plain line). A line that
// is not JSON (a crash's stack trace, written by Node to stderr, which is the same file) is kept
// as a record whose message is the text.

export type LogLevel = 'debug' | 'info' | 'warn' | 'error' | 'fatal';

export interface LogRecord {
  /** ISO time; absent on a line that was not JSON. */
  time?: string;
  level: LogLevel;
  component: string;
  msg: string;
  service?: string;
  rollout?: number;
  revision?: number;
  [field: string]: unknown;
}

/** Fields every caller may add; the rest of a line's fields are free. */
export interface LogFields {
  service?: string;
  rollout?: number;
  revision?: number;
  [field: string]: unknown;
}

/** A line of `component`'s log file read back. */
export function parseLine(text: string, component: string): LogRecord {
  if (text.startsWith('{')) {
    try {
      const value = JSON.parse(text) as Partial<LogRecord>;
      if (value && typeof value === 'object' && typeof value.msg === 'string')
        return {
          ...value,
          level: value.level ?? 'info',
          component: value.component ?? component,
        } as LogRecord;
    } catch {
      // not JSON after all: kept as text below
    }
  }
  return { level: 'info', component, msg: text };
}

/** Fields shown apart in a plain line, or left out of its tail (a journal line's msg starts with its event). */
const SHOWN = new Set([
  'event',
  'time',
  'level',
  'component',
  'msg',
  'service',
  'rollout',
  'revision',
  'pid',
  'hostname',
]);

/**
 * A plain line for a person: time, component, level when not info, where (service, rollout,
 * revision), the message, then other fields as key=value.
 */
export function formatRecord(r: LogRecord): string {
  const where = [
    r.service,
    r.rollout === undefined ? undefined : `#${r.rollout}`,
    r.revision === undefined ? undefined : `r${r.revision}`,
  ].filter((x) => x !== undefined);
  const extra = Object.entries(r)
    .filter(([k, v]) => !SHOWN.has(k) && v !== undefined)
    .map(([k, v]) => `${k}=${typeof v === 'string' ? v : JSON.stringify(v)}`);
  return [
    r.time ?? '-',
    r.component,
    r.level === 'info' ? null : r.level.toUpperCase(),
    where.length ? `[${where.join(' ')}]` : null,
    r.msg,
    extra.length ? `(${extra.join(' ')})` : null,
  ]
    .filter((x) => x !== null)
    .join(' ');
}
