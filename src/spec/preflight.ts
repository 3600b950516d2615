// Preflight hooks (issue 14): commands run on the host before any instance of a new version
// starts, e.g. an image scanner. Schema and normalization, apart from schema.ts/normalize.ts.
import { z } from 'zod';
import { parseDuration } from './duration.js';
import type { PreflightSpec } from './types.js';

const expecting = (phrase: string) => ({ error: phrase });

export const preflightField = {
  preflight: z
    .array(
      z.strictObject(
        {
          run: z
            .array(
              z.string(expecting('a string argument')),
              expecting('a command as a list: [cmd, args…]'),
            )
            .min(1),
          timeout: z
            .union([z.number(), z.string()], expecting('a duration like "30s" or "2m"'))
            .optional(),
          onFail: z.enum(['block', 'warn'], expecting('"block" or "warn"')).optional(),
        },
        expecting('a mapping with run, timeout and onFail'),
      ),
      expecting('a list of hooks'),
    )
    .optional()
    .meta({
      description:
        'Commands run on the host before any instance starts (HOTSWAP_SERVICE, HOTSWAP_IMAGE, HOTSWAP_IMAGE_DIGEST in their environment).',
    }),
};

type RawPreflight = z.output<typeof preflightField.preflight>;

/** undefined when none; a bad timeout is reported by the caller with its position. */
export function normalizePreflight(
  raw: RawPreflight,
  bad: (index: number, message: string) => void,
): PreflightSpec[] | undefined {
  if (!raw?.length) return undefined;
  return raw.map((hook, index) => {
    let timeoutMs = 60_000;
    if (hook.timeout !== undefined) {
      const ms = parseDuration(hook.timeout);
      if (typeof ms === 'string' || ms === 0)
        bad(
          index,
          `expected a positive duration like "30s" or "2m" (${typeof ms === 'string' ? ms : 'zero'})`,
        );
      else timeoutMs = ms;
    }
    return { run: hook.run, timeoutMs, onFail: hook.onFail ?? 'block' };
  });
}
