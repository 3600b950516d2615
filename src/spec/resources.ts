// Live resources of a service (issue 16): CPU, memory, swap and process limits. Not part of the
// config hash: a change of resources only is applied to running instances with the Engine's
// update call, without a restart or a new revision. Kept apart from schema.ts / normalize.ts.
import { availableParallelism } from 'node:os';
import { z } from 'zod';
import type { ResourcesSpec } from './types.js';

const expecting = (phrase: string) => ({ error: phrase });

/** Docker refuses a memory limit below 6 MB. */
export const MIN_MEMORY_BYTES = 6 * 1024 * 1024;

const UNITS: Record<string, number> = { '': 1, b: 1, k: 1024, m: 1024 ** 2, g: 1024 ** 3 };
const SIZE = /^(\d+(?:\.\d+)?)\s*([kmg]?)(?:i?b)?$|^(\d+)\s*b$/i;

/** Bytes for "512m", "1g", "64MiB", "1.5GB" (binary units, as docker run -m) or a plain number. */
export function parseBytes(value: string | number): number | string {
  if (typeof value === 'number') return value;
  const m = SIZE.exec(value.trim());
  if (!m) return `"${value}" is not a size like "256m", "1g" or a number of bytes`;
  if (m[3] !== undefined) return Number(m[3]);
  return Math.round(Number(m[1]) * UNITS[m[2]!.toLowerCase()]!);
}

/** "23.4 MB" for messages (binary MB, as docker stats shows MiB). */
export function formatBytes(bytes: number): string {
  const mb = bytes / 1024 ** 2;
  return mb >= 1024 ? `${(mb / 1024).toFixed(2)} GB` : `${mb.toFixed(1)} MB`;
}

const sizePhrase = 'a size like "256m", "1g" or a number of bytes';
const size = (description: string) =>
  z
    .union(
      [z.number(expecting(sizePhrase)).int().min(0), z.string(expecting(sizePhrase)).regex(SIZE)],
      expecting(sizePhrase),
    )
    .optional()
    .meta({ description });

/** Spread into the service schema. */
export const resourcesField = {
  resources: z
    .strictObject(
      {
        cpus: z
          .number(expecting('a positive number of CPUs like 0.5 or 2'))
          .positive()
          .optional()
          .meta({ description: 'CPUs the container may use (docker run --cpus).' }),
        memory: size('Memory limit (at least 6m).'),
        memorySwap: z
          .union([z.literal(-1), size('')], expecting(`${sizePhrase}, or -1 for unlimited swap`))
          .optional()
          .meta({ description: 'Memory + swap limit; -1: unlimited swap. At least memory.' }),
        pids: z
          .number(expecting('a positive integer'))
          .int()
          .min(1)
          .optional()
          .meta({ description: 'Most processes the container may run.' }),
      },
      expecting('a mapping with cpus, memory, memorySwap and pids'),
    )
    .optional()
    .meta({
      description:
        'Limits applied live to running instances (no restart, no new revision) when only they change.',
    }),
};

export type RawResources = {
  cpus?: number;
  memory?: string | number;
  memorySwap?: string | number;
  pids?: number;
};

/** A problem at a field of `resources`: the key and the message with the figures. */
export type ResourceProblem = (field: keyof RawResources, message: string) => void;

/** undefined when unset, so a spec without resources keeps its shape. Host figures checked here. */
export function normalizeResources(
  raw: RawResources | undefined,
  problem: ResourceProblem,
  hostCpus = availableParallelism(),
): ResourcesSpec | undefined {
  if (!raw) return undefined;
  const out: ResourcesSpec = {};
  if (raw.cpus !== undefined) {
    if (raw.cpus > hostCpus)
      problem('cpus', `cpus ${raw.cpus} is more than this host's ${hostCpus} CPU(s)`);
    out.cpus = raw.cpus;
  }
  if (raw.memory !== undefined) {
    out.memory = parseBytes(raw.memory) as number;
    if (out.memory < MIN_MEMORY_BYTES)
      problem(
        'memory',
        `memory ${formatBytes(out.memory)} is below Docker's minimum of ${formatBytes(MIN_MEMORY_BYTES)}`,
      );
  }
  if (raw.memorySwap !== undefined) {
    out.memorySwap = raw.memorySwap === -1 ? -1 : (parseBytes(raw.memorySwap) as number);
    if (out.memory === undefined) problem('memorySwap', 'memorySwap needs memory');
    else if (out.memorySwap !== -1 && out.memorySwap < out.memory)
      problem(
        'memorySwap',
        `memorySwap ${formatBytes(out.memorySwap)} is below memory ${formatBytes(out.memory)}`,
      );
  }
  if (raw.pids !== undefined) out.pids = raw.pids;
  return Object.keys(out).length ? out : undefined;
}

/** Same limits (an unset field and an unset field agree). */
export function sameResources(a: ResourcesSpec | undefined, b: ResourcesSpec | undefined): boolean {
  const x = a ?? {};
  const y = b ?? {};
  return (
    x.cpus === y.cpus && x.memory === y.memory && x.memorySwap === y.memorySwap && x.pids === y.pids
  );
}
