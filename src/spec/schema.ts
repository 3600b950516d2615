// The raw shape of hotswap.yaml, as written by people. Normalization (normalize.ts) turns it into
// the types in types.ts; this file only says what is allowed.
//
// Message convention: every schema's `error` is the phrase that completes "expected …" (zod also
// uses it for that schema's checks), so parse.ts can print "expected X, found Y" for any field.
// Checks that can explain themselves (durations, listen, volumes) attach `params.reason`.
import { constants } from 'node:os';
import { z } from 'zod';
import { DURATION_PATTERN, parseDuration } from './duration.js';
import { parseImageRef } from './image-ref.js';
import { parseListen } from './listen.js';
import { PERCENT_PATTERN } from './quantity.js';
import { parseVolume } from './volume.js';
import { envFromFile, hardeningFields } from './hardening.js';
import { preflightField } from './preflight.js';
import { reloadField } from './reload.js';
import { handoffField } from './handoff.js';
import { probeFields } from './health-probes.js';
import { resourcesField } from './resources.js';
import { autoscaleField } from './autoscale.js';
import { alertsField, notifyField } from './observe.js';
import { networksSection, serviceNetworksField } from './networks.js';
import { placementField } from './placement.js';

export const SERVICE_NAME_PATTERN = '^[a-z][a-z0-9-]{0,30}$';

const expecting = (phrase: string) => ({ error: phrase });

/** Adds the reason a parser gives for rejecting a well-typed value as a custom issue. */
function parsedBy<T extends z.ZodType>(
  schema: T,
  phrase: string,
  parse: (v: z.output<T>) => unknown,
) {
  return schema.superRefine((value, ctx) => {
    const result = parse(value);
    if (typeof result === 'string') {
      ctx.addIssue({ code: 'custom', message: phrase, params: { reason: result }, input: value });
    }
  });
}

function duration(opts: { positive: boolean; description: string }) {
  const phrase = `a ${opts.positive ? 'positive ' : ''}duration like "500ms", "2s", "1m" or a number of seconds`;
  const e = expecting(phrase);
  // The pattern is for editors only: parseDuration is the check, and it can say what is wrong.
  const text = z.string(e).meta({ pattern: DURATION_PATTERN });
  return parsedBy(z.union([z.number(e), text], e), phrase, (value) => {
    const ms = parseDuration(value);
    return opts.positive && ms === 0 ? 'zero' : ms;
  }).meta({ description: opts.description });
}

const positiveInt = (phrase = 'a positive integer') => z.number(expecting(phrase)).int().min(1);

const quantity = (description: string) => {
  const e = expecting('a count like 1 or a percentage like "25%"');
  return z
    .union([z.number(e).int().min(0), z.string(e).regex(new RegExp(PERCENT_PATTERN))], e)
    .optional()
    .meta({ description });
};

const ENV_KEY_PATTERN = /^[^=\s]+$/;
const envSchema = z
  .union(
    [
      z.record(
        z.string(expecting('a variable name without "=" or spaces')).regex(ENV_KEY_PATTERN),
        z.union(
          [z.string(), z.number(), z.boolean(), envFromFile],
          expecting('a string, number, boolean or { valueFrom: { file } }'),
        ),
      ),
      z.array(z.string(expecting('an entry like "NAME=value"')).regex(/^[^=\s]+=/)),
    ],
    expecting('a mapping of variables or a list of "NAME=value" entries'),
  )
  .default({})
  .meta({ description: 'Environment variables; numbers and booleans become strings.' });

const commandSchema = z
  .union(
    [
      z.string(expecting('a non-empty command')).regex(/\S/),
      z
        .array(z.string(expecting('a string argument')), expecting('a non-empty list of arguments'))
        .min(1),
    ],
    expecting('a list of arguments or a command string'),
  )
  .optional()
  .meta({ description: 'Overrides the image command; a string is split on whitespace.' });

const volumePhrase = 'a mount like "./data:/data:ro" or "name:/cache"';
const volumesSchema = z
  .array(
    parsedBy(z.string(expecting(volumePhrase)), volumePhrase, parseVolume),
    expecting('a list of mounts'),
  )
  .default([])
  .meta({
    description: 'source:target[:ro|:rw]; relative sources are resolved against this file.',
  });

export const healthSchema = z
  .strictObject(
    {
      http: z
        .string(expecting('a path starting with "/"'))
        .startsWith('/')
        .optional()
        .meta({ description: 'HTTP GET path that must answer 2xx. Default check: tcp.' }),
      tcp: z
        .literal(true, expecting('true'))
        .optional()
        .meta({ description: 'Check that the port accepts connections.' }),
      ...probeFields(duration),
      interval: duration({ positive: true, description: 'Time between probes.' }).default('1s'),
      timeout: duration({ positive: true, description: 'Time one probe may take.' }).default('1s'),
      healthyThreshold: positiveInt()
        .default(1)
        .meta({ description: 'Passes in a row before an instance takes traffic.' }),
      unhealthyThreshold: positiveInt()
        .default(3)
        .meta({ description: 'Failures in a row before an instance is unhealthy.' }),
      deadline: duration({
        positive: true,
        description: 'How long a new instance may take to become healthy.',
      }).default('60s'),
    },
    expecting('a mapping of health check settings'),
  )
  .prefault({});

const analysisRunSchema = z
  .strictObject(
    {
      interval: duration({
        positive: true,
        description: 'Time between two judgements.',
      }).optional(),
      count: positiveInt().default(3).meta({ description: 'Judgements in this analysis run.' }),
    },
    expecting('a mapping with interval and count'),
  )
  .meta({
    description:
      "Judge the new revision against the stable one with the service's analysis settings.",
  });

const pauseSchema = z
  .union(
    [
      duration({ positive: false, description: 'Pause for this long.' }),
      z.strictObject(
        { duration: duration({ positive: false, description: 'Pause for this long.' }).optional() },
        expecting('a mapping with an optional duration'),
      ),
    ],
    expecting('a duration, or {} to wait until promoted'),
  )
  .meta({ description: 'Wait: a duration, or {} until `hotswap promote`.' });

const canaryStepSchema = z.union(
  [
    z.strictObject({
      setWeight: parsedBy(
        z.number(expecting('a whole percentage from 0 to 100')),
        'a whole percentage from 0 to 100',
        (n) =>
          !Number.isInteger(n)
            ? 'not a whole number; the proxy splits traffic in whole percent'
            : n < 0 || n > 100
              ? `${n} is outside 0..100`
              : n,
      ),
    }),
    z.strictObject({ pause: pauseSchema }),
    z.strictObject({ analysis: analysisRunSchema.prefault({}) }),
  ],
  expecting('a step: { setWeight: N }, { pause: … } or { analysis: … }'),
);

const postPromotionSchema = z
  .strictObject(
    {
      window: duration({
        positive: true,
        description: 'How long the new revision is watched after the rollout succeeded.',
      }),
      analysis: z
        .strictObject(
          {
            interval: duration({
              positive: true,
              description:
                "Time between two judgements (default: the service's analysis.interval).",
            }).optional(),
          },
          expecting('a mapping with an interval'),
        )
        .prefault({}),
    },
    expecting('a mapping with window and analysis'),
  )
  .meta({
    description:
      "After promotion, judge the new revision against the pre-rollout baseline with the service's analysis settings for this window; a breach rolls back.",
  });

export const strategySchema = z
  .strictObject(
    {
      type: z
        .enum(
          ['rolling', 'recreate', 'canary', 'blue-green'],
          expecting('"rolling", "recreate", "canary" or "blue-green"'),
        )
        .default('rolling'),
      maxSurge: quantity('Extra instances during a rolling update. Default 25% (rounded up).'),
      maxUnavailable: quantity(
        'Instances that may be missing during a rolling update. Default 0 (rounded down).',
      ),
      analysis: analysisRunSchema.optional(),
      steps: z.array(canaryStepSchema, expecting('a list of canary steps')).min(1).optional().meta({
        description:
          'Canary: setWeight, pause and analysis steps, in order; promotion follows the last.',
      }),
      canaryReplicas: z
        .union(
          [z.literal('follow'), z.number().int().min(1)],
          expecting('"follow" or a positive integer'),
        )
        .optional()
        .meta({ description: 'Canary: instances follow the weight (default) or a fixed count.' }),
      previewListen: parsedBy(
        z.string(expecting('an address like "127.0.0.1:8081"')),
        'an address like "127.0.0.1:8081"',
        parseListen,
      )
        .optional()
        .meta({
          description: 'Blue-green: listener where the new revision can be tried before promotion.',
        }),
      autoPromotion: duration({
        positive: false,
        description: 'Blue-green: promote after this long; absent = by hand.',
      }).optional(),
      prePromotionAnalysis: analysisRunSchema.optional(),
      scaleDownDelay: duration({
        positive: false,
        description: 'Blue-green: the old group stays warm this long after promotion.',
      }).optional(),
      postPromotion: postPromotionSchema.optional(),
      checkpoint: z.boolean(expecting('true or false')).optional().meta({
        description:
          'Recreate: carry process memory over with docker checkpoint (CRIU); refused where unsupported.',
      }),
    },
    expecting('a mapping of strategy settings'),
  )
  .prefault({});

const RATIO_PHRASE = 'a fraction from 0 to 1 like 0.02, or a percentage like "2%"';

/** Why a ratio is refused: 5 would be 500%, a limit that can never be crossed. */
function ratioReason(value: number | string): string | number {
  if (typeof value === 'number') {
    if (value < 0) return 'negative';
    if (value > 1)
      return `${value} would be ${value * 100}%; write a fraction (${value / 100}) or "${value}%"`;
    return value;
  }
  const percent = Number(value.slice(0, -1));
  return percent > 100 ? `${value} is above 100%` : percent / 100;
}

const ratio = (description: string) => {
  const e = expecting(RATIO_PHRASE);
  return parsedBy(
    z.union([z.number(e), z.string(e).regex(/^\d+(\.\d+)?%$/)], e),
    RATIO_PHRASE,
    ratioReason,
  ).meta({ description });
};

export const analysisSchema = z
  .strictObject(
    {
      interval: duration({
        positive: true,
        description: 'Default time between judgements.',
      }).default('10s'),
      failureLimit: z
        .number(expecting('a non-negative integer'))
        .int()
        .min(0)
        .default(0)
        .meta({ description: 'Failed judgements tolerated in one run.' }),
      minRequests: positiveInt()
        .default(50)
        .meta({ description: 'Requests per revision before the judge decides anything.' }),
      errorRate: z
        .strictObject(
          {
            max: ratio(
              'Error rate above which the canary fails if it is also significantly worse than the baseline.',
            ).default(0.01),
            alpha: z
              .number(expecting('a significance level between 0 and 1'))
              .gt(0)
              .lt(1)
              .default(0.05),
          },
          expecting('a mapping with max and alpha'),
        )
        .nullable()
        .prefault({}),
      latency: z
        .strictObject(
          {
            maxP99Ratio: z.number(expecting('a ratio above 1, like 1.5')).gt(1).default(1.5),
            maxP50Ratio: z.number(expecting('a ratio above 1, like 2')).gt(1).default(2).meta({
              description:
                'A median this many times the baseline fails too (the tail is noisy on a busy host).',
            }),
            alpha: z
              .number(expecting('a significance level between 0 and 1'))
              .gt(0)
              .lt(1)
              .default(0.05),
            minDelta: duration({
              positive: false,
              description: 'p99 differences smaller than this never fail.',
            }).default('5ms'),
          },
          expecting('a mapping with maxP99Ratio, alpha and minDelta'),
        )
        .nullable()
        .prefault({}),
      prometheus: z
        .strictObject(
          {
            url: z.url(expecting('an http URL')),
            checks: z
              .array(
                z.strictObject({
                  name: z.string(expecting('a name')),
                  query: z.string(expecting('a PromQL query')),
                  max: z.number().optional(),
                  min: z.number().optional(),
                }),
                expecting('a list of checks'),
              )
              .min(1),
          },
          expecting('a mapping with url and checks'),
        )
        .optional(),
    },
    expecting('a mapping of analysis settings'),
  )
  .prefault({});

export const longConnectionsSchema = z
  .strictObject(
    {
      policy: z.enum(['keep', 'close'], expecting('"keep" or "close"')).default('keep').meta({
        description:
          'keep: WebSocket, SSE and TCP connections stay on the old instance until they close or the timeout ends; close: cut at once.',
      }),
      timeout: duration({
        positive: false,
        description: 'Budget of a kept long connection on a draining instance.',
      }).default('30s'),
    },
    expecting('a mapping with policy and timeout'),
  )
  .prefault({});

export const notifySchema = z
  .strictObject(
    {
      http: z.string(expecting('a path starting with "/"')).startsWith('/').optional().meta({
        description: 'POSTed on the draining instance before its long connections are cut.',
      }),
      signal: parsedBy(
        z.string(expecting('a signal name like "SIGUSR2"')),
        'a signal name like "SIGUSR2"',
        signalReason,
      )
        .optional()
        .meta({
          description: 'Sent to the draining instance before its long connections are cut.',
        }),
      grace: duration({
        positive: false,
        description: 'Time between the notice and the cut, for the app to tell its clients.',
      }).default('1s'),
    },
    expecting('a mapping with http or signal'),
  )
  .optional();

/** Signals an app can catch; SIGKILL and SIGSTOP cannot be, so they are no notice. */
function signalReason(name: string): string | undefined {
  if (name === 'SIGKILL' || name === 'SIGSTOP') return `${name} cannot be caught by the app`;
  if (name in constants.signals) return undefined;
  const upper = name.toUpperCase();
  const guess = upper.startsWith('SIG') ? upper : `SIG${upper}`;
  return guess in constants.signals
    ? `unknown signal "${name}"; did you mean "${guess}"?`
    : `unknown signal "${name}"`;
}

export const drainSchema = z
  .strictObject(
    {
      timeout: duration({
        positive: false,
        description: 'Time in-flight requests get to finish.',
      }).default('30s'),
      longConnections: longConnectionsSchema,
      notify: notifySchema,
    },
    expecting('a mapping of drain settings'),
  )
  .prefault({});

export const routingSchema = z
  .strictObject(
    {
      hosts: z
        .array(
          z
            .string(expecting('a host name like "api.example.com" or "*.example.com"'))
            .regex(/^(\*\.)?[A-Za-z0-9.-]+$/),
          expecting('a list of host names'),
        )
        .default([])
        .meta({ description: 'Host header values this service answers on a shared listener.' }),
      path: z
        .string(expecting('a path prefix starting with "/"'))
        .startsWith('/')
        .optional()
        .meta({ description: 'Path prefix this service answers on a shared listener.' }),
      sticky: z
        .strictObject(
          {
            cookie: z
              .string(expecting('a cookie name'))
              .regex(/^[!#-'*+.0-9A-Z^-z|~-]+$/)
              .optional(),
            header: z
              .string(expecting('a header name'))
              .regex(/^[!#-'*+.0-9A-Za-z^_`|~-]+$/)
              .optional(),
          },
          expecting('a mapping with cookie or header'),
        )
        .optional()
        .meta({
          description:
            'Keep each user on one revision during a split, by a hash of this cookie or header.',
        }),
      override: z
        .strictObject(
          {
            header: z
              .string(expecting('a header name'))
              .regex(/^[!#-'*+.0-9A-Za-z^_`|~-]+$/)
              .transform((h) => h.toLowerCase())
              .optional(),
            cookie: z
              .string(expecting('a cookie name'))
              .regex(/^[!#-'*+.0-9A-Z^-z|~-]+$/)
              .optional(),
            secret: z
              .string(expecting('a secret of 16 to 256 visible ASCII characters'))
              .regex(/^[\x21-\x7e]{16,256}$/)
              .optional(),
          },
          expecting('a mapping with header, cookie and secret'),
        )
        .optional()
        .meta({
          description:
            'Let a request choose its revision with this header or cookie (value "N", or "N:secret" with a secret). Off by default; stripped before the app; never counted by the canary judge.',
        }),
    },
    expecting('a mapping of routing settings'),
  )
  .prefault({});

const LONG_UNITS: Record<string, number> = { s: 1, m: 60, h: 3600, d: 86400 };

/** Seconds from "180d", "12h", "90m", "30s" or a bare number of seconds (for spans of days). */
export function parseLongDuration(value: string | number): number | string {
  if (typeof value === 'number')
    return Number.isInteger(value) && value >= 0 ? value : 'not a whole number';
  const m = /^(\d+)(d|h|m|s)$/.exec(value);
  if (m === null) return 'use a number and one unit: d, h, m or s ("180d")';
  return Number(m[1]) * LONG_UNITS[m[2]!]!;
}

function longDuration(description: string) {
  const phrase = 'a span like "180d", "12h" or a number of seconds';
  const e = expecting(phrase);
  return parsedBy(z.union([z.number(e), z.string(e)], e), phrase, parseLongDuration).meta({
    description,
  });
}

const SIZE_UNITS: Record<string, number> = { b: 1, kb: 1024, mb: 1024 ** 2, gb: 1024 ** 3 };

/** Bytes from 1048576, "512kb", "10mb" or "1gb". */
export function parseSize(value: string | number): number | string {
  if (typeof value === 'number')
    return Number.isSafeInteger(value) && value >= 0 ? value : 'not a whole number of bytes';
  const m = /^(\d+)(b|kb|mb|gb)$/i.exec(value);
  if (m === null) return 'use a number and one unit: b, kb, mb or gb ("10mb")';
  return Number(m[1]) * SIZE_UNITS[m[2]!.toLowerCase()]!;
}

const limitsSchema = z
  .strictObject(
    {
      maxConnections: z
        .number(expecting('a whole number of connections'))
        .int()
        .min(0)
        .default(0)
        .meta({ description: 'Connections open at once on the listener; 0: no limit.' }),
      maxBody: parsedBy(
        z.union([z.number(), z.string()], expecting('a size like "10mb" or a number of bytes')),
        'a size like "10mb" or a number of bytes',
        parseSize,
      )
        .default('100mb')
        .meta({ description: 'Largest request body; larger ones get 413.' }),
      maxConnectionDuration: duration({
        positive: false,
        description: 'WebSocket, SSE and TCP connections are cut after this long; 0: no limit.',
      }).default(0),
      tcpIdleTimeout: duration({
        positive: false,
        description:
          'mode: tcp — a connection with no byte either way this long is closed; 0: none.',
      }).default(0),
    },
    expecting('a mapping of limits'),
  )
  .prefault({})
  .meta({ description: 'Limits per client connection on the listener.' });

const tlsSchema = z
  .strictObject(
    {
      cert: z
        .string(expecting('a path to a PEM certificate file'))
        .min(1)
        .optional()
        .meta({ description: 'Certificate chain, PEM (relative to this file).' }),
      key: z
        .string(expecting('a path to a PEM key file'))
        .min(1)
        .optional()
        .meta({ description: 'Its private key, PEM (relative to this file).' }),
      acme: z
        .strictObject(
          {
            email: z.string(expecting('an e-mail address')).regex(/^[^@\s]+@[^@\s]+$/),
            directory: z.url(expecting('the https URL of an ACME directory')),
            directoryCa: z
              .string(expecting('a path to a PEM file of CAs'))
              .min(1)
              .optional()
              .meta({ description: "CAs to trust for the directory's HTTPS (a test server's)." }),
            renewBefore: longDuration('Renew this long before the certificate expires.').default(
              '30d',
            ),
          },
          expecting('a mapping with email and directory'),
        )
        .optional()
        .meta({
          description:
            'Obtain and renew the certificate for routing.hosts with ACME (HTTP-01, answered on tls.redirect).',
        }),
      redirect: parsedBy(
        z.string(expecting('an address like "127.0.0.1:8080"')),
        'an address like "127.0.0.1:8080"',
        parseListen,
      )
        .optional()
        .meta({
          description: 'A plain HTTP listener that answers 308 to https (and ACME challenges).',
        }),
      hsts: longDuration(
        'Strict-Transport-Security max-age ("180d"); 0 or unset: none.',
      ).optional(),
      hstsIncludeSubDomains: z.boolean(expecting('true or false')).default(false),
    },
    expecting('a mapping of TLS settings'),
  )
  .optional()
  .meta({ description: 'Serve the listener over TLS.' });

export const serviceSchema = z.strictObject(
  {
    image: parsedBy(
      z.string(expecting('an image reference like "name:tag"')),
      'an image reference like "name:tag"',
      parseImageRef,
    ),
    pull: z
      .enum(['missing', 'always', 'never'], expecting('"missing", "always" or "never"'))
      .default('missing')
      .meta({
        description:
          'Pull the image from its registry: when not on the host (default), before every rollout, or never.',
      }),
    replicas: z.number(expecting('a non-negative integer')).int().min(0).default(1),
    port: z
      .number(expecting('a port number from 1 to 65535'))
      .int()
      .min(1)
      .max(65535)
      .meta({ description: 'Port the app listens on inside the container.' }),
    mode: z.enum(['http', 'tcp'], expecting('"http" or "tcp"')).default('http').meta({
      description:
        'http: HTTP/1.1, WebSocket and SSE; tcp: raw TCP connections spliced to an instance.',
    }),
    listen: parsedBy(
      z.string(expecting('an address like "127.0.0.1:8080", "[::1]:8080" or "localhost:8080"')),
      'an address like "127.0.0.1:8080", "[::1]:8080" or "localhost:8080"',
      parseListen,
    ).meta({ description: 'Proxy listener, host:port.' }),
    env: envSchema,
    envFile: z
      .union(
        [
          z.string(expecting('a file path')).min(1),
          z.array(z.string(expecting('a file path')).min(1)),
        ],
        expecting('a file path or a list of them'),
      )
      .optional()
      .meta({
        description:
          'Files of NAME=value lines, relative to this file; "env" wins over them, later files over earlier.',
      }),
    command: commandSchema,
    volumes: volumesSchema,
    health: healthSchema,
    strategy: strategySchema,
    drain: drainSchema,
    routing: routingSchema,
    analysis: analysisSchema,
    tls: tlsSchema,
    limits: limitsSchema,
    keepPrevious: duration({
      positive: false,
      description:
        'After a rollout the previous revision stays warm this long, for an instant rollback.',
    }).default('0s'),
    stopGracePeriod: duration({
      positive: false,
      description: 'Time between SIGTERM and SIGKILL.',
    }).default('10s'),
    ...hardeningFields,
    ...preflightField,
    ...reloadField,
    ...handoffField,
    ...resourcesField,
    ...autoscaleField(duration),
    ...notifyField(duration),
    ...alertsField(duration),
    ...serviceNetworksField,
    ...placementField,
  },
  expecting('a mapping of service settings'),
);

export const specSchema = z.strictObject(
  {
    services: z
      .record(
        z
          .string(
            expecting(
              'a service name: lowercase letters, digits and "-", starting with a letter, at most 31 characters',
            ),
          )
          .regex(new RegExp(SERVICE_NAME_PATTERN)),
        serviceSchema,
        expecting('a mapping of service names to services'),
      )
      .refine((services) => Object.keys(services).length > 0, expecting('at least one service')),
    ...networksSection,
  },
  expecting('a mapping with a "services" key'),
);

export type RawSpec = z.output<typeof specSchema>;
export type RawService = z.output<typeof serviceSchema>;

/** Keys allowed in the mapping at a path, for did-you-mean suggestions on unknown keys. */
export function allowedKeysAt(path: readonly PropertyKey[]): string[] {
  const keys = new Set<string>();
  for (const node of schemasAt(specSchema, path)) for (const k of objectKeys(node)) keys.add(k);
  return [...keys];
}

interface Def {
  type: string;
  innerType?: z.ZodType;
  element?: z.ZodType;
  valueType?: z.ZodType;
  options?: z.ZodType[];
  in?: z.ZodType;
  shape?: Record<string, z.ZodType>;
}

const defOf = (schema: z.ZodType): Def => (schema as unknown as { _zod: { def: Def } })._zod.def;

/** The object-like schemas a path can lead to, looking through wrappers, unions, lists and maps. */
function schemasAt(schema: z.ZodType, path: readonly PropertyKey[]): z.ZodType[] {
  const here = unwrap(schema);
  if (path.length === 0) return here;
  const [head, ...rest] = path;
  return here.flatMap((node) => {
    const def = defOf(node);
    if (def.type === 'object' && def.shape && typeof head === 'string' && head in def.shape) {
      return schemasAt(def.shape[head]!, rest);
    }
    if (def.type === 'record' && def.valueType) return schemasAt(def.valueType, rest);
    if (def.type === 'array' && def.element && typeof head === 'number')
      return schemasAt(def.element, rest);
    return [];
  });
}

function unwrap(schema: z.ZodType): z.ZodType[] {
  const def = defOf(schema);
  if (def.innerType) return unwrap(def.innerType);
  if (def.type === 'pipe' && def.in) return unwrap(def.in);
  if (def.type === 'union' && def.options) return def.options.flatMap(unwrap);
  return [schema];
}

function objectKeys(schema: z.ZodType): string[] {
  const def = defOf(schema);
  return def.type === 'object' && def.shape ? Object.keys(def.shape) : [];
}
