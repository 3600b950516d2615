// The instances of one service that take traffic, grouped by revision. The proxy's table is the
// truth about what serves; the runtime tells which of those containers still run.
import type { Backend } from '../proxy/types.js';

export interface LiveInstance {
  id: string;
  revision: number;
  address: string;
}

export function fromBackends(backends: Backend[]): LiveInstance[] {
  return backends
    .filter((b) => b.state === 'active')
    .map((b) => ({ id: b.id, revision: b.revision, address: b.address }));
}

/** Oldest revisions leave first; inside a revision, the order is stable. */
export function pickToStop(instances: LiveInstance[], count: number): LiveInstance[] {
  return [...instances].sort((a, b) => a.revision - b.revision).slice(0, count);
}
