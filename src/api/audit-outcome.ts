// Turns an API call's result into the audit entry's outcome and image digests.
import type { Store } from '../store/index.js';
import type { StreamOutcome } from './ndjson.js';

interface Deployed {
  service: string;
  revision: number;
  outcome?: string;
  reason?: string | null;
}

const isDeployed = (v: unknown): v is Deployed =>
  typeof v === 'object' &&
  v !== null &&
  typeof (v as Deployed).service === 'string' &&
  typeof (v as Deployed).revision === 'number';

/** `ok`, `failed: <service>: <reason>` for a rollout that failed, or `error <CODE>: <message>`. */
export function outcomeText(o: StreamOutcome): string {
  if ('error' in o) return `error ${o.error.code}: ${o.error.message}`;
  const failed = deployedIn(o.result).filter((d) => d.outcome === 'failed');
  if (failed.length > 0)
    return `failed: ${failed.map((d) => `${d.service}: ${d.reason ?? 'no reason'}`).join('; ')}`;
  return 'ok';
}

/** `service@digest` of every revision the call rolled out (or was about to), comma-separated. */
export function imageDigests(store: Store, result: unknown): string | null {
  const targets = deployedIn(result).map((d) => ({ service: d.service, revision: d.revision }));
  const rolloutId = (result as { rolloutId?: unknown } | null)?.rolloutId;
  if (targets.length === 0 && typeof rolloutId === 'number') {
    const r = store.rollouts.get(rolloutId);
    if (r) targets.push({ service: r.service, revision: r.toRevision });
  }
  const digests = targets.flatMap(({ service, revision }) => {
    const rev = store.revisions.get(service, revision);
    return rev ? [`${service}@${rev.repoDigest ?? rev.imageId}`] : [];
  });
  return digests.length ? digests.join(',') : null;
}

function deployedIn(result: unknown): Deployed[] {
  if (Array.isArray(result)) return result.filter(isDeployed);
  return isDeployed(result) ? [result] : [];
}
