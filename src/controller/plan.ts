// What `hotswap up` would do, without doing it: for `up --dry-run` and `hotswap diff`. Uses the
// same rule as a rollout for "new revision or not" (the config hash and the image id).
import { HotswapError } from '../errors.js';
import type { Runtime } from '../runtime/types.js';
import { configHash, diffServices } from '../spec/index.js';
import type { ServiceSpec, Spec } from '../spec/types.js';
import type { Store } from '../store/index.js';
import { diffReloadFiles } from '../reload/index.js';
import { withPeers } from './networks.js';

export interface ServicePlan {
  service: string;
  /** create: a new service; rollout: a new revision; scale / reconfigure: same revision; none. */
  action: 'create' | 'rollout' | 'scale' | 'reconfigure' | 'none';
  newRevision: boolean;
  currentRevision: number | null;
  /** The strategy a rollout would use (the new spec's). */
  strategy: ServiceSpec['strategy']['type'];
  /** "field: old → new" lines; secrets masked. */
  changes: string[];
  /** The image is not on this host yet: it would be pulled first (or refused with pull: never). */
  imageMissing: boolean;
}

export async function planSpec(
  deps: { store: Store; runtime: Runtime },
  spec: Spec,
  only: string | undefined,
): Promise<ServicePlan[]> {
  const services =
    only === undefined ? spec.services : spec.services.filter((s) => s.name === only);
  if (only !== undefined && services.length === 0)
    throw new HotswapError('NOT_FOUND', `service "${only}" is not declared in ${spec.file}`);
  // The names a service's instances resolve are part of it: a new peer is a new revision.
  const peered = withPeers(deps.store, services, spec.services);
  return Promise.all(peered.map((svc) => planService(deps, svc)));
}

async function planService(
  deps: { store: Store; runtime: Runtime },
  svc: ServiceSpec,
): Promise<ServicePlan> {
  const current = deps.store.services.get(svc.name) ?? null;
  const stable =
    current?.stableRevision == null
      ? null
      : deps.store.revisions.get(svc.name, current.stableRevision);
  const image = await deps.runtime.inspectImage(svc.image).catch((err: unknown) => {
    if (err instanceof HotswapError && err.code === 'IMAGE_NOT_FOUND') return null;
    throw err;
  });
  const changes = diffServices(current?.spec ?? null, svc);
  if (current) changes.push(...diffReloadFiles(current.spec, svc));
  // The same name now pointing at other content (a moved tag) is a new revision too.
  const retagged =
    image !== null && stable !== null && stable.image === svc.image && image.id !== stable.imageId;
  if (retagged)
    changes.push(
      `image id: ${short(stable.imageId)} → ${short(image.id)} (${svc.image} now names another image)`,
    );
  const newRevision = stable === null || stable.configHash !== configHash(svc) || retagged;
  return {
    service: svc.name,
    action: actionOf(current === null, newRevision, changes, current?.spec.replicas, svc.replicas),
    newRevision,
    currentRevision: stable?.number ?? null,
    strategy: svc.strategy.type,
    changes,
    imageMissing: image === null,
  };
}

function actionOf(
  isNew: boolean,
  newRevision: boolean,
  changes: string[],
  replicasBefore: number | undefined,
  replicas: number,
): ServicePlan['action'] {
  if (isNew) return 'create';
  if (newRevision) return 'rollout';
  if (replicasBefore !== replicas) return 'scale';
  return changes.length > 0 ? 'reconfigure' : 'none';
}

function short(id: string): string {
  return id.replace(/^sha256:/, '').slice(0, 12);
}
