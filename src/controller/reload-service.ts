// The controller's side of in-place reload (issue 16): which instances a reload touches (those
// of the serving revision the proxy routes to), and its events in the journal and to the user.
import { HotswapError } from '../errors.js';
import type { Router } from '../proxy/types.js';
import { reloadRuntime, runReload } from '../reload/index.js';
import type { Runtime } from '../runtime/types.js';
import { reloadFilesHash } from '../spec/index.js';
import type { ServiceSpec } from '../spec/types.js';
import type { ServiceRecord, Store } from '../store/index.js';
import type { DeployResult } from './controller.js';
import { fromBackends } from './live-group.js';
import type { Reporter } from './progress.js';

export interface ReloadDeps {
  runtime: Runtime;
  router: Router;
  store: Store;
}

/**
 * Whether applying `spec` is a reload: the service serves `revision` already (so nothing but
 * settings outside the config hash changed) and its reload files' hash differs from the stored one.
 */
export function isFilesOnlyChange(
  current: ServiceRecord | null,
  spec: ServiceSpec,
  revision: number,
): boolean {
  return (
    current !== null &&
    current.stableRevision === revision &&
    spec.reload !== undefined &&
    reloadFilesHash(current.spec) !== reloadFilesHash(spec)
  );
}

/** Copies the spec's reload files into each serving instance of `revision`, one at a time. */
export async function reloadService(
  deps: ReloadDeps,
  spec: ServiceSpec,
  revision: number,
  cause: 'apply' | 'manual',
  report: Reporter,
): Promise<DeployResult> {
  const t0 = Date.now();
  const withReload = spec.reload;
  if (!withReload)
    throw new HotswapError('USAGE', `service "${spec.name}" declares no reload section`);
  const table = await deps.router.table();
  const instances = fromBackends(table.services[spec.name]?.backends ?? []).filter(
    (i) => i.revision === revision,
  );
  const outcome = await runReload(
    { runtime: reloadRuntime(deps.runtime), store: deps.store },
    { spec: { ...spec, reload: withReload }, revision, instances, cause },
    (record, e) => {
      const entry = deps.store.journal.append({
        service: spec.name,
        rolloutId: record.id,
        event: e.event,
        data: e.data,
      });
      report({ at: entry.at, service: spec.name, rolloutId: record.id, ...e });
    },
  );
  return {
    service: spec.name,
    outcome: outcome.ok ? 'succeeded' : 'failed',
    revision,
    rolloutId: outcome.rollout.id,
    reason: outcome.reason,
    durationMs: Date.now() - t0,
  };
}
