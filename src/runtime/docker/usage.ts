// CPU and memory of one container from the Engine API's stats (GET /containers/{id}/stats,
// stream=false, one-shot): raw counters; the caller turns two readings into a CPU percentage.
import type { InstanceUsage } from '../types.js';
import type { ContainerStats } from './containers.js';

export function toUsage(s: ContainerStats, atMs: number): InstanceUsage {
  const mem = s.memory_stats ?? {};
  // As `docker stats` does: page cache that can be dropped is not the process's memory.
  const inactive = mem.stats?.['inactive_file'] ?? mem.stats?.['total_inactive_file'] ?? 0;
  const cpu = s.cpu_stats;
  return {
    atMs,
    cpuTotalNs: cpu?.cpu_usage?.total_usage ?? null,
    systemNs: cpu?.system_cpu_usage ?? null,
    onlineCpus: cpu?.online_cpus ?? cpu?.cpu_usage?.percpu_usage?.length ?? 1,
    memoryBytes: mem.usage === undefined ? null : Math.max(0, mem.usage - inactive),
    memoryLimitBytes: mem.limit ?? null,
  };
}

/** CPU % of one instance between two readings (100 % = one full core), as `docker stats` shows it. */
export function cpuPercent(prev: InstanceUsage, cur: InstanceUsage): number | null {
  if (prev.cpuTotalNs === null || cur.cpuTotalNs === null) return null;
  if (prev.systemNs === null || cur.systemNs === null) return null;
  const cpuDelta = cur.cpuTotalNs - prev.cpuTotalNs;
  const sysDelta = cur.systemNs - prev.systemNs;
  if (sysDelta <= 0 || cpuDelta < 0) return null;
  return (cpuDelta / sysDelta) * cur.onlineCpus * 100;
}
