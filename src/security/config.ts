// `<home>/config.yaml`: the daemon's own settings (not a deployer's spec). This module reads the
// `api` section (remote listener), `policy.allowedHostPaths` and `metrics.listen` (Prometheus
// endpoint; env HOTSWAP_METRICS_LISTEN overrides it), `notify` (webhooks told about every
// service, issue 15) and `runtime` (Docker or Swarm, issue 17); other keys are left to their owners.
import { existsSync, readFileSync } from 'node:fs';
import { isAbsolute, join } from 'node:path';
import { z } from 'zod';
import { HotswapError } from '../errors.js';
import { parseListen, type ListenAddress } from '../spec/listen.js';
import {
  daemonNotifySchema,
  durationMs,
  normalizeNotify,
  type NotifyTarget,
} from '../spec/index.js';
import { invalidDoc, parseYamlDoc } from './yaml-doc.js';
import type { ContainerPolicy } from './container-policy.js';
import { RuntimeSection, type RuntimeConfig } from './runtime-config.js';

const ApiSection = z.strictObject({
  listen: z.string({ error: 'expected an address like "127.0.0.1:7443"' }),
  tls: z
    .strictObject({
      cert: z.string({ error: 'expected a path to a PEM certificate' }),
      key: z.string({ error: 'expected a path to a PEM private key' }),
    })
    .optional(),
});
const PolicySection = z.looseObject({
  allowedHostPaths: z
    .array(z.string().startsWith('/', 'expected an absolute path'), {
      error: 'expected a list of absolute paths',
    })
    .optional(),
  allowedPreflight: z.array(z.string(), { error: 'expected a list of commands' }).optional(),
});
const MetricsSection = z.strictObject({
  listen: z.string({ error: 'expected an address like "127.0.0.1:9464"' }),
});
const ConfigFile = z.looseObject({
  api: ApiSection.optional(),
  policy: PolicySection.optional(),
  metrics: MetricsSection.optional(),
  notify: daemonNotifySchema.optional(),
  runtime: RuntimeSection.optional(),
});

/** Overrides `metrics.listen` of config.yaml. */
export const METRICS_LISTEN_ENV = 'HOTSWAP_METRICS_LISTEN';

export interface RemoteApiConfig {
  listen: ListenAddress;
  /** Absolute paths; null = a self-signed certificate in <home>/api-tls. */
  tls: { cert: string; key: string } | null;
}

export interface DaemonConfig {
  file: string;
  api: RemoteApiConfig | null;
  containerPolicy: ContainerPolicy;
  /** TCP address of the Prometheus endpoint (GET /metrics); null = none. */
  metricsListen: ListenAddress | null;
  /** Webhooks told about every service's events. */
  notify: NotifyTarget[];
  /** Which backend runs instances (issue 17); default the local Docker engine. */
  runtime: RuntimeConfig;
}

/** Reads `<home>/config.yaml` (absent = defaults); errors name file:line:col and the field. */
export function loadConfig(home: string): DaemonConfig {
  const file = join(home, 'config.yaml');
  if (!existsSync(file)) {
    return {
      file,
      api: null,
      containerPolicy: { allowedHostPaths: [] },
      metricsListen: metricsFromEnv(),
      notify: [],
      runtime: { type: 'docker' },
    };
  }
  const { data, problem } = parseYamlDoc(
    readFileSync(file, 'utf8'),
    file,
    ConfigFile,
    'hotswap config',
  );
  const containerPolicy = {
    allowedHostPaths: data.policy?.allowedHostPaths ?? [],
    allowedPreflight: data.policy?.allowedPreflight ?? [],
  };
  let metricsListen = metricsFromEnv();
  if (metricsListen === null && data.metrics !== undefined) {
    const parsed = parseListen(data.metrics.listen);
    if (typeof parsed === 'string')
      throw invalidDoc(file, 'hotswap config', [problem(['metrics', 'listen'], parsed)]);
    metricsListen = parsed;
  }
  const notify = normalizeNotify(data.notify, durationMs) ?? [];
  const runtime = data.runtime ?? { type: 'docker' };
  const api = data.api;
  if (!api) return { file, api: null, containerPolicy, metricsListen, notify, runtime };
  const listen = parseListen(api.listen);
  if (typeof listen === 'string')
    throw invalidDoc(file, 'hotswap config', [problem(['api', 'listen'], listen)]);
  const abs = (p: string): string => (isAbsolute(p) ? p : join(home, p));
  return {
    file,
    api: { listen, tls: api.tls ? { cert: abs(api.tls.cert), key: abs(api.tls.key) } : null },
    containerPolicy,
    metricsListen,
    notify,
    runtime,
  };
}

/** HOTSWAP_METRICS_LISTEN, when set and not empty. */
function metricsFromEnv(): ListenAddress | null {
  const raw = process.env[METRICS_LISTEN_ENV];
  if (raw === undefined || raw === '') return null;
  const parsed = parseListen(raw);
  if (typeof parsed === 'string') {
    throw new HotswapError('USAGE', `${METRICS_LISTEN_ENV}=${raw}: ${parsed}`);
  }
  return parsed;
}
