// The numbers an alert rule reads, for one service at one evaluation: from the proxy's sliding
// window (error rate, percentiles, requests), from the journal (restarts: instances self-healing
// started) and from Docker's stats (cpu, memory of the busiest instance). Each is read at most
// once per evaluation, and only when a rule asks for it.
import { percentileSorted } from '../analysis/index.js';
import type { ServiceStats, StatsOptions } from '../proxy/types.js';
import { cpuPercent } from '../runtime/docker/usage.js';
import type { InstanceUsage } from '../runtime/types.js';
import type { ThresholdMetric } from '../spec/index.js';

export interface MeasureSources {
  stats: (service: string, options: StatsOptions) => Promise<ServiceStats>;
  /** Instances self-healing started for the service in the last `windowMs`. */
  restarts: (service: string, windowMs: number) => number;
  usage?: (instanceId: string) => Promise<InstanceUsage | null>;
}

/** Docker's CPU figure needs two readings: the previous one per instance, across evaluations. */
export type UsageMemory = Map<string, InstanceUsage>;

export class Measures {
  private readonly windows = new Map<number, Promise<ServiceStats>>();
  private usageRead: Promise<
    Array<{
      id: string;
      revision: number;
      cpu: number | null;
      memory: number | null;
      memoryShare: number | null;
    }>
  > | null = null;

  constructor(
    private readonly service: string,
    private readonly sources: MeasureSources,
    private readonly memory: UsageMemory,
  ) {}

  /** The proxy's numbers over the last `windowMs`. */
  window(windowMs: number): Promise<ServiceStats> {
    let w = this.windows.get(windowMs);
    if (!w) {
      w = this.sources.stats(this.service, {
        windowMs: Math.min(Math.max(1, windowMs), 3_600_000),
      });
      this.windows.set(windowMs, w);
    }
    return w;
  }

  /** A threshold metric's value over the window; null when there is nothing to measure. */
  async value(metric: ThresholdMetric, windowMs: number): Promise<number | null> {
    switch (metric) {
      case 'errorRate': {
        const { requests, failed } = totals(await this.window(windowMs));
        return requests === 0 ? null : failed / requests;
      }
      case 'requests':
        return totals(await this.window(windowMs)).requests;
      case 'p50':
      case 'p95':
      case 'p99': {
        const all = latencies(await this.window(windowMs));
        return all.length === 0 ? null : percentileSorted(all, Number(metric.slice(1)));
      }
      case 'restarts':
        return this.sources.restarts(this.service, windowMs);
      case 'cpu': {
        const cpus = (await this.usage()).map((u) => u.cpu).filter((c) => c !== null);
        return cpus.length ? Math.max(...cpus) : null;
      }
      case 'memory': {
        const shares = (await this.usage()).map((u) => u.memoryShare).filter((m) => m !== null);
        return shares.length ? Math.max(...shares) : null;
      }
    }
  }

  /** Mean memory (bytes) of each revision's instances. */
  async memoryByRevision(): Promise<Map<number, number>> {
    const sums = new Map<number, { total: number; n: number }>();
    for (const u of await this.usage()) {
      if (u.memory === null) continue;
      const s = sums.get(u.revision) ?? { total: 0, n: 0 };
      s.total += u.memory;
      s.n++;
      sums.set(u.revision, s);
    }
    return new Map([...sums].map(([r, s]) => [r, s.total / s.n]));
  }

  /** Docker stats of every instance in the proxy's table (they take about a second each: in parallel). */
  private usage() {
    this.usageRead ??= this.readUsage();
    return this.usageRead;
  }

  private async readUsage() {
    const read = this.sources.usage;
    if (!read) return [];
    const stats = await this.window(1000);
    const instances = Object.entries(stats.instances);
    const readings = await Promise.all(instances.map(([id]) => read(id).catch(() => null)));
    // Instances gone from the table are forgotten (this map is the service's own).
    for (const id of [...this.memory.keys()]) if (!(id in stats.instances)) this.memory.delete(id);
    return instances.flatMap(([id, inst], k) => {
      const cur = readings[k];
      if (!cur) return [];
      const prev = this.memory.get(id);
      this.memory.set(id, cur);
      const memory = cur.memoryBytes;
      const limit = cur.memoryLimitBytes;
      return [
        {
          id,
          revision: inst.revision,
          cpu: prev ? cpuPercent(prev, cur) : null,
          memory,
          memoryShare: memory !== null && limit ? memory / limit : null,
        },
      ];
    });
  }
}

export function totals(stats: ServiceStats): { requests: number; failed: number } {
  let requests = 0;
  let failed = 0;
  for (const r of Object.values(stats.revisions)) {
    requests += r.windowRequests ?? 0;
    failed += r.windowErrors ?? 0;
  }
  return { requests, failed };
}

/** Latencies of the window, all revisions, sorted. */
export function latencies(stats: ServiceStats): Float64Array {
  const all = Object.values(stats.revisions).flatMap((r) => r.samples ?? []);
  return Float64Array.from(all).sort();
}
