// Per-revision counters that canary analysis and impact reports read. They are cumulative for
// the life of the proxy process (readers take deltas) and survive the revision's instances, so a
// drained revision's numbers are still there when the report is written.
import type { LatencyHistogram, RevisionStats } from './types.js';

/** Upper bounds (ms) of the latency buckets; the last bucket is open-ended. */
export const LATENCY_BOUNDS_MS: readonly number[] = [
  5, 10, 25, 50, 100, 250, 500, 1000, 2500, 5000, 10000,
];

// Indexed by Math.floor(status / 100), so the hot path does no string building.
const STATUS_KEYS = ['0xx', '1xx', '2xx', '3xx', '4xx', '5xx'];

export class RevisionCounters {
  requests = 0;
  errors = 0;
  private readonly statuses = [0, 0, 0, 0, 0, 0];
  private readonly latency = new Array<number>(LATENCY_BOUNDS_MS.length + 1).fill(0);
  private latencySumMs = 0;

  /** One finished client request; status 0 means no response header was sent. */
  record(status: number, latencyMs: number, failed: boolean): void {
    this.requests++;
    if (failed) this.errors++;
    const cls = (status / 100) | 0;
    if (cls > 0 && cls < 6) this.statuses[cls]!++;
    let i = 0;
    while (i < LATENCY_BOUNDS_MS.length && latencyMs > LATENCY_BOUNDS_MS[i]!) i++;
    this.latency[i]!++;
    this.latencySumMs += latencyMs;
  }

  snapshot(): RevisionStats {
    const statuses: Record<string, number> = {};
    for (let cls = 1; cls < 6; cls++) {
      if (this.statuses[cls]! > 0) statuses[STATUS_KEYS[cls]!] = this.statuses[cls]!;
    }
    const latencyMs: LatencyHistogram = {
      bounds: [...LATENCY_BOUNDS_MS],
      counts: [...this.latency],
      sum: Math.round(this.latencySumMs * 1000) / 1000,
    };
    return { requests: this.requests, statuses, errors: this.errors, latencyMs };
  }
}
