// The CI gate of `hotswap assess`: its flags, parsed with errors that name the flag, and the
// judgement of the client-side samples of a load run around one update.
import { HotswapError } from '../errors.js';
import { parseDuration } from '../spec/duration.js';
import type { Sample } from './loadgen.js';
import { summarize, type LoadSummary } from './summary.js';

export interface GateThresholds {
  /** Failed requests allowed over the whole run (transport errors and non-2xx). */
  maxFailed: number;
  /** Allowed rise of p99 during the update over the baseline, as a fraction (0.2 = 20 %); null: not checked. */
  maxP99Increase: number | null;
}

export interface GateResult {
  passed: boolean;
  /** One sentence per broken threshold. */
  breaches: string[];
  /** Checks that could not be made, with the reason (not a breach). */
  notJudged: string[];
  all: LoadSummary;
  baseline: LoadSummary;
  during: LoadSummary;
  after: LoadSummary;
  p99IncreasePct: number | null;
}

/** Fewer baseline requests than this and the p99 comparison is not judged. */
export const MIN_BASELINE_REQUESTS = 50;

/** "500/s", "500", "30000/m" → requests per second. */
export function parseRate(value: string): number {
  const m = /^(\d+(?:\.\d+)?)(?:\/(s|m))?$/.exec(value.trim());
  const n = m ? Number(m[1]) / (m[2] === 'm' ? 60 : 1) : NaN;
  if (!(n > 0 && n <= 100_000))
    throw new HotswapError(
      'USAGE',
      `--rate: expected requests per second like 500/s, got "${value}"`,
    );
  return n;
}

/** "20%", "0.2" → 0.2; the flag name goes into the error. */
export function parseShare(value: string, flag: string, max = Infinity): number {
  const m = /^(\d+(?:\.\d+)?)(%)?$/.exec(value.trim());
  const n = m ? Number(m[1]) / (m[2] ? 100 : 1) : NaN;
  if (!(n >= 0 && n <= max))
    throw new HotswapError(
      'USAGE',
      `${flag}: expected a percentage like 20% or a fraction like 0.2, got "${value}"`,
    );
  return n;
}

export function parseLoadDuration(value: string): number {
  const ms = parseDuration(value);
  if (typeof ms === 'string' || ms < 1000)
    throw new HotswapError(
      'USAGE',
      `--duration: expected a duration of at least 1s like 60s, got "${value}"`,
    );
  return ms;
}

/** Judges samples of a run whose update ran from updateStart to updateEnd (ms since load start). */
export function judgeRun(
  samples: Sample[],
  updateStart: number,
  updateEnd: number,
  t: GateThresholds,
): GateResult {
  const all = summarize(samples);
  const baseline = summarize(samples, 0, updateStart);
  const during = summarize(samples, updateStart, updateEnd);
  const after = summarize(samples, updateEnd);
  const breaches: string[] = [];
  const notJudged: string[] = [];
  if (all.failed > t.maxFailed) {
    const kinds = Object.entries(all.errors)
      .map(([k, n]) => `${k}: ${n}`)
      .join(', ');
    breaches.push(`${all.failed} failed request(s) > --max-failed ${t.maxFailed} (${kinds})`);
  }
  let p99IncreasePct: number | null = null;
  if (baseline.sent >= MIN_BASELINE_REQUESTS && baseline.p99Ms > 0 && during.sent > 0) {
    p99IncreasePct = Math.round(((during.p99Ms - baseline.p99Ms) / baseline.p99Ms) * 1000) / 10;
  }
  if (t.maxP99Increase !== null) {
    if (p99IncreasePct === null) {
      notJudged.push(
        `p99 increase: baseline has ${baseline.sent} request(s) (< ${MIN_BASELINE_REQUESTS}) or the update saw none`,
      );
    } else if (p99IncreasePct > t.maxP99Increase * 100) {
      breaches.push(
        `p99 rose ${p99IncreasePct}% (${baseline.p99Ms} ms → ${during.p99Ms} ms) > --max-p99-increase ${Math.round(t.maxP99Increase * 1000) / 10}%`,
      );
    }
  }
  return {
    passed: breaches.length === 0,
    breaches,
    notJudged,
    all,
    baseline,
    during,
    after,
    p99IncreasePct,
  };
}

/** The load URL for a listener address: wildcard and localhost become loopback. */
export function loopbackUrl(listen: string): string {
  const m = /^(.*):(\d+)$/.exec(listen);
  if (!m) throw new HotswapError('USAGE', `cannot read the listener address "${listen}"`);
  const host = m[1]!.replace(/^\[|\]$/g, '');
  const port = m[2]!;
  if (host === '' || host === '0.0.0.0' || host === 'localhost' || host === '127.0.0.1')
    return `http://127.0.0.1:${port}/`;
  if (host === '::' || host === '::1') return `http://[::1]:${port}/`;
  throw new HotswapError(
    'USAGE',
    `assess sends load to loopback only, and the service listens on ${listen}: listen on 127.0.0.1, 0.0.0.0 or [::]`,
  );
}
