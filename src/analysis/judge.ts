// The canary judge: one measurement interval's numbers for the baseline (stable revision) and
// the canary (new revision), both counted by the proxy, turned into pass / fail / inconclusive
// with reasons a person can act on. A check fails only when the canary is both *statistically*
// worse than the baseline and worse by more than the configured *practical* margin: significance
// alone would roll back harmless differences once traffic is large, and a threshold alone would
// roll back on noise when traffic is small.
import { HotswapError } from '../errors.js';
import { fixed, ms, pct, pctLimit, pValue as fmtP } from './format.js';
import { mannWhitneyU } from './mann-whitney.js';
import { percentiles } from './percentile.js';
import { compareErrorRates, type ProportionTestResult } from './proportions.js';

export interface RevisionSample {
  requests: number;
  errors: number;
  latenciesMs: number[];
}

export interface AnalysisConfig {
  /** Requests (and latency samples) needed on each side before judging at all. */
  minRequests: number;
  errorRate: { maxAbsolute: number; alpha: number } | null;
  /**
   * maxP50Ratio (optional): a median shift this large fails too. A tail (p99) is what users feel,
   * but on a busy host it is mostly scheduling noise; a doubled median is not noise.
   */
  latency: { maxP99Ratio: number; alpha: number; minDeltaMs?: number; maxP50Ratio?: number } | null;
}

export type CheckResult = 'pass' | 'fail' | 'inconclusive';

export interface ErrorRateMetrics extends ProportionTestResult {
  threshold: number;
  alpha: number;
  result: CheckResult;
}

export interface LatencyMetrics {
  baselineP50: number;
  baselineP90: number;
  baselineP99: number;
  canaryP50: number;
  canaryP90: number;
  canaryP99: number;
  /** canary p99 / baseline p99; Infinity when only the baseline's p99 is 0. */
  ratio: number;
  deltaP99Ms: number;
  /** One-sided Mann-Whitney U1 (canary over baseline). */
  u: number;
  z: number;
  pValue: number;
  method: 'exact' | 'normal';
  n1: number;
  n2: number;
  effect: number;
  result: CheckResult;
}

export interface Verdict {
  result: CheckResult;
  reasons: string[];
  metrics: { errorRate?: ErrorRateMetrics; latency?: LatencyMetrics };
}

/**
 * With an error-free baseline, this many canary errors (and a rate above maxAbsolute) fail the
 * canary even without p < alpha. Zero baseline errors is what a healthy service usually shows,
 * and then the test's power depends on the baseline's size: a small baseline (a fresh stable
 * revision, a low-traffic interval) could let a canary with a clearly broken rate through for
 * several intervals. Five errors is Cochran's smallest expected count: below it one or two
 * unlucky requests would decide a rollback.
 */
export const MIN_ERRORS_VS_CLEAN_BASELINE = 5;

export function judge(
  config: AnalysisConfig,
  baseline: RevisionSample,
  canary: RevisionSample,
): Verdict {
  validateConfig(config);
  validateSample(baseline, 'baseline');
  validateSample(canary, 'canary');
  const need = Math.max(1, config.minRequests);
  if (baseline.requests < need || canary.requests < need) {
    return {
      result: 'inconclusive',
      reasons: [
        `too few requests to judge: canary ${canary.requests}, baseline ${baseline.requests} (need ${need} each)`,
      ],
      metrics: {},
    };
  }
  const reasons: string[] = [];
  const results: CheckResult[] = [];
  const metrics: Verdict['metrics'] = {};
  if (config.errorRate) {
    const check = judgeErrorRate(config.errorRate, baseline, canary);
    metrics.errorRate = check.metrics;
    results.push(check.metrics.result);
    reasons.push(check.reason);
  }
  if (config.latency) {
    const check = judgeLatency(config.latency, need, baseline, canary);
    if (check.metrics) metrics.latency = check.metrics;
    // No metrics means too few latency samples: unknown, not good.
    results.push(check.metrics?.result ?? 'inconclusive');
    reasons.push(check.reason);
  }
  if (reasons.length === 0) reasons.push('no checks configured');
  return { result: combine(results), reasons, metrics };
}

function judgeErrorRate(
  cfg: NonNullable<AnalysisConfig['errorRate']>,
  baseline: RevisionSample,
  canary: RevisionSample,
): { metrics: ErrorRateMetrics; reason: string } {
  const t = compareErrorRates(canary.errors, canary.requests, baseline.errors, baseline.requests);
  const above = t.canaryRate > cfg.maxAbsolute;
  const significant = t.pValue < cfg.alpha;
  const cleanBaseline = t.baselineErrors === 0 && t.canaryErrors >= MIN_ERRORS_VS_CLEAN_BASELINE;
  const fail = above && (significant || cleanBaseline);
  const head =
    `error rate ${pct(t.canaryRate)} (${t.canaryErrors}/${t.canaryTotal}) vs baseline ` +
    `${pct(t.baselineRate)} (${t.baselineErrors}/${t.baselineTotal}): ` +
    `z=${fixed(t.z)}, p=${fmtP(t.pValue)} (${t.method})`;
  const limit = pctLimit(cfg.maxAbsolute);
  let tail: string;
  if (!above) tail = `within ${limit}`;
  else if (significant) tail = `above ${limit}`;
  else if (cleanBaseline)
    tail = `above ${limit} with ${t.canaryErrors} errors against an error-free baseline`;
  else tail = `above ${limit} but not significantly above baseline (p >= ${cfg.alpha})`;
  return {
    metrics: { ...t, threshold: cfg.maxAbsolute, alpha: cfg.alpha, result: fail ? 'fail' : 'pass' },
    reason: `${head}, ${tail}`,
  };
}

/**
 * A p99 needs this many samples on each side to be more than the largest few: with 40 samples
 * "p99" is the maximum, one scheduling hiccup. Below it the p99 criterion is left out and the
 * verdict rests on the U test and the median.
 */
export const MIN_TAIL_SAMPLES = 100;

function judgeLatency(
  cfg: NonNullable<AnalysisConfig['latency']>,
  need: number,
  baseline: RevisionSample,
  canary: RevisionSample,
): { metrics?: LatencyMetrics; reason: string } {
  const nb = baseline.latenciesMs.length;
  const nc = canary.latenciesMs.length;
  if (nb < need || nc < need) {
    return { reason: `latency: too few samples: canary ${nc}, baseline ${nb} (need ${need} each)` };
  }
  const b = percentiles(baseline.latenciesMs, [50, 90, 99]);
  const c = percentiles(canary.latenciesMs, [50, 90, 99]);
  const [bP99, cP99] = [b[99]!, c[99]!];
  const ratio = bP99 > 0 ? cP99 / bP99 : cP99 > 0 ? Infinity : 1;
  const delta = cP99 - bP99;
  const mw = mannWhitneyU(canary.latenciesMs, baseline.latenciesMs, 'greater');
  const slower = mw.pValue < cfg.alpha;
  const tailKnown = nb >= MIN_TAIL_SAMPLES && nc >= MIN_TAIL_SAMPLES;
  const ratioAbove = tailKnown && ratio > cfg.maxP99Ratio;
  const deltaAbove = cfg.minDeltaMs === undefined || delta > cfg.minDeltaMs;
  const p50Ratio = b[50]! > 0 ? c[50]! / b[50]! : c[50]! > 0 ? Infinity : 1;
  const medianAbove =
    cfg.maxP50Ratio !== undefined &&
    p50Ratio > cfg.maxP50Ratio &&
    (cfg.minDeltaMs === undefined || c[50]! - b[50]! > cfg.minDeltaMs);
  const fail = slower && ((ratioAbove && deltaAbove) || medianAbove);
  const head =
    `latency p99 ${ms(cP99)} vs baseline ${ms(bP99)} (x${fixed(ratio)}), ` +
    `p50 ${ms(c[50]!)} vs ${ms(b[50]!)}: U=${mw.u1}, p=${fmtP(mw.pValue)} (${mw.method})`;
  let tail: string;
  if (fail && medianAbove && !(ratioAbove && deltaAbove)) {
    tail = `canary slower and p50 ratio x${fixed(p50Ratio)} above x${cfg.maxP50Ratio}`;
  } else if (fail) tail = `canary slower and p99 ratio above x${cfg.maxP99Ratio}`;
  else if (!slower) tail = `not significantly slower (p >= ${cfg.alpha})`;
  else if (!tailKnown)
    tail = `slower, p50 within x${cfg.maxP50Ratio ?? '∞'}; p99 not compared below ${MIN_TAIL_SAMPLES} samples a side`;
  else if (!ratioAbove) tail = `slower but p99 ratio within x${cfg.maxP99Ratio}`;
  else tail = `slower but p99 difference ${ms(delta)} within minDeltaMs ${ms(cfg.minDeltaMs ?? 0)}`;
  const metrics: LatencyMetrics = {
    baselineP50: b[50]!,
    baselineP90: b[90]!,
    baselineP99: bP99,
    canaryP50: c[50]!,
    canaryP90: c[90]!,
    canaryP99: cP99,
    ratio,
    deltaP99Ms: delta,
    u: mw.u1,
    z: mw.z,
    pValue: mw.pValue,
    method: mw.method,
    n1: mw.n1,
    n2: mw.n2,
    effect: mw.effect,
    result: fail ? 'fail' : 'pass',
  };
  return { metrics, reason: `${head}, ${tail}` };
}

/** Any failure fails the interval; otherwise any unknown keeps it inconclusive. */
function combine(results: readonly CheckResult[]): CheckResult {
  if (results.includes('fail')) return 'fail';
  if (results.includes('inconclusive')) return 'inconclusive';
  return 'pass';
}

function validateConfig(config: AnalysisConfig): void {
  const bad = (what: string): never => {
    throw new HotswapError('USAGE', `invalid analysis config: ${what}`);
  };
  if (!(config.minRequests >= 0)) bad(`minRequests must be >= 0, got ${config.minRequests}`);
  const { errorRate, latency } = config;
  if (errorRate) {
    if (!(errorRate.maxAbsolute >= 0 && errorRate.maxAbsolute <= 1)) {
      bad(`errorRate.maxAbsolute must be in [0, 1], got ${errorRate.maxAbsolute}`);
    }
    if (!(errorRate.alpha > 0 && errorRate.alpha < 1)) bad(`errorRate.alpha must be in (0, 1)`);
  }
  if (latency) {
    if (!(latency.maxP99Ratio > 0)) bad(`latency.maxP99Ratio must be > 0`);
    if (!(latency.alpha > 0 && latency.alpha < 1)) bad(`latency.alpha must be in (0, 1)`);
    if (latency.minDeltaMs !== undefined && !(latency.minDeltaMs >= 0)) {
      bad(`latency.minDeltaMs must be >= 0`);
    }
  }
}

function validateSample(s: RevisionSample, name: string): void {
  const ok =
    Number.isInteger(s.requests) &&
    Number.isInteger(s.errors) &&
    s.errors >= 0 &&
    s.errors <= s.requests &&
    s.latenciesMs.every((v) => Number.isFinite(v) && v >= 0);
  if (!ok) {
    throw new HotswapError(
      'USAGE',
      `invalid ${name} sample: need integers 0 <= errors <= requests and finite latencies >= 0`,
    );
  }
}
