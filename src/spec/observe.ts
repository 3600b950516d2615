// `notify` and `alerts` (issue 15): who is told about rollouts, crash loops and alerts, and the
// alert rules the daemon evaluates on the proxy's and Docker's numbers. Neither is in the config
// hash: they change what is watched, not what runs. `notify` is also read from the daemon's
// config.yaml (src/security/config.ts), so its schema lives here once.
import { z } from 'zod';
import { parseDuration } from './duration.js';
import {
  parseAlertExpression,
  type AlertCondition,
  type ExpressionProblem,
} from './alert-expression.js';

const expecting = (phrase: string) => ({ error: phrase });

/** What a notification can be about. */
export const NOTIFY_EVENTS = [
  'rollout.started',
  'rollout.succeeded',
  'rollout.failed',
  'rollout.rolled-back',
  'rollout.paused',
  'instance.crash-looping',
  'alert.firing',
  'alert.resolved',
] as const;
export type NotifyEvent = (typeof NOTIFY_EVENTS)[number];

export interface NotifyTarget {
  url: string;
  events: NotifyEvent[];
  format: 'json' | 'slack';
  /** HMAC-SHA256 key of the signature header; null: deliveries are not signed. */
  secret: string | null;
  /** One attempt's budget (connect, send, answer). */
  timeoutMs: number;
  /** Attempts after the first, with exponential backoff, before the delivery is recorded as failed. */
  retries: number;
}

export interface AlertRule {
  name: string;
  /** The expression as written. */
  when: string;
  condition: AlertCondition;
  /** The condition must hold this long before the alert fires. */
  forMs: number;
  /** The span of traffic each evaluation reads (error rate, percentiles, restarts). */
  windowMs: number;
}

type DurationField = (opts: {
  positive: boolean;
  description: string;
}) => z.ZodType<string | number>;

const HTTP_URL = 'an http or https URL';
const WHEN_PHRASE = 'an expression like "errorRate > 2%", "p99 > 500ms" or "anomaly(latency)"';

export const notifyTargetSchema = (duration: DurationField) =>
  z.strictObject(
    {
      webhook: z
        .url(expecting(HTTP_URL))
        .refine((u) => /^https?:$/.test(new URL(u).protocol), expecting(HTTP_URL))
        .meta({ description: 'URL the notification is POSTed to.' }),
      events: z
        .array(
          z.enum(NOTIFY_EVENTS, expecting(`one of ${NOTIFY_EVENTS.join(', ')}`)),
          expecting('a list of events'),
        )
        .min(1)
        .optional()
        .meta({ description: 'Events sent to this webhook; absent = all.' }),
      format: z.enum(['json', 'slack'], expecting('"json" or "slack"')).default('json').meta({
        description: 'json: the event as a document; slack: { text } for an incoming webhook.',
      }),
      secret: z
        .string(expecting('a secret string'))
        .min(16, expecting('a secret of at least 16 characters'))
        .optional()
        .meta({ description: 'HMAC-SHA256 key of the X-Hotswap-Signature header.' }),
      timeout: duration({ positive: true, description: 'One attempt’s budget.' }).default('5s'),
      retries: z
        .number(expecting('a whole number from 0 to 20'))
        .int()
        .min(0)
        .max(20)
        .default(5)
        .meta({ description: 'Attempts after the first (backoff 1 s, 2 s, 4 s … up to 5 min).' }),
    },
    expecting('a mapping with webhook, events, format, secret'),
  );

export type RawNotifyTarget = z.output<ReturnType<typeof notifyTargetSchema>>;

export const notifyField = (duration: DurationField) => ({
  notify: z
    .array(notifyTargetSchema(duration), expecting('a list of webhooks'))
    .optional()
    .meta({ description: 'Webhooks told about this service’s rollouts, crash loops and alerts.' }),
});

const alertRuleSchema = (duration: DurationField) =>
  z.strictObject(
    {
      name: z
        .string(expecting('a name like "high-errors"'))
        .regex(
          /^[A-Za-z0-9][A-Za-z0-9_.-]{0,62}$/,
          expecting('a name of letters, digits, ".", "_" or "-"'),
        ),
      when: z
        .string(expecting(WHEN_PHRASE))
        .superRefine((text, ctx) => {
          // Checked here, with the schema, so a bad expression is reported with every other problem;
          // `offset` lets the report point at the character (src/spec/issues.ts).
          const parsed = parseAlertExpression(text);
          if (isProblem(parsed))
            ctx.addIssue({
              code: 'custom',
              message: WHEN_PHRASE,
              params: { reason: parsed.message, offset: parsed.offset },
              input: text,
            });
        })
        .meta({
          description:
            'metric op value ("errorRate > 2%", "p99 > 500ms", "restarts > 3", "cpu > 90%", "memory > 80%"), or anomaly(errorRate|latency|memory[, z]).',
        }),
      for: duration({
        positive: false,
        description: 'The condition must hold this long before the alert fires.',
      }).default('1m'),
      window: duration({
        positive: true,
        description: 'Traffic each evaluation reads (error rate, percentiles, restarts).',
      }).default('1m'),
    },
    expecting('a mapping with name, when and for'),
  );

export type RawAlertRule = z.output<ReturnType<typeof alertRuleSchema>>;

export const alertsField = (duration: DurationField) => ({
  alerts: z.array(alertRuleSchema(duration), expecting('a list of alert rules')).optional().meta({
    description:
      'Rules evaluated by the daemon: errorRate, p50/p95/p99, restarts, cpu, memory, requests, or anomaly(errorRate|latency|memory).',
  }),
});

export function normalizeNotify(
  raw: RawNotifyTarget[] | undefined,
  ms: (v: string | number) => number,
): NotifyTarget[] | undefined {
  if (!raw) return undefined;
  return raw.map((t) => ({
    url: t.webhook,
    events: t.events ?? [...NOTIFY_EVENTS],
    format: t.format,
    secret: t.secret ?? null,
    timeoutMs: ms(t.timeout),
    retries: t.retries,
  }));
}

/** Rules with their parsed conditions; a name used twice goes to `problem`. */
export function normalizeAlerts(
  raw: RawAlertRule[] | undefined,
  ms: (v: string | number) => number,
  problem: (index: number, message: string) => void,
): AlertRule[] | undefined {
  if (!raw) return undefined;
  const seen = new Set<string>();
  const rules: AlertRule[] = [];
  raw.forEach((r, index) => {
    if (seen.has(r.name)) problem(index, `alert "${r.name}" is defined twice`);
    seen.add(r.name);
    const parsed = parseAlertExpression(r.when);
    // The schema refused what does not parse.
    if (isProblem(parsed)) throw new Error(`schema let an invalid expression through: ${r.when}`);
    rules.push({
      name: r.name,
      when: r.when,
      condition: parsed,
      forMs: ms(r.for),
      windowMs: ms(r.window),
    });
  });
  return rules;
}

function isProblem(v: AlertCondition | ExpressionProblem): v is ExpressionProblem {
  return 'offset' in v;
}

/** A duration field for settings files outside the spec (config.yaml), where schema.ts's is not at hand. */
const plainDuration: DurationField = ({ description }) =>
  z
    .union([z.number(), z.string()], expecting('a duration like "5s"'))
    .refine((v) => typeof parseDuration(v) === 'number', expecting('a duration like "5s"'))
    .meta({ description });

/** config.yaml's `notify`: webhooks told about every service. */
export const daemonNotifySchema = z.array(
  notifyTargetSchema(plainDuration),
  expecting('a list of webhooks'),
);

/** Milliseconds of a duration the schema accepted. */
export function durationMs(v: string | number): number {
  const ms = parseDuration(v);
  if (typeof ms === 'string') throw new Error(`schema let an invalid duration through: ${ms}`);
  return ms;
}
