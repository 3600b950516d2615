// A service's live resources (issue 16) as Docker's container settings, both at creation and
// through POST /containers/{id}/update, and read back from inspect and stats.
import type { ResourcesSpec } from '../../spec/types.js';
import type { ContainerInspect, ContainerStats, Resources } from './containers.js';

/**
 * Engine settings for the limits. Memory without memorySwap gets Docker's own default (as much
 * swap as memory) spelled out, so a later update that raises memory is not refused for being
 * above the swap limit the engine derived at creation.
 */
export function toDockerResources(r: ResourcesSpec): Resources {
  const out: Resources = {};
  if (r.cpus !== undefined) out.NanoCpus = Math.round(r.cpus * 1e9);
  if (r.memory !== undefined) {
    out.Memory = r.memory;
    out.MemorySwap = r.memorySwap ?? r.memory * 2;
  }
  if (r.pids !== undefined) out.PidsLimit = r.pids;
  return out;
}

/** The limits a container has now, as inspect shows them (0 / unset = no limit). */
export function resourcesOf(c: ContainerInspect): ResourcesSpec {
  const h = c.HostConfig;
  const out: ResourcesSpec = {};
  if (h.NanoCpus) out.cpus = h.NanoCpus / 1e9;
  if (h.Memory) out.memory = h.Memory;
  if (h.MemorySwap) out.memorySwap = h.MemorySwap;
  if (h.PidsLimit && h.PidsLimit > 0) out.pids = h.PidsLimit;
  return out;
}

/** Memory in use the way `docker stats` counts it: usage less the inactive page cache. */
export function memoryInUse(stats: ContainerStats): number {
  const m = stats.memory_stats;
  const cache = m.stats?.['inactive_file'] ?? m.stats?.['total_inactive_file'] ?? 0;
  return Math.max(0, (m.usage ?? 0) - cache);
}
