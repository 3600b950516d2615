import type { LiveInstance } from './live-group.js';

/**
 * Revision weights for the proxy. Without a percentage (rolling, recreate) each revision weighs
 * its number of serving instances, so every instance gets an equal share. With one (canary,
 * blue-green) the target gets `percent` of the traffic and the old revisions share the rest in
 * proportion to their instances. Weights are integers; only their proportions matter.
 */
export function trafficWeights(
  old: LiveInstance[],
  next: LiveInstance[],
  target: number,
  percent: number | null,
): Record<string, number> {
  const oldCounts = countByRevision(old);
  const weights: Record<string, number> = {};
  if (percent === null) {
    for (const [r, n] of Object.entries(oldCounts)) weights[r] = n;
    weights[String(target)] = next.length;
    return weights;
  }
  const oldTotal = old.length;
  for (const [r, n] of Object.entries(oldCounts)) weights[r] = (100 - percent) * n;
  weights[String(target)] = next.length === 0 ? 0 : percent * Math.max(oldTotal, 1);
  return weights;
}

function countByRevision(instances: LiveInstance[]): Record<string, number> {
  const counts: Record<string, number> = {};
  for (const i of instances) counts[String(i.revision)] = (counts[String(i.revision)] ?? 0) + 1;
  return counts;
}
