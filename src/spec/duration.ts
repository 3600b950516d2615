// Durations in hotswap.yaml: a number with a unit ("500ms", "2s", "1.5m", "1h"), several of them
// in a row as Compose and Go write them ("1m30s", "1h2m3s500ms"), or a bare number meaning
// seconds, the unit people reach for first when they write a timeout. Inside hotswap every
// duration is a whole number of milliseconds.

const UNIT_MS = { ms: 1, s: 1000, m: 60_000, h: 3_600_000 } as const;
type Unit = keyof typeof UNIT_MS;

/** The accepted text form; the JSON Schema reuses it so editors flag the same strings we reject. */
export const DURATION_PATTERN = '^(\\d+(\\.\\d+)?|(\\d+(\\.\\d+)?(ms|s|m|h))+)$';
const DURATION_RE = new RegExp(DURATION_PATTERN);
const PART_RE = /(\d+(?:\.\d+)?)(ms|s|m|h)/g;

/** Node timers overflow past 2^31-1 ms (they then fire at once), so longer durations are refused. */
export const MAX_DURATION_MS = 596 * UNIT_MS.h;

/** Milliseconds for a YAML duration value, or a short reason why it is not one. */
export function parseDuration(value: unknown): number | string {
  let ms: number;
  if (typeof value === 'number') {
    if (!Number.isFinite(value)) return 'not a finite number';
    if (value < 0) return 'negative';
    ms = value * UNIT_MS.s;
  } else if (typeof value === 'string') {
    const text = value.trim();
    const match = DURATION_RE.exec(text);
    if (!match) return durationFormatReason(text);
    ms = /^[\d.]+$/.test(text) ? Number.parseFloat(text) * UNIT_MS.s : sumParts(text);
  } else {
    return 'not a number or a string';
  }
  ms = Math.round(ms);
  if (ms > MAX_DURATION_MS) return `longer than the ${MAX_DURATION_MS / UNIT_MS.h}h limit`;
  return ms;
}

// "1m30s" → 90000: each number times its unit.
function sumParts(text: string): number {
  let total = 0;
  for (const part of text.matchAll(PART_RE)) {
    total += Number.parseFloat(part[1] ?? '0') * UNIT_MS[(part[2] ?? 's') as Unit];
  }
  return total;
}

// Says which part of a rejected string is wrong, since "2 sec" and "-1s" fail for different reasons.
function durationFormatReason(text: string): string {
  if (text.startsWith('-')) return 'negative';
  const unit = /^(?:[\d.]+(?:ms|s|m|h))*[\d.]+\s*([a-zA-Z]+)$/.exec(text)?.[1];
  if (unit !== undefined && !(unit in UNIT_MS)) return `unknown unit "${unit}"; use ms, s, m or h`;
  return 'not a number followed by ms, s, m or h';
}

/** Shortest exact text for a duration in ms, e.g. 1500 → "1.5s", 60000 → "1m". */
export function formatDuration(ms: number): string {
  if (ms !== 0 && ms % UNIT_MS.h === 0) return `${ms / UNIT_MS.h}h`;
  if (ms !== 0 && ms % UNIT_MS.m === 0) return `${ms / UNIT_MS.m}m`;
  if (ms >= UNIT_MS.s) return `${ms / UNIT_MS.s}s`;
  return `${ms}ms`;
}
