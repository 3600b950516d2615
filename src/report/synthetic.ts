// A synthetic recorded rollout, as the sampler would have stored it: for unit tests and for the
// report-generation benchmark (bench/impact-report.ts). Deterministic (seeded), no Docker.
import type { Store } from '../store/index.js';

export interface SyntheticRollout {
  service: string;
  /** Length of the rollout in seconds; the after window is a tenth of it. */
  seconds: number;
  ratePerSec: number;
  instances: number;
}

/** Stores a canary-like rollout r1 → r2 with traffic shifting over time; returns its id. */
export function synthesizeRollout(store: Store, o: SyntheticRollout): number {
  let seed = 42;
  const rand = (): number => (seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31;
  const latency = (base: number): number => base * (0.5 + rand()) + (rand() < 0.01 ? base * 8 : 0);
  const record = store.rollouts.start({
    service: o.service,
    kind: 'update',
    from: 1,
    to: 2,
    strategy: 'canary',
  });
  const startMs = Date.parse(record.startedAt);
  const afterS = Math.max(1, Math.round(o.seconds / 10));
  store.reports.begin({
    rolloutId: record.id,
    service: o.service,
    beforeMs: 60_000,
    afterMs: afterS * 1000,
    startedMs: startMs,
  });
  const sample = (
    atMs: number,
    spanMs: number,
    phase: 'before' | 'during' | 'after',
    share2: number,
  ): void => {
    const n = Math.round((o.ratePerSec * spanMs) / 1000);
    const rows = [1, 2].map((revision) => {
      const count = Math.round(n * (revision === 2 ? share2 : 1 - share2));
      const kept = Math.min(count, 5000);
      const latencies = new Float32Array(kept);
      for (let i = 0; i < kept; i++) latencies[i] = latency(revision === 2 ? 6 : 5);
      return {
        atMs,
        spanMs,
        phase,
        revision,
        requests: count,
        failed: Math.floor(count / 97),
        latencies,
      };
    });
    store.reports.addTraffic(
      record.id,
      rows.filter((r) => r.requests > 0),
    );
  };
  sample(startMs - 60_000, 60_000, 'before', 0);
  const weights = (share: number): void =>
    void store.journal.append({
      service: o.service,
      rolloutId: record.id,
      event: 'weights.set',
      data: { weights: { '1': 100 - share, '2': share } },
    });
  for (let s = 1; s <= o.seconds + afterS; s++) {
    const share = Math.min(1, Math.floor((s / o.seconds) * 5) / 4);
    if (
      s <= o.seconds &&
      (s === 1 || share !== Math.min(1, Math.floor(((s - 1) / o.seconds) * 5) / 4))
    )
      weights(share * 100);
    sample(startMs + s * 1000, 1000, s <= o.seconds ? 'during' : 'after', share);
    const usage = [];
    for (let i = 0; i < o.instances; i++)
      usage.push({
        atMs: startMs + s * 1000,
        instanceId: `${i < o.instances / 2 ? 'old' : 'new'}${i}`.padEnd(12, '0'),
        revision: i < o.instances / 2 ? 1 : 2,
        cpuPercent: 20 + rand() * 10,
        memoryBytes: (40 + rand() * 5) * 2 ** 20,
      });
    store.reports.addUsage(record.id, usage);
  }
  store.reports.ended(record.id, startMs + o.seconds * 1000);
  store.reports.complete(record.id);
  store.rollouts.finish(record.id, 'succeeded', null);
  return record.id;
}
