// One analysis run of a rollout: every interval, read both revisions' numbers from the proxy
// over that interval, ask the judge, record the verdict with its numbers, and stop the rollout
// as soon as the failures pass the spec's failureLimit.
import { setTimeout as sleep } from 'node:timers/promises';
import {
  aggregate,
  judge,
  withPrometheusChecks,
  type RevisionSample,
  type Verdict,
} from '../analysis/index.js';
import { HotswapError } from '../errors.js';
import type { RevisionStats, Router } from '../proxy/types.js';
import type { AnalysisRun, AnalysisSpec } from '../spec/types.js';

export interface AnalysisTarget {
  router: Router;
  analysis: AnalysisSpec;
  /** Proxy service whose stats hold the baseline (the stable revision's traffic). */
  service: string;
  /** Proxy service whose stats hold the canary's traffic (the preview service for blue-green). */
  canaryService: string;
  baselineRevisions: number[];
  /**
   * A baseline recorded earlier (the watch after promotion: the stable revision's traffic before
   * the rollout), judged against instead of the baseline revisions' traffic of each interval.
   */
  baseline?: RevisionSample;
  canaryRevision: number;
  record: (verdict: Verdict, index: number, count: number) => void;
  signal: AbortSignal;
}

export async function runAnalysis(t: AnalysisTarget, run: AnalysisRun): Promise<Verdict[]> {
  const verdicts: Verdict[] = [];
  for (let i = 1; i <= run.count; i++) {
    await sleep(run.intervalMs, undefined, { signal: t.signal });
    const verdict = await judgeWindow(t, run.intervalMs);
    verdicts.push(verdict);
    t.record(verdict, i, run.count);
    const sofar = aggregate(verdicts, t.analysis.failureLimit);
    if (sofar.result === 'fail') {
      throw new HotswapError('ANALYSIS_FAILED', `analysis failed: ${verdict.reasons.join('; ')}`, {
        details: { verdicts },
      });
    }
  }
  const overall = aggregate(verdicts, t.analysis.failureLimit);
  if (overall.result !== 'pass') {
    // Never judged (too little traffic) is not a pass: promoting blind would defeat the gate.
    const last = verdicts.at(-1)?.reasons.join('; ') ?? '';
    throw new HotswapError(
      'ANALYSIS_FAILED',
      `analysis inconclusive after ${run.count} judgement(s): ${last}`,
      { details: { verdicts } },
    );
  }
  return verdicts;
}

async function judgeWindow(t: AnalysisTarget, windowMs: number): Promise<Verdict> {
  const main = await t.router.stats(t.service, { windowMs });
  const canaryStats =
    t.canaryService === t.service ? main : await t.router.stats(t.canaryService, { windowMs });
  const baseline =
    t.baseline ?? mergeSamples(t.baselineRevisions.map((r) => main.revisions[String(r)]));
  const canary = mergeSamples([canaryStats.revisions[String(t.canaryRevision)]]);
  const verdict = judge(
    {
      minRequests: t.analysis.minRequests,
      errorRate: t.analysis.errorRate,
      latency: t.analysis.latency,
    },
    baseline,
    canary,
  );
  return t.analysis.prometheus ? withPrometheus(t, verdict, t.analysis.prometheus) : verdict;
}

/** The window's numbers of some revisions, as one sample for the judge. */
export function mergeSamples(stats: Array<RevisionStats | undefined>): RevisionSample {
  const sample: RevisionSample = { requests: 0, errors: 0, latenciesMs: [] };
  for (const s of stats) {
    if (!s) continue;
    sample.requests += s.windowRequests ?? 0;
    sample.errors += s.windowErrors ?? 0;
    for (const x of s.samples ?? []) sample.latenciesMs.push(x);
  }
  return sample;
}

/** App metrics from Prometheus, with {{canary}}, {{stable}} and {{service}} filled in. */
function withPrometheus(
  t: AnalysisTarget,
  verdict: Verdict,
  prom: NonNullable<AnalysisSpec['prometheus']>,
): Promise<Verdict> {
  const fetchFn = (url: string) => fetch(url, { signal: AbortSignal.timeout(5000) });
  const placeholders = {
    canary: t.canaryRevision,
    stable: t.baselineRevisions,
    service: t.canaryService,
  };
  return withPrometheusChecks(verdict, prom, placeholders, fetchFn);
}
