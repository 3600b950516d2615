// The config hash names a revision: two specs with the same hash run identical containers.
import { createHash } from 'node:crypto';
import type { ServiceSpec } from './types.js';

/**
 * sha256 (first 16 hex chars) of what goes into a container: image, port, env, command, volumes,
 * health check. Replicas, listen, strategy, drain and stopGracePeriod are left out on purpose:
 * they change how many instances run or how an update proceeds, not what an instance is, so
 * changing them must scale or re-route the current revision rather than roll out a new one.
 */
export function configHash(service: ServiceSpec): string {
  const revision = {
    // Bump when the meaning of a field changes, so old hashes do not match new containers.
    v: 1,
    image: service.image,
    port: service.port,
    env: service.env,
    command: service.command,
    volumes: service.volumes,
    health: service.health,
    // issue 14; undefined (left out of the JSON) when unused, so older hashes do not change
    hardening: service.hardening,
    secrets: service.secretEnv,
    // issue 16: private networks; undefined for the default one, so older hashes do not change
    networks: service.networks,
    // the names its instances resolve (issue 16); undefined when no other service shares a network
    peers: service.peers,
    // issue 17: where instances may run is what they are on a cluster; undefined when unused
    placement: service.placement,
  };
  return createHash('sha256').update(canonicalJson(revision)).digest('hex').slice(0, 16);
}

/** JSON with object keys sorted at every depth, so key order in the YAML cannot change a hash. */
export function canonicalJson(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(',')}]`;
  if (value !== null && typeof value === 'object') {
    const entries = Object.entries(value)
      .filter(([, v]) => v !== undefined)
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
      .map(([k, v]) => `${JSON.stringify(k)}:${canonicalJson(v)}`);
    return `{${entries.join(',')}}`;
  }
  return JSON.stringify(value) ?? 'null';
}

/**
 * The content hash of a service's reload files (issue 16), apart from the config hash: a change
 * of these files alone is applied to running instances by a reload, not by a new revision. The
 * hash is kept per service with its stored spec; null when the service has no reload files.
 */
export function reloadFilesHash(service: Pick<ServiceSpec, 'reload'>): string | null {
  const files = service.reload?.files;
  if (!files?.length) return null;
  const listed = files.map((f) => ({ target: f.target, sha256: f.sha256 }));
  return createHash('sha256').update(canonicalJson(listed)).digest('hex').slice(0, 16);
}
