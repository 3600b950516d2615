import type { ServiceSpec } from '../spec/types.js';
import type { RevisionRecord, Store } from '../store/index.js';

/** Records that a revision now serves the service: it becomes active and stable, the others retire. */
export function markStable(store: Store, spec: ServiceSpec, target: RevisionRecord): void {
  for (const rev of store.revisions.list(spec.name)) {
    if (rev.number !== target.number && rev.status === 'active') {
      store.revisions.setStatus(spec.name, rev.number, 'retired');
    }
  }
  store.revisions.setStatus(spec.name, target.number, 'active');
  store.services.upsert(spec);
  store.services.setStable(spec.name, target.number);
}
