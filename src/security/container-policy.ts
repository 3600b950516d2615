// The daemon's container policy: what no spec may ask for, whoever sends it. The spec format has
// no way to ask for a privileged container or the host's network or pid namespace (unknown fields
// are errors and the runtime never sets them); this refuses the other ways to root on the host:
// the Docker socket mounted, host paths outside the allowed roots, privileged-equivalent caps.
import { existsSync, realpathSync } from 'node:fs';
import { dirname, resolve, sep } from 'node:path';
import { HotswapError } from '../errors.js';
import type { ServiceSpec, Spec } from '../spec/index.js';
import { isHostPath } from '../spec/volume.js';
import { parse as parseYaml } from 'yaml';

export interface ContainerPolicy {
  /** Host path roots a volume may mount, besides the spec's own folder. */
  allowedHostPaths: string[];
  /** Commands (argv[0]) a remote caller's preflight hooks may run on the host. */
  allowedPreflight?: string[];
}

const DOCKER_SOCKETS = ['/var/run/docker.sock', '/run/docker.sock'];
/** Capabilities that amount to a privileged container. */
const PRIVILEGED_CAPS = new Set(['ALL', 'SYS_ADMIN', 'SYS_MODULE', 'SYS_PTRACE', 'SYS_RAWIO']);

/**
 * Throws POLICY_REFUSED naming every field of the spec the policy refuses. The spec's folder is
 * an allowed root only for the local socket's owner: a remote caller names the spec's path
 * itself, so for it only `allowedHostPaths` count (for volumes and secret files alike), and its
 * preflight hooks may run only the commands `allowedPreflight` lists.
 */
export function checkContainerPolicy(
  spec: Spec,
  policy: ContainerPolicy,
  opts: { localCaller: boolean },
): void {
  const specDir = real(dirname(resolve(spec.file)));
  const roots = [...(opts.localCaller ? [specDir] : []), ...policy.allowedHostPaths.map(real)];
  const outside = (what: string): string =>
    `${what} is outside ${opts.localCaller ? `the spec's folder (${specDir}) and ` : ''}` +
    (policy.allowedHostPaths.length
      ? `the allowed roots (${policy.allowedHostPaths.join(', ')})`
      : 'the allowed roots (none: config.yaml policy.allowedHostPaths)');
  const sockets = dockerSockets();
  const problems: string[] = [];
  for (const svc of spec.services) {
    svc.volumes.forEach((v, i) => {
      if (!isHostPath(v.source)) return;
      const where = `services.${svc.name}.volumes[${i}]`;
      const src = real(v.source);
      if (sockets.some((s) => s === src || isInside(s, src)))
        problems.push(`${where}: "${v.source}" mounts the Docker socket: that is root on the host`);
      else if (!roots.some((root) => isInside(src, root)))
        problems.push(`${where}: ${outside(`host path "${v.source}"`)}`);
    });
    if (!opts.localCaller)
      for (const [field, file] of tlsFiles(svc))
        if (!roots.some((root) => isInside(real(file), root)))
          problems.push(`services.${svc.name}.${field}: ${outside(`"${file}"`)}`);
    // Reload files (issue 16) are read by the daemon and copied into containers, like secrets.
    (svc.reload?.files ?? []).forEach((f, i) => {
      if (!roots.some((root) => isInside(real(f.source), root)))
        problems.push(
          `services.${svc.name}.reload.files[${i}].source: ${outside(`"${f.source}"`)}`,
        );
    });
    for (const [key, secret] of Object.entries(svc.secretEnv ?? {}))
      if (!roots.some((root) => isInside(real(secret.file), root)))
        problems.push(
          `services.${svc.name}.env.${key}.valueFrom.file: ${outside(`"${secret.file}"`)}`,
        );
    if (!opts.localCaller)
      (svc.preflight ?? []).forEach((hook, i) => {
        if (!(policy.allowedPreflight ?? []).includes(hook.run[0]!))
          problems.push(
            `services.${svc.name}.preflight[${i}]: "${hook.run[0]}" is not in config.yaml policy.allowedPreflight: a remote caller may run only listed commands on the host`,
          );
      });
    for (const cap of svc.hardening?.capAdd ?? [])
      if (PRIVILEGED_CAPS.has(cap))
        problems.push(`services.${svc.name}.capAdd: ${cap} amounts to a privileged container`);
  }
  if (problems.length)
    throw new HotswapError(
      'POLICY_REFUSED',
      `${spec.file} is refused by the daemon's policy (${problems.length} problem${problems.length > 1 ? 's' : ''}):\n${problems.join('\n')}`,
      { details: { problems } },
    );
}

/**
 * For a remote caller's spec text, before it is parsed (parsing reads them): `envFile`s and
 * reload files must lie inside the allowed roots, or their contents would reach a container the
 * caller controls.
 */
export function checkRemoteEnvFiles(text: string, file: string, policy: ContainerPolicy): void {
  let doc: unknown;
  try {
    doc = parseYaml(text);
  } catch {
    return; // the parser reports it, before reading any file
  }
  const services = (doc as { services?: unknown } | null)?.services;
  if (typeof services !== 'object' || services === null) return;
  const roots = policy.allowedHostPaths.map(real);
  const problems: string[] = [];
  for (const [name, svc] of Object.entries(services as Record<string, unknown>)) {
    const raw = (svc as { envFile?: unknown } | null)?.envFile;
    const files = typeof raw === 'string' ? [raw] : Array.isArray(raw) ? raw : [];
    files.forEach((f, i) => {
      if (typeof f !== 'string') return;
      const abs = real(resolve(dirname(resolve(file)), f));
      if (!roots.some((root) => isInside(abs, root)))
        problems.push(
          `services.${name}.envFile${Array.isArray(raw) ? `[${i}]` : ''}: "${f}" is outside the allowed roots (${policy.allowedHostPaths.join(', ') || 'none: config.yaml policy.allowedHostPaths'})`,
        );
    });
    const reload = (svc as { reload?: { files?: unknown } } | null)?.reload?.files;
    (Array.isArray(reload) ? reload : []).forEach((f: unknown, i) => {
      const source = (f as { source?: unknown } | null)?.source;
      if (typeof source !== 'string') return;
      if (!roots.some((root) => isInside(real(resolve(dirname(resolve(file)), source)), root)))
        problems.push(
          `services.${name}.reload.files[${i}].source: "${source}" is outside the allowed roots (${policy.allowedHostPaths.join(', ') || 'none: config.yaml policy.allowedHostPaths'})`,
        );
    });
  }
  if (problems.length)
    throw new HotswapError(
      'POLICY_REFUSED',
      `${file} is refused by the daemon's policy:\n${problems.join('\n')}`,
      { details: { problems } },
    );
}

/** The host files a service's TLS settings name (the proxy reads and serves them). */
function tlsFiles(svc: ServiceSpec): Array<[string, string]> {
  const tls = svc.tls;
  if (!tls) return [];
  const files: Array<[string, string | null]> = [
    ['tls.cert', tls.cert],
    ['tls.key', tls.key],
    ['tls.acme.directoryCa', tls.acme?.directoryCa ?? null],
  ];
  return files.filter((f): f is [string, string] => typeof f[1] === 'string');
}

function dockerSockets(): string[] {
  const fromEnv = process.env.DOCKER_HOST?.startsWith('unix://')
    ? [process.env.DOCKER_HOST.slice('unix://'.length)]
    : [];
  return [...new Set([...DOCKER_SOCKETS, ...fromEnv].flatMap((s) => [s, real(s)]))];
}

/** The path with symlinks resolved as far as it exists (a symlink must not smuggle a path in). */
function real(p: string): string {
  const abs = resolve(p);
  if (existsSync(abs)) return realpathSync(abs);
  const parent = dirname(abs);
  return parent === abs ? abs : resolve(real(parent), abs.slice(parent.length + 1));
}

function isInside(path: string, root: string): boolean {
  return path === root || path.startsWith(root.endsWith(sep) ? root : root + sep);
}
