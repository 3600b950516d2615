// `autoscale` (issue 16): the number of instances follows the proxy's request rate per instance
// and Docker's CPU figures, between min and max. Not in the config hash: it changes how many
// instances run, not what one is. Kept apart from schema.ts / normalize.ts.
import { z } from 'zod';
import type { AutoscaleSpec } from './types.js';

const expecting = (phrase: string) => ({ error: phrase });

/** schema.ts's duration field, passed in (schema.ts imports this file). */
type DurationField = (opts: {
  positive: boolean;
  description: string;
}) => z.ZodType<string | number>;

export const autoscaleField = (duration: DurationField) => ({
  autoscale: z
    .strictObject(
      {
        min: z
          .number(expecting('a positive integer'))
          .int()
          .min(1)
          .meta({ description: 'Fewest instances.' }),
        max: z
          .number(expecting('a positive integer'))
          .int()
          .min(1)
          .max(100)
          .meta({ description: 'Most instances (at most 100).' }),
        targetRps: z
          .number(expecting('a positive number of requests per second'))
          .positive()
          .optional()
          .meta({ description: 'Requests per second per instance (from the proxy) to aim at.' }),
        targetCpu: z
          .number(expecting('a percentage of one CPU, like 70'))
          .positive()
          .optional()
          .meta({ description: 'CPU % per instance (docker stats, 100 = one core) to aim at.' }),
        cooldown: duration({
          positive: true,
          description:
            'After a change, no other for this long; a scale-down also needs its lower count to hold for this long.',
        }).default('30s'),
      },
      expecting('a mapping with min, max, targetRps and/or targetCpu, cooldown'),
    )
    .optional()
    .meta({ description: 'Scale between min and max on request rate and CPU per instance.' }),
});

export interface RawAutoscale {
  min: number;
  max: number;
  targetRps?: number;
  targetCpu?: number;
  cooldown: string | number;
}

/** undefined when unset. Cross-field problems go to `problem` with the field they concern. */
export function normalizeAutoscale(
  raw: RawAutoscale | undefined,
  cooldownMs: (v: string | number) => number,
  problem: (field: keyof RawAutoscale | null, message: string) => void,
): AutoscaleSpec | undefined {
  if (!raw) return undefined;
  if (raw.min > raw.max) problem('min', `min ${raw.min} is above max ${raw.max}`);
  if (raw.targetRps === undefined && raw.targetCpu === undefined)
    problem(null, 'autoscale needs targetRps, targetCpu or both');
  return {
    min: raw.min,
    max: raw.max,
    targetRps: raw.targetRps ?? null,
    targetCpu: raw.targetCpu ?? null,
    cooldownMs: cooldownMs(raw.cooldown),
  };
}
