import type { RollingStrategy } from '../spec/types.js';
import type { GroupCounts, Step } from './types.js';

/**
 * Kubernetes-style rolling update: never more than desired + maxSurge instances, never fewer
 * than desired - maxUnavailable ready ones. Stopping old instances comes first when the budget
 * allows it, so a maxUnavailable-only rollout makes room before it starts new instances.
 */
export function rollingStep(strategy: RollingStrategy, c: GroupCounts): Step {
  if (c.next > c.desired) return { kind: 'stop', group: 'next', count: c.next - c.desired };
  if (c.next === c.desired && c.old === 0) return { kind: 'done' };
  // Judge each batch while old instances still serve, so a bad batch never takes everything.
  if (strategy.analysis && c.unjudged && c.old > 0 && c.next > 0) {
    return { kind: 'analysis', run: strategy.analysis, source: 'service' };
  }
  if (c.next === c.desired) return { kind: 'stop', group: 'old', count: c.old };

  const minAvailable = Math.max(0, c.desired - strategy.maxUnavailable);
  const maxTotal = c.desired + strategy.maxSurge;
  const canStop = Math.min(c.old, c.old + c.next - minAvailable);
  if (canStop > 0) return { kind: 'stop', group: 'old', count: canStop };
  const canStart = Math.min(c.desired - c.next, maxTotal - (c.old + c.next));
  if (canStart > 0) return { kind: 'start', count: canStart };
  // Both budgets are zero: only possible when maxSurge = maxUnavailable = 0, which the spec
  // rejects; start one anyway rather than hang.
  return { kind: 'start', count: 1 };
}
