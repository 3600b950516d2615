// Health check kinds beyond http and tcp (issue 16): a command run inside the container, the
// image's own HEALTHCHECK, and a startup phase with its own deadline. Kept apart from schema.ts
// and normalize.ts so those files only gain a line each.
import { z } from 'zod';
import { parseDuration } from './duration.js';
import type { HealthSpec, StartupProbeSpec } from './types.js';

const expecting = (phrase: string) => ({ error: phrase });
/** schema.ts's duration field, passed in (schema.ts imports this file). */
type DurationField = (opts: {
  positive: boolean;
  description: string;
}) => z.ZodType<string | number>;

const startupSchema = (duration: DurationField) =>
  z
    .strictObject(
      {
        deadline: duration({
          positive: true,
          description: 'How long the startup phase may last before the instance fails.',
        }),
        interval: duration({
          positive: true,
          description: 'Time between startup probes; default: the health interval.',
        }).optional(),
        healthyThreshold: z
          .number(expecting('a positive integer'))
          .int()
          .min(1)
          .default(1)
          .meta({ description: 'Passes in a row that end the startup phase.' }),
      },
      expecting('a mapping with deadline, interval and healthyThreshold'),
    )
    .optional()
    .meta({
      description:
        'A startup phase with its own deadline, before readiness: for apps that start slowly.',
    });

/** Spread into health's schema. */
export const probeFields = (duration: DurationField) => ({
  exec: z
    .array(z.string(expecting('a string argument')), expecting('a non-empty list of arguments'))
    .min(1)
    .optional()
    .meta({
      description: 'Command run inside the container, exec form (no shell); exit code 0 passes.',
    }),
  docker: z
    .literal(true, expecting('true'))
    .optional()
    .meta({ description: "Use the image's own HEALTHCHECK status as Docker reports it." }),
  startup: startupSchema(duration),
});

export interface RawProbeFields {
  http?: string;
  tcp?: true;
  exec?: string[];
  docker?: true;
  interval: string | number;
  startup?: { deadline: string | number; interval?: string | number; healthyThreshold: number };
}

/** The check kinds a health mapping names; more than one is an error. */
export function checkKinds(raw: RawProbeFields): Array<'http' | 'tcp' | 'exec' | 'docker'> {
  return (['http', 'tcp', 'exec', 'docker'] as const).filter((k) => raw[k] !== undefined);
}

export function healthCheck(raw: RawProbeFields): HealthSpec['check'] {
  if (raw.http !== undefined) return { type: 'http', path: raw.http };
  if (raw.exec !== undefined) return { type: 'exec', command: raw.exec };
  if (raw.docker !== undefined) return { type: 'docker' };
  return { type: 'tcp' };
}

const ms = (v: string | number): number => parseDuration(v) as number;

export function startupPhase(raw: RawProbeFields): StartupProbeSpec | undefined {
  if (!raw.startup) return undefined;
  return {
    intervalMs: ms(raw.startup.interval ?? raw.interval),
    healthyThreshold: raw.startup.healthyThreshold,
    deadlineMs: ms(raw.startup.deadline),
  };
}
