// Reload files as the runtime takes them: decoded from the spec, at absolute container paths.
import type { InstanceFile } from '../runtime/types.js';
import type { ReloadSpec, ServiceSpec } from '../spec/types.js';

/** The files an instance of this service is created with (empty without a reload section). */
export function instanceFiles(spec: Pick<ServiceSpec, 'reload'>): InstanceFile[] {
  return (spec.reload?.files ?? []).map((f) => ({
    path: f.target,
    data: Buffer.from(f.content, 'base64'),
  }));
}

/** The archive form: names relative to "/". */
export function asArchive(files: InstanceFile[]): Record<string, Uint8Array> {
  return Object.fromEntries(files.map((f) => [f.path.replace(/^\/+/, ''), f.data]));
}

/** What a reload changes: the listed targets and their digests, for the journal. */
export function describeFiles(reload: ReloadSpec): Array<{ target: string; sha256: string }> {
  return reload.files.map((f) => ({ target: f.target, sha256: f.sha256.slice(0, 12) }));
}

/** Lines for `diff` and `up --dry-run`: which reload files changed (their content never shown). */
export function diffReloadFiles(
  old: Pick<ServiceSpec, 'reload'> | null,
  next: Pick<ServiceSpec, 'reload'>,
): string[] {
  const before = new Map((old?.reload?.files ?? []).map((f) => [f.target, f.sha256]));
  return (next.reload?.files ?? [])
    .filter((f) => before.get(f.target) !== f.sha256)
    .map(
      (f) =>
        `reload file ${f.target}: ${before.has(f.target) ? 'changed' : 'added'} (applied by reload)`,
    );
}
