// What one evaluation of a rule's condition finds: whether it holds, the value, and a sentence
// for the alert's message. Thresholds compare a measure with the limit; anomaly rules score each
// revision's reading against its learned baseline (anomaly.ts).
import { percentileSorted } from '../analysis/index.js';
import {
  formatCondition,
  formatDuration,
  formatMetricValue,
  type AlertCondition,
} from '../spec/index.js';
import { AnomalyDetector } from './anomaly.js';
import { latencies, type Measures } from './measure.js';

export interface Outcome {
  holds: boolean;
  /** Threshold: the metric's value; anomaly: the worst z-score; null: no data. */
  value: number | null;
  text: string;
}

export type ThresholdCondition = Extract<AlertCondition, { kind: 'threshold' }>;
export type AnomalyCondition = Extract<AlertCondition, { kind: 'anomaly' }>;

/** Fewer requests (or latency samples) than this in an interval give no anomaly reading. */
const MIN_ANOMALY_SAMPLES = 20;

export async function thresholdOutcome(
  c: ThresholdCondition,
  windowMs: number,
  measures: Measures,
): Promise<Outcome> {
  const value = await measures.value(c.metric, windowMs);
  if (value === null) return { holds: false, value, text: `${c.metric}: no data` };
  return {
    holds: compare(value, c.op, c.value),
    value,
    text: `${c.metric} ${formatMetricValue(c.metric, value)} (${formatCondition(c)} over ${formatDuration(windowMs)})`,
  };
}

function compare(value: number, op: ThresholdCondition['op'], limit: number): boolean {
  switch (op) {
    case '>':
      return value > limit;
    case '>=':
      return value >= limit;
    case '<':
      return value < limit;
    case '<=':
      return value <= limit;
  }
}

/** The baselines of one anomaly rule, one per revision. */
export class AnomalyRule {
  private readonly detector: AnomalyDetector;

  constructor(private readonly c: AnomalyCondition) {
    this.detector = new AnomalyDetector(c.metric, c.z);
  }

  /** Scores the interval's reading of every revision; holds when any is anomalous. */
  async evaluate(measures: Measures, spanMs: number, stable: number | null): Promise<Outcome> {
    const readings = await this.readings(measures, spanMs);
    let worst: { revision: number; z: number; value: number; mean: number } | null = null;
    let holds = false;
    for (const [revision, x] of readings) {
      const v = this.detector.observe(revision, x, revision === stable ? null : stable);
      if (v.score && (worst === null || v.score.z > worst.z))
        worst = { revision, z: v.score.z, value: x, mean: v.score.mean };
      holds ||= v.anomalous;
    }
    this.detector.keepOnly([...readings.keys(), ...(stable === null ? [] : [stable])]);
    const metric = this.c.metric;
    if (worst === null) return { holds: false, value: null, text: `${metric}: learning` };
    const name = metric === 'latency' ? 'p95 latency' : metric;
    return {
      holds,
      value: worst.z,
      text: `${name} ${this.format(worst.value)} on r${worst.revision} is ${worst.z.toFixed(1)}σ from its baseline ${this.format(worst.mean)}`,
    };
  }

  /** Per revision: the interval's error rate, its p95 latency, or its instances' mean memory. */
  private async readings(measures: Measures, spanMs: number): Promise<Map<number, number>> {
    if (this.c.metric === 'memory') return measures.memoryByRevision();
    const stats = await measures.window(Math.max(1, spanMs));
    const out = new Map<number, number>();
    for (const [rev, r] of Object.entries(stats.revisions)) {
      const requests = r.windowRequests ?? 0;
      if (this.c.metric === 'errorRate' && requests >= MIN_ANOMALY_SAMPLES)
        out.set(Number(rev), (r.windowErrors ?? 0) / requests);
      if (this.c.metric === 'latency' && (r.samples?.length ?? 0) >= MIN_ANOMALY_SAMPLES)
        out.set(
          Number(rev),
          percentileSorted(latencies({ ...stats, revisions: { [rev]: r } }), 95),
        );
    }
    return out;
  }

  private format(x: number): string {
    if (this.c.metric === 'memory') return `${(x / 1048576).toFixed(1)} MiB`;
    if (this.c.metric === 'latency') return `${x.toFixed(1)}ms`;
    return formatMetricValue('errorRate', x);
  }
}
