// State hand-off (issue 16): the state an old instance exports, imported into a new one before it
// takes traffic. Schema and normalization, apart from schema.ts/normalize.ts.
import { z } from 'zod';
import { parseDuration } from './duration.js';
import { parseSize } from './handoff-size.js';
import type { HandoffSpec } from './types.js';

const expecting = (phrase: string) => ({ error: phrase });
const command = z
  .array(z.string(expecting('a string argument')), expecting('a command as a list: [cmd, args…]'))
  .min(1);
const endpoint = z.union(
  [
    z.strictObject({ http: z.strictObject({ path: z.string().startsWith('/') }) }),
    z.strictObject({ exec: command }),
  ],
  expecting('{ http: { path } } or { exec: [cmd, …] }'),
);

export const handoffField = {
  handoff: z
    .strictObject(
      {
        export: endpoint,
        import: endpoint,
        timeout: z.union([z.number(), z.string()], expecting('a duration like "30s"')).optional(),
        maxBytes: z
          .union([z.number().int().min(1), z.string()], expecting('a size like 1048576 or "16MiB"'))
          .optional(),
        onFail: z.enum(['fail', 'continue'], expecting('"fail" or "continue"')).optional(),
      },
      expecting('a mapping with export, import, timeout, maxBytes and onFail'),
    )
    .optional()
    .meta({
      description:
        'State exported from an old instance and imported into its new replacement before it takes traffic.',
    }),
};

export type RawHandoff = z.output<typeof handoffField.handoff>;

export const DEFAULT_HANDOFF_MAX_BYTES = 16 * 1024 * 1024;

/** undefined without a handoff section; problems are reported with their place. */
export function normalizeHandoff(
  raw: RawHandoff,
  bad: (where: PropertyKey[], message: string) => void,
): HandoffSpec | undefined {
  if (raw === undefined) return undefined;
  let timeoutMs = 30_000;
  if (raw.timeout !== undefined) {
    const ms = parseDuration(raw.timeout);
    if (typeof ms === 'string' || ms === 0)
      bad(
        ['timeout'],
        `expected a positive duration like "30s" (${typeof ms === 'string' ? ms : 'zero'})`,
      );
    else timeoutMs = ms;
  }
  let maxBytes = DEFAULT_HANDOFF_MAX_BYTES;
  if (raw.maxBytes !== undefined) {
    const n = parseSize(raw.maxBytes);
    if (typeof n === 'string') bad(['maxBytes'], n);
    else maxBytes = n;
  }
  const side = (e: NonNullable<RawHandoff>['export']): HandoffSpec['export'] =>
    'http' in e ? { type: 'http', path: e.http.path } : { type: 'exec', command: e.exec };
  return {
    export: side(raw.export),
    import: side(raw.import),
    timeoutMs,
    maxBytes,
    onFail: raw.onFail ?? 'fail',
  };
}
