// In-place reload (issue 16): files copied into running instances and a trigger that makes the
// process read them again. Schema and normalization, apart from schema.ts/normalize.ts. The files
// are read here, when the spec is read: a missing or unreadable one is a spec error with its
// position, and what is applied later is exactly what was read.
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { posix, resolve } from 'node:path';
import { z } from 'zod';
import { parseDuration } from './duration.js';
import type { ReloadSpec } from './types.js';

const expecting = (phrase: string) => ({ error: phrase });
const durationText = z.union([z.number(), z.string()], expecting('a duration like "5s"'));
const command = z
  .array(z.string(expecting('a string argument')), expecting('a command as a list: [cmd, args…]'))
  .min(1);

/** A file larger than this is not a config file: refused rather than copied into every instance. */
export const MAX_RELOAD_FILE_BYTES = 1024 * 1024;

export const reloadField = {
  reload: z
    .strictObject(
      {
        files: z
          .array(
            z.strictObject(
              {
                source: z.string(expecting('a file path relative to this file')).min(1),
                target: z.string(expecting('an absolute path in the container')).min(1),
              },
              expecting('a mapping with source and target'),
            ),
            expecting('a list of { source, target }'),
          )
          .min(1),
        trigger: z.union(
          [
            z.strictObject({ signal: z.string(expecting('a signal name like SIGHUP')) }),
            z.strictObject({ exec: command }),
            z.strictObject({
              http: z.strictObject({
                path: z.string().startsWith('/'),
                method: z.string().optional(),
              }),
            }),
          ],
          expecting('{ signal: SIGHUP }, { exec: [cmd, …] } or { http: { path, method } }'),
        ),
        verify: z
          .union(
            [
              z.strictObject({
                http: z.strictObject({
                  path: z.string().startsWith('/'),
                  expect: z
                    .strictObject({
                      status: z.number().int().optional(),
                      body: z.string().optional(),
                    })
                    .optional(),
                }),
              }),
              z.strictObject({ probe: z.literal(true) }),
            ],
            expecting('{ http: { path, expect } } or { probe: true }'),
          )
          .optional(),
        timeout: durationText.optional(),
      },
      expecting('a mapping with files, trigger, verify and timeout'),
    )
    .optional()
    .meta({
      description:
        'Files copied into running instances and a trigger (signal, exec or HTTP) that reloads them, instead of a new revision.',
    }),
};

export type RawReload = z.output<typeof reloadField.reload>;

/** Where a problem is, relative to the service's `reload` key, and what it is. */
export type ReloadProblem = (where: PropertyKey[], message: string) => void;

/** undefined when the service has no reload section; problems are reported with their place. */
export function normalizeReload(
  raw: RawReload,
  specDir: string,
  bad: ReloadProblem,
): ReloadSpec | undefined {
  if (raw === undefined) return undefined;
  const targets = new Set<string>();
  const files = raw.files.map((f, index) => {
    const target = posix.normalize(f.target);
    if (!target.startsWith('/') || target.endsWith('/'))
      bad(['files', index, 'target'], `expected an absolute file path, found "${f.target}"`);
    if (targets.has(target)) bad(['files', index, 'target'], `target "${target}" is listed twice`);
    targets.add(target);
    const source = resolve(specDir, f.source);
    const content = readSource(source, (message) => bad(['files', index, 'source'], message));
    return {
      source,
      target,
      sha256: createHash('sha256').update(content).digest('hex'),
      content: content.toString('base64'),
    };
  });
  let timeoutMs = 10_000;
  if (raw.timeout !== undefined) {
    const ms = parseDuration(raw.timeout);
    if (typeof ms === 'string' || ms === 0)
      bad(
        ['timeout'],
        `expected a positive duration like "5s" (${typeof ms === 'string' ? ms : 'zero'})`,
      );
    else timeoutMs = ms;
  }
  const t = raw.trigger;
  const trigger: ReloadSpec['trigger'] =
    'signal' in t
      ? { type: 'signal', signal: t.signal }
      : 'exec' in t
        ? { type: 'exec', command: t.exec }
        : { type: 'http', path: t.http.path, method: (t.http.method ?? 'POST').toUpperCase() };
  const v = raw.verify;
  const verify: ReloadSpec['verify'] =
    v === undefined
      ? null
      : 'probe' in v
        ? { type: 'probe' }
        : {
            type: 'http',
            path: v.http.path,
            status: v.http.expect?.status ?? null,
            body: v.http.expect?.body ?? null,
          };
  return { files, trigger, verify, timeoutMs };
}

function readSource(file: string, bad: (message: string) => void): Buffer {
  try {
    const content = readFileSync(file);
    if (content.length > MAX_RELOAD_FILE_BYTES)
      bad(`${file} has ${content.length} bytes; a reload file may have ${MAX_RELOAD_FILE_BYTES}`);
    return content;
  } catch (err) {
    bad(`cannot read ${file}: ${(err as NodeJS.ErrnoException).code ?? String(err)}`);
    return Buffer.alloc(0);
  }
}
