// Container hardening fields of a service (issue 14) and env values read from files. Kept apart
// from schema.ts / normalize.ts so those files only gain a line each.
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { z } from 'zod';
import type { HardeningSpec, SecretEnvSpec } from './types.js';

const expecting = (phrase: string) => ({ error: phrase });
const CAPABILITY = /^(CAP_)?[A-Z][A-Z_]*$/;
const capabilities = (description: string) =>
  z
    .array(
      z.string(expecting('a capability name like "NET_BIND_SERVICE" or "ALL"')).regex(CAPABILITY),
      expecting('a list of capability names'),
    )
    .optional()
    .meta({ description });

/** Spread into the service schema. */
export const hardeningFields = {
  user: z
    .string(expecting('a user like "1000", "1000:1000" or "app"'))
    .regex(/^[A-Za-z0-9_.-]+(:[A-Za-z0-9_.-]+)?$/)
    .optional()
    .meta({ description: 'User (and group) the container runs as.' }),
  readOnly: z
    .boolean(expecting('true or false'))
    .optional()
    .meta({ description: 'Mount the root filesystem read-only.' }),
  capDrop: capabilities('Linux capabilities to drop ("ALL" drops every one).'),
  capAdd: capabilities('Linux capabilities to add back.'),
  noNewPrivileges: z
    .boolean(expecting('true or false'))
    .optional()
    .meta({ description: 'The process cannot gain privileges (setuid binaries, file caps).' }),
  pidsLimit: z
    .number(expecting('a positive integer'))
    .int()
    .min(1)
    .optional()
    .meta({ description: 'Most processes the container may run.' }),
  tmpfs: z
    .array(
      z.string(expecting('a mount like "/tmp" or "/run:size=64m"')).regex(/^\/[^:\s]*(:\S+)?$/),
      expecting('a list of tmpfs mounts'),
    )
    .optional()
    .meta({ description: 'tmpfs mounts, "path[:options]" as in docker run --tmpfs.' }),
};

/** An env value read from a file: `{ valueFrom: { file: ./secret } }`. */
export const envFromFile = z.strictObject(
  {
    valueFrom: z.strictObject(
      { file: z.string(expecting('a path to a file')).min(1) },
      expecting('a mapping with file'),
    ),
  },
  expecting('a mapping with valueFrom'),
);
export type EnvFromFile = z.infer<typeof envFromFile>;

type RawHardening = { [K in keyof typeof hardeningFields]?: z.output<(typeof hardeningFields)[K]> };

/** undefined when no field is set, so a spec without them keeps its config hash. */
export function normalizeHardening(raw: RawHardening): HardeningSpec | undefined {
  const out: HardeningSpec = {};
  if (raw.user !== undefined) out.user = raw.user;
  if (raw.readOnly !== undefined) out.readOnly = raw.readOnly;
  if (raw.capDrop !== undefined) out.capDrop = raw.capDrop.map(capName);
  if (raw.capAdd !== undefined) out.capAdd = raw.capAdd.map(capName);
  if (raw.noNewPrivileges !== undefined) out.noNewPrivileges = raw.noNewPrivileges;
  if (raw.pidsLimit !== undefined) out.pidsLimit = raw.pidsLimit;
  if (raw.tmpfs !== undefined) {
    out.tmpfs = {};
    for (const entry of raw.tmpfs) {
      const colon = entry.indexOf(':');
      out.tmpfs[colon < 0 ? entry : entry.slice(0, colon)] =
        colon < 0 ? '' : entry.slice(colon + 1);
    }
  }
  return Object.keys(out).length ? out : undefined;
}

const capName = (c: string): string => c.replace(/^CAP_/, '');

/**
 * Reads a secret env file (relative to the spec's folder) for its digest: the digest goes into
 * the config hash, so a changed secret makes a new revision; the value itself is never stored.
 */
export function secretFromFile(file: string, specDir: string): SecretEnvSpec | string {
  const abs = resolve(specDir, file);
  try {
    return { file: abs, sha256: createHash('sha256').update(readFileSync(abs)).digest('hex') };
  } catch (err) {
    return `cannot read ${abs}: ${(err as NodeJS.ErrnoException).code ?? String(err)}`;
  }
}
