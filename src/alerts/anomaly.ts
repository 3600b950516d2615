// Anomaly detection with no threshold to set (issue 15): each series (a revision's error rate,
// its p95 latency, its memory) learns its own baseline, and a value more than z standard
// deviations above it is an anomaly. Pure: numbers in, scores out; unit-tested.
//
// - `ewma`: an exponentially weighted mean and variance that keep adapting (error rate,
//   latency), so slow drifts of a healthy service are learned. Anomalous values are not learned,
//   so a regression keeps firing instead of becoming the new normal.
// - `frozen`: the baseline is what the first `warmup` values looked like, then it stays fixed
//   (memory): a leak grows steadily, which an adaptive mean would follow and never flag.
//
// The deviation has a floor (an absolute one and a share of the mean): a perfectly flat series
// has no variance, and a 1 ms wobble on a 2 ms endpoint is not worth waking anyone.

export interface BaselineOptions {
  mode: 'ewma' | 'frozen';
  /** Weight of a new value in the ewma (0..1). */
  alpha: number;
  /** Values learned before any score is given. */
  warmup: number;
  /** Smallest standard deviation, absolute (in the series' unit). */
  minStd: number;
  /** Smallest standard deviation as a share of the mean. */
  minStdShare: number;
}

export interface Score {
  z: number;
  mean: number;
  std: number;
}

export class Baseline {
  private n = 0;
  private mean = 0;
  private variance = 0;

  constructor(readonly opts: BaselineOptions) {}

  get learned(): number {
    return this.n;
  }

  get ready(): boolean {
    return this.n >= this.opts.warmup;
  }

  /** How far above the baseline the value is (null while warming up). */
  score(x: number): Score | null {
    if (!this.ready) return null;
    const std = Math.max(
      Math.sqrt(this.variance),
      this.opts.minStd,
      Math.abs(this.mean) * this.opts.minStdShare,
    );
    return { z: (x - this.mean) / std, mean: this.mean, std };
  }

  /** Adds a value to what is normal. */
  learn(x: number): void {
    if (this.opts.mode === 'frozen' && this.ready) return;
    this.n++;
    // During warm-up (and always for frozen) a plain running mean and variance (Welford); then
    // exponential weights.
    if (this.opts.mode === 'frozen' || this.n <= this.opts.warmup) {
      const d = x - this.mean;
      this.mean += d / this.n;
      this.variance += (d * (x - this.mean) - this.variance) / this.n;
      return;
    }
    const d = x - this.mean;
    this.mean += this.opts.alpha * d;
    this.variance = (1 - this.opts.alpha) * (this.variance + this.opts.alpha * d * d);
  }

  copy(): Baseline {
    const b = new Baseline(this.opts);
    b.n = this.n;
    b.mean = this.mean;
    b.variance = this.variance;
    return b;
  }
}

export type AnomalySeries = 'errorRate' | 'latency' | 'memory';

export const SERIES_OPTIONS: Record<AnomalySeries, BaselineOptions> = {
  // A share of failed requests; a 1-point wobble is noise.
  errorRate: { mode: 'ewma', alpha: 0.1, warmup: 10, minStd: 0.01, minStdShare: 0 },
  // p95 in ms.
  latency: { mode: 'ewma', alpha: 0.1, warmup: 10, minStd: 2, minStdShare: 0.05 },
  // Bytes; flags growth of about 15 % or more over the revision's first readings at z = 3.
  memory: { mode: 'frozen', alpha: 0, warmup: 10, minStd: 2 * 1024 * 1024, minStdShare: 0.05 },
};

export interface AnomalyVerdict {
  anomalous: boolean;
  score: Score | null;
}

/**
 * One series per revision of a service. A revision seen for the first time starts from a copy
 * of the baseline of the revision the service ran before (`inheritFrom`) for ewma series, so a
 * new revision that is bad from its first request is measured against what was normal.
 */
export class AnomalyDetector {
  private readonly series = new Map<number, Baseline>();

  constructor(
    readonly kind: AnomalySeries,
    readonly z: number,
  ) {}

  /** Scores the value, then learns it if it is normal. */
  observe(revision: number, x: number, inheritFrom: number | null): AnomalyVerdict {
    const base = this.baselineOf(revision, inheritFrom);
    const score = base.score(x);
    const anomalous = score !== null && score.z > this.z;
    if (!anomalous) base.learn(x);
    return { anomalous, score };
  }

  /** Revisions no longer seen are forgotten. */
  keepOnly(revisions: Iterable<number>): void {
    const keep = new Set(revisions);
    for (const r of [...this.series.keys()]) if (!keep.has(r)) this.series.delete(r);
  }

  private baselineOf(revision: number, inheritFrom: number | null): Baseline {
    let base = this.series.get(revision);
    if (base) return base;
    const parent = inheritFrom === null ? undefined : this.series.get(inheritFrom);
    const opts = SERIES_OPTIONS[this.kind];
    base = opts.mode === 'ewma' && parent?.ready ? parent.copy() : new Baseline(opts);
    this.series.set(revision, base);
    return base;
  }
}
