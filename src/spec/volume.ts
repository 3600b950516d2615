// Volume mounts, written "source:target[:ro|:rw]" as in docker run -v.
import { isAbsolute, resolve } from 'node:path';
import type { VolumeSpec } from './types.js';

/** Docker's own rule for volume names; anything else that is not a path is a typo. */
const VOLUME_NAME_RE = /^[a-zA-Z0-9][a-zA-Z0-9_.-]*$/;

/**
 * A mount as written, or a short reason why it is not one. A source starting with "/" or "." is a
 * host path; anything else is a named volume, as Docker Compose reads it.
 */
export function parseVolume(text: string): VolumeSpec | string {
  const parts = text.split(':');
  if (parts.length < 2 || parts.length > 3) return 'not "source:target" or "source:target:ro"';
  const [source = '', target = '', mode = 'rw'] = parts;
  if (source === '') return 'empty source';
  if (!target.startsWith('/')) return `target "${target}" is not an absolute container path`;
  if (mode !== 'ro' && mode !== 'rw') return `mode "${mode}" is neither ro nor rw`;
  if (!isHostPath(source) && !VOLUME_NAME_RE.test(source)) {
    return `source "${source}" is neither a path (starting with / or .) nor a volume name`;
  }
  return { source, target, readOnly: mode === 'ro' };
}

export function isHostPath(source: string): boolean {
  return source.startsWith('/') || source.startsWith('.');
}

/** Host paths become absolute against the spec's folder, so the spec means the same from any cwd. */
export function resolveVolumeSource(source: string, specDir: string): string {
  if (!isHostPath(source)) return source;
  return isAbsolute(source) ? resolve(source) : resolve(specDir, source);
}
