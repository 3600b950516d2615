import type { GroupCounts, Step } from './types.js';

/** Stop everything old, then start everything new. Accepts downtime by definition. */
export function recreateStep(c: GroupCounts): Step {
  if (c.old > 0) return { kind: 'stop', group: 'old', count: c.old };
  if (c.next > c.desired) return { kind: 'stop', group: 'next', count: c.next - c.desired };
  if (c.next < c.desired) return { kind: 'start', count: c.desired - c.next };
  return { kind: 'done' };
}
