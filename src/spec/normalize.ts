// Raw (schema-valid) services → normalized ServiceSpecs: defaults filled, durations in ms,
// percentages resolved, volume paths absolute. Also the rules that span several fields or
// services, which a per-field schema cannot express; they report through the same IssueFactory.
import { resolve } from 'node:path';
import { isScalar } from 'yaml';
import { parseDuration } from './duration.js';
import { readEnvFile } from './env-file.js';
import type { IssueFactory } from './issues.js';
import { listenersClash, parseListen, type ListenAddress } from './listen.js';
import { resolveQuantity } from './quantity.js';
import { parseLongDuration, parseSize, type RawService } from './schema.js';
import { checkCertificate } from '../tls/certificate-check.js';
import type {
  AnalysisRun,
  AnalysisSpec,
  CanaryStepSpec,
  DrainNotice,
  DrainSpec,
  HealthSpec,
  RoutingSpec,
  ServiceSpec,
  SpecIssue,
  StrategySpec,
  TlsSpec,
  VolumeSpec,
} from './types.js';
import { parseVolume, resolveVolumeSource } from './volume.js';
import { normalizeResources } from './resources.js';
import { normalizePlacement } from './placement.js';
import { normalizeAutoscale } from './autoscale.js';
import { normalizeAlerts, normalizeNotify } from './observe.js';
import { checkKinds, healthCheck, startupPhase } from './health-probes.js';
import { normalizeHardening, secretFromFile, type EnvFromFile } from './hardening.js';
import { normalizePreflight } from './preflight.js';
import { normalizeReload } from './reload.js';
import { normalizeHandoff } from './handoff.js';

/** Maxima Kubernetes uses when a rolling update does not say. */
const DEFAULT_MAX_SURGE = '25%';
const DEFAULT_MAX_UNAVAILABLE = 0;

export interface NormalizeResult {
  services: ServiceSpec[];
  issues: SpecIssue[];
}

export function normalizeServices(
  raw: ReadonlyArray<[string, RawService]>,
  specDir: string,
  issues: IssueFactory,
): NormalizeResult {
  const found: SpecIssue[] = [];
  const services = raw.map(([name, service]) => {
    const ctx = { name, specDir, issues, found };
    return normalizeService(ctx, service);
  });
  found.push(...listenClashes(services, issues));
  return { services, issues: found };
}

interface Ctx {
  name: string;
  specDir: string;
  issues: IssueFactory;
  /** Problems found while normalizing; normalization still completes so all are reported. */
  found: SpecIssue[];
}

function normalizeService(ctx: Ctx, raw: RawService): ServiceSpec {
  return {
    name: ctx.name,
    image: raw.image,
    pull: raw.pull,
    replicas: raw.replicas,
    port: raw.port,
    mode: raw.mode,
    listen: raw.listen,
    routing: normalizeRouting(ctx, raw),
    env: withEnvFiles(envFiles(ctx, raw.envFile), normalizeEnv(ctx, raw.env)),
    command: normalizeCommand(raw.command),
    volumes: normalizeVolumes(ctx, raw.volumes),
    health: normalizeHealth(ctx, raw.health, raw.mode),
    strategy: withPostPromotion(ctx, normalizeStrategy(ctx, raw), raw),
    drain: normalizeDrain(ctx, raw.drain),
    analysis: normalizeAnalysis(ctx, raw.analysis),
    keepPreviousMs: ms(raw.keepPrevious),
    stopGracePeriodMs: ms(raw.stopGracePeriod),
    tls: normalizeTls(ctx, raw),
    limits: {
      maxConnections: raw.limits.maxConnections,
      maxBodyBytes: bytes(raw.limits.maxBody),
      maxConnectionDurationMs: ms(raw.limits.maxConnectionDuration),
      tcpIdleTimeoutMs: ms(raw.limits.tcpIdleTimeout),
    },
    ...hardeningAndSecrets(ctx, raw),
    ...resourcesOf(ctx, raw),
    ...autoscaleOf(ctx, raw),
    ...observeOf(ctx, raw),
    ...normalizePlacement(raw.placement),
  };
}

/** notify and alerts (issue 15); left out when unset. */
function observeOf(ctx: Ctx, raw: RawService): Pick<ServiceSpec, 'notify' | 'alerts'> {
  const out: Pick<ServiceSpec, 'notify' | 'alerts'> = {};
  const notify = normalizeNotify(raw.notify, ms);
  if (notify) out.notify = notify;
  const alerts = normalizeAlerts(raw.alerts, ms, (index, message) =>
    ctx.found.push(ctx.issues.at(path(ctx, 'alerts', index, 'name'), message)),
  );
  if (alerts) out.alerts = alerts;
  return out;
}

function autoscaleOf(ctx: Ctx, raw: RawService): Pick<ServiceSpec, 'autoscale'> {
  const autoscale = normalizeAutoscale(raw.autoscale, ms, (field, message) =>
    ctx.found.push(
      ctx.issues.at(
        path(ctx, 'autoscale', ...(field ? [field] : [])),
        message,
        field ? 'value' : 'key',
      ),
    ),
  );
  return autoscale ? { autoscale } : {};
}

/** Left out when unset; the host's figures (cores) are checked here, at the field. */
function resourcesOf(ctx: Ctx, raw: RawService): Pick<ServiceSpec, 'resources'> {
  const resources = normalizeResources(raw.resources, (field, message) =>
    ctx.found.push(ctx.issues.at(path(ctx, 'resources', field), message)),
  );
  if (resources?.pids !== undefined && raw.pidsLimit !== undefined)
    ctx.found.push(
      ctx.issues.at(
        path(ctx, 'pidsLimit'),
        'pidsLimit and resources.pids set the same limit: keep resources.pids',
      ),
    );
  return resources ? { resources } : {};
}

/** The optional issue-14 fields; left out entirely when unused, so config hashes stay as they were. */
function hardeningAndSecrets(
  ctx: Ctx,
  raw: RawService,
): Pick<ServiceSpec, 'hardening' | 'secretEnv' | 'preflight' | 'reload' | 'handoff'> {
  const out: Pick<ServiceSpec, 'hardening' | 'secretEnv' | 'preflight' | 'reload' | 'handoff'> = {};
  const handoff = normalizeHandoff(raw.handoff, (where, message) =>
    ctx.found.push(ctx.issues.at(path(ctx, 'handoff', ...where), message)),
  );
  if (handoff) out.handoff = handoff;
  const reload = normalizeReload(raw.reload, ctx.specDir, (where, message) =>
    ctx.found.push(ctx.issues.at(path(ctx, 'reload', ...where), message)),
  );
  if (reload) out.reload = reload;
  if (reload && raw.readOnly === true)
    ctx.found.push(
      ctx.issues.at(
        path(ctx, 'reload'),
        'reload copies files into the container: it cannot be used with readOnly: true',
        'key',
      ),
    );
  const hardening = normalizeHardening(raw);
  if (hardening) out.hardening = hardening;
  const preflight = normalizePreflight(raw.preflight, (index, message) =>
    ctx.found.push(ctx.issues.at(path(ctx, 'preflight', index, 'timeout'), message)),
  );
  if (preflight) out.preflight = preflight;
  if (Array.isArray(raw.env)) return out;
  const secrets: NonNullable<ServiceSpec['secretEnv']> = {};
  for (const [key, value] of Object.entries(raw.env)) {
    if (!isFromFile(value)) continue;
    const secret = secretFromFile(value.valueFrom.file, ctx.specDir);
    if (typeof secret === 'string')
      ctx.found.push(ctx.issues.at(path(ctx, 'env', key, 'valueFrom', 'file'), secret));
    else secrets[key] = secret;
  }
  if (Object.keys(secrets).length) out.secretEnv = secrets;
  return out;
}

const isFromFile = (v: unknown): v is EnvFromFile => typeof v === 'object' && v !== null;

/**
 * TLS: files (checked now: readable, the key the certificate's, not expired) or ACME, which needs
 * the hosts to certify and a plain listener for its HTTP-01 challenge.
 */
function normalizeTls(ctx: Ctx, raw: RawService): TlsSpec | null {
  const tls = raw.tls;
  if (tls === undefined) return null;
  const at = (...rest: PropertyKey[]) => path(ctx, 'tls', ...rest);
  const problem = (where: PropertyKey[], message: string) =>
    ctx.found.push(ctx.issues.at(where, message, where.length > 3 ? 'value' : 'key'));
  if (raw.mode === 'tcp') problem(at(), 'tls needs mode: http');
  const file = (p: string | undefined) => (p === undefined ? null : resolve(ctx.specDir, p));
  const cert = file(tls.cert);
  const key = file(tls.key);
  const acme = tls.acme;
  if (acme !== undefined && (cert !== null || key !== null)) {
    problem(at(), 'tls takes cert and key, or acme, not both');
  } else if (acme === undefined && (cert === null || key === null)) {
    problem(at(), 'tls needs cert and key (PEM files), or acme');
  } else if (cert !== null && key !== null) {
    const checked = checkCertificate({ cert, key });
    if (!checked.ok) problem(at(checked.field), checked.message);
  }
  if (acme !== undefined) {
    if (raw.routing.hosts.length === 0 || raw.routing.hosts.some((h) => h.startsWith('*'))) {
      problem(at('acme'), 'acme certifies routing.hosts: name them (no wildcards with HTTP-01)');
    }
    if (tls.redirect === undefined) {
      problem(
        at('acme'),
        'acme answers its HTTP-01 challenge on tls.redirect: set a plain listener',
      );
    }
  }
  if (tls.redirect !== undefined && tls.redirect === raw.listen) {
    problem(at('redirect'), 'the redirect listener must differ from listen');
  }
  return {
    cert,
    key,
    acme:
      acme === undefined
        ? null
        : {
            email: acme.email,
            directory: acme.directory,
            directoryCa: file(acme.directoryCa),
            renewBeforeMs: seconds(acme.renewBefore) * 1000,
          },
    redirect: tls.redirect ?? null,
    hstsMaxAgeS: tls.hsts === undefined ? 0 : seconds(tls.hsts),
    hstsIncludeSubDomains: tls.hstsIncludeSubDomains,
  };
}

// The schema has already accepted the value.
function bytes(value: string | number): number {
  const result = parseSize(value);
  if (typeof result === 'string') throw new Error(`schema let an invalid size through: ${result}`);
  return result;
}

// The schema has already accepted the value.
function seconds(value: string | number): number {
  const result = parseLongDuration(value);
  if (typeof result === 'string') throw new Error(`schema let an invalid span through: ${result}`);
  return result;
}

// The schema has already accepted the value, so parseDuration cannot fail here.
function ms(value: string | number): number {
  const result = parseDuration(value);
  if (typeof result === 'string')
    throw new Error(`schema let an invalid duration through: ${result}`);
  return result;
}

function path(ctx: Ctx, ...rest: PropertyKey[]): PropertyKey[] {
  return ['services', ctx.name, ...rest];
}

function normalizeEnv(ctx: Ctx, env: RawService['env']): Record<string, string> {
  const out: Record<string, string> = {};
  if (Array.isArray(env)) {
    env.forEach((entry, index) => {
      const eq = entry.indexOf('=');
      const key = entry.slice(0, eq);
      if (key in out) {
        ctx.found.push(ctx.issues.at(path(ctx, 'env', index), `variable "${key}" is set twice`));
      }
      out[key] = entry.slice(eq + 1);
    });
    return out;
  }
  for (const [key, value] of Object.entries(env))
    if (!isFromFile(value)) out[key] = envText(ctx, key, value);
  return out;
}

// Files are read in order, later ones winning, as Compose reads env_file lists.
function envFiles(ctx: Ctx, files: RawService['envFile']): Record<string, string> {
  if (files === undefined) return {};
  const list = typeof files === 'string' ? [files] : files;
  const out: Record<string, string> = {};
  list.forEach((file, index) => {
    const vars = readEnvFile(file, ctx.specDir);
    if (typeof vars === 'string') {
      const at = typeof files === 'string' ? path(ctx, 'envFile') : path(ctx, 'envFile', index);
      ctx.found.push(ctx.issues.at(at, vars));
    } else Object.assign(out, vars);
  });
  return out;
}

// A big env mapping is not copied again when there is no envFile to merge it with.
function withEnvFiles(fromFiles: Record<string, string>, env: Record<string, string>) {
  return Object.keys(fromFiles).length === 0 ? env : { ...fromFiles, ...env };
}

// Numbers and booleans keep the text the user wrote: "1.10" must not become "1.1", nor "0x1F" "31".
function envText(ctx: Ctx, key: string, value: string | number | boolean): string {
  if (typeof value === 'string') return value;
  const node = ctx.issues.locate.node(path(ctx, 'env', key));
  return isScalar(node) && typeof node.source === 'string' ? node.source : String(value);
}

function normalizeCommand(command: RawService['command']): string[] | null {
  if (command === undefined) return null;
  return typeof command === 'string' ? command.trim().split(/\s+/) : command;
}

function normalizeVolumes(ctx: Ctx, volumes: string[]): VolumeSpec[] {
  const targets = new Set<string>();
  return volumes.map((text, index) => {
    const parsed = parseVolume(text);
    if (typeof parsed === 'string')
      throw new Error(`schema let an invalid volume through: ${parsed}`);
    if (targets.has(parsed.target)) {
      // Docker refuses a container with two mounts on one target; say so before a rollout starts.
      ctx.found.push(
        ctx.issues.at(path(ctx, 'volumes', index), `target "${parsed.target}" is mounted twice`),
      );
    }
    targets.add(parsed.target);
    return { ...parsed, source: resolveVolumeSource(parsed.source, ctx.specDir) };
  });
}

function normalizeDrain(ctx: Ctx, drain: RawService['drain']): DrainSpec {
  const longConnections = {
    policy: drain.longConnections.policy,
    timeoutMs: ms(drain.longConnections.timeout),
  };
  const n = drain.notify;
  if (n === undefined) return { timeoutMs: ms(drain.timeout), longConnections, notify: null };
  if ((n.http === undefined) === (n.signal === undefined)) {
    ctx.found.push(
      ctx.issues.at(
        path(ctx, 'drain', 'notify'),
        'a drain notice is either http or signal, exactly one',
        'key',
      ),
    );
  }
  const graceMs = ms(n.grace);
  const notify: DrainNotice =
    n.http !== undefined
      ? { type: 'http', path: n.http, graceMs }
      : { type: 'signal', signal: n.signal ?? 'SIGTERM', graceMs };
  return { timeoutMs: ms(drain.timeout), longConnections, notify };
}

function normalizeRouting(ctx: Ctx, raw: RawService): RoutingSpec {
  const { routing } = raw;
  if (
    routing.sticky &&
    (routing.sticky.cookie === undefined) === (routing.sticky.header === undefined)
  ) {
    ctx.found.push(
      ctx.issues.at(
        path(ctx, 'routing', 'sticky'),
        'sticky takes exactly one of cookie or header',
        'key',
      ),
    );
  }
  const override = routing.override;
  if (override && override.cookie === undefined && override.header === undefined) {
    ctx.found.push(
      ctx.issues.at(path(ctx, 'routing', 'override'), 'override needs a header or a cookie', 'key'),
    );
  }
  if (
    raw.mode === 'tcp' &&
    (routing.hosts.length > 0 || routing.path !== undefined || routing.sticky || override)
  ) {
    ctx.found.push(
      ctx.issues.at(
        path(ctx, 'routing'),
        'host, path, sticky and override routing need mode: http',
        'key',
      ),
    );
  }
  return {
    hosts: routing.hosts,
    pathPrefix: routing.path ?? null,
    sticky: routing.sticky ?? null,
    override: override ?? null,
  };
}

function normalizeHealth(
  ctx: Ctx,
  health: RawService['health'],
  mode: RawService['mode'],
): HealthSpec {
  if (mode === 'tcp' && health.http !== undefined) {
    ctx.found.push(
      ctx.issues.at(
        path(ctx, 'health', 'http'),
        'a tcp service is probed with tcp, not http',
        'key',
      ),
    );
  }
  const kinds = checkKinds(health);
  if (kinds.length > 1) {
    ctx.found.push(
      ctx.issues.at(
        path(ctx, 'health', kinds[1]!),
        `a health check is one of http, tcp, exec or docker, not both ${kinds[0]} and ${kinds[1]}`,
        'key',
      ),
    );
  }
  const startup = startupPhase(health);
  return {
    ...(startup ? { startup } : {}),
    check: healthCheck(health),
    intervalMs: ms(health.interval),
    timeoutMs: ms(health.timeout),
    healthyThreshold: health.healthyThreshold,
    unhealthyThreshold: health.unhealthyThreshold,
    deadlineMs: ms(health.deadline),
  };
}

/** Strategy keys and the strategy types they belong to: a key set for another type is an error. */
const STRATEGY_KEYS: Record<string, ReadonlyArray<StrategySpec['type']>> = {
  maxSurge: ['rolling'],
  maxUnavailable: ['rolling'],
  analysis: ['rolling'],
  steps: ['canary'],
  canaryReplicas: ['canary'],
  previewListen: ['blue-green'],
  autoPromotion: ['blue-green'],
  prePromotionAnalysis: ['blue-green'],
  scaleDownDelay: ['blue-green'],
  checkpoint: ['recreate'],
};

const DEFAULT_SCALE_DOWN_DELAY = '30s';

function normalizeStrategy(ctx: Ctx, raw: RawService): StrategySpec {
  const strategy = raw.strategy;
  for (const [key, types] of Object.entries(STRATEGY_KEYS)) {
    if (strategy[key as keyof typeof strategy] === undefined || types.includes(strategy.type))
      continue;
    const message = `${key} applies only to the ${types.join('/')} strategy, not ${strategy.type}`;
    ctx.found.push(ctx.issues.at(path(ctx, 'strategy', key), message, 'key'));
  }
  const run = (r: { interval?: string | number; count: number } | undefined): AnalysisRun | null =>
    r === undefined
      ? null
      : {
          intervalMs: r.interval === undefined ? ms(raw.analysis.interval) : ms(r.interval),
          count: r.count,
        };
  switch (strategy.type) {
    case 'recreate':
      return strategy.checkpoint ? { type: 'recreate', checkpoint: true } : { type: 'recreate' };
    case 'canary':
      if (strategy.steps === undefined) {
        ctx.found.push(
          ctx.issues.at(path(ctx, 'strategy'), 'a canary strategy needs steps', 'key', {
            expected: 'steps: [{ setWeight: 10 }, …]',
          }),
        );
      }
      return {
        type: 'canary',
        steps: (strategy.steps ?? []).map((step): CanaryStepSpec => {
          if ('setWeight' in step) return { setWeight: step.setWeight };
          if ('pause' in step) {
            const p = step.pause;
            const d = typeof p === 'object' ? p.duration : p;
            return { pause: { durationMs: d === undefined ? null : ms(d) } };
          }
          return { analysis: run(step.analysis)! };
        }),
        canaryReplicas: strategy.canaryReplicas ?? 'follow',
      };
    case 'blue-green':
      return {
        type: 'blue-green',
        previewListen: strategy.previewListen ?? null,
        autoPromotionMs: strategy.autoPromotion === undefined ? null : ms(strategy.autoPromotion),
        prePromotionAnalysis: run(strategy.prePromotionAnalysis),
        scaleDownDelayMs: ms(strategy.scaleDownDelay ?? DEFAULT_SCALE_DOWN_DELAY),
      };
    case 'rolling':
      return { ...rollingBudget(ctx, strategy, raw.replicas), analysis: run(strategy.analysis) };
  }
}

/** strategy.postPromotion, for every strategy type; absent when not asked for. */
function withPostPromotion(ctx: Ctx, strategy: StrategySpec, raw: RawService): StrategySpec {
  const p = raw.strategy.postPromotion;
  if (p === undefined) return strategy;
  const windowMs = ms(p.window);
  const intervalMs = ms(p.analysis.interval ?? raw.analysis.interval);
  if (intervalMs > windowMs) {
    const own = p.analysis.interval !== undefined;
    const at = own
      ? path(ctx, 'strategy', 'postPromotion', 'analysis', 'interval')
      : path(ctx, 'strategy', 'postPromotion', 'window');
    const message = `the watch's judgement interval (${intervalMs} ms${own ? '' : ', from analysis.interval'}) is longer than its window (${windowMs} ms): it would never judge`;
    ctx.found.push(ctx.issues.at(at, message));
  }
  return { ...strategy, postPromotion: { windowMs, intervalMs } };
}

function rollingBudget(
  ctx: Ctx,
  strategy: RawService['strategy'],
  replicas: number,
): { type: 'rolling'; maxSurge: number; maxUnavailable: number } {
  const maxSurge = resolveQuantity(strategy.maxSurge ?? DEFAULT_MAX_SURGE, replicas, 'up');
  const maxUnavailable = resolveQuantity(
    strategy.maxUnavailable ?? DEFAULT_MAX_UNAVAILABLE,
    replicas,
    'down',
  );
  if (replicas > 0 && maxSurge === 0 && maxUnavailable === 0) {
    // Neither an extra instance may start nor an old one stop: the update could never move.
    const at = strategy.maxSurge !== undefined ? 'maxSurge' : 'maxUnavailable';
    const message = `maxSurge and maxUnavailable both resolve to 0 with replicas: ${replicas}, so a rolling update could never progress`;
    ctx.found.push(
      ctx.issues.at(path(ctx, 'strategy', at), message, 'value', {
        expected: 'at least one of them above 0',
      }),
    );
  }
  return { type: 'rolling', maxSurge, maxUnavailable };
}

function normalizeAnalysis(ctx: Ctx, raw: RawService['analysis']): AnalysisSpec {
  raw.prometheus?.checks.forEach((check, index) => {
    const at = path(ctx, 'analysis', 'prometheus', 'checks', index);
    if (check.max === undefined && check.min === undefined) {
      const message = `check "${check.name}" has neither max nor min, so it could never fail`;
      ctx.found.push(ctx.issues.at(at, message, 'value', { expected: 'max, min or both' }));
    } else if (check.max !== undefined && check.min !== undefined && check.min > check.max) {
      const message = `check "${check.name}" has min ${check.min} above max ${check.max}, so it could never pass`;
      ctx.found.push(ctx.issues.at([...at, 'min'], message));
    }
  });
  const fraction = (v: number | string): number =>
    typeof v === 'string' ? Number(v.slice(0, -1)) / 100 : v;
  return {
    intervalMs: ms(raw.interval),
    failureLimit: raw.failureLimit,
    minRequests: raw.minRequests,
    errorRate: raw.errorRate && {
      maxAbsolute: fraction(raw.errorRate.max),
      alpha: raw.errorRate.alpha,
    },
    latency: raw.latency && {
      maxP99Ratio: raw.latency.maxP99Ratio,
      maxP50Ratio: raw.latency.maxP50Ratio,
      alpha: raw.latency.alpha,
      minDeltaMs: ms(raw.latency.minDelta),
    },
    prometheus: raw.prometheus ?? null,
  };
}

/** A proxy listener a spec asks for: a service's listen, or a blue-green preview listener. */
interface Listener {
  service: ServiceSpec;
  field: 'listen' | 'previewListen';
  text: string;
  address: ListenAddress;
}

/** One issue per listener that clashes with an earlier one (listen or previewListen), at the later. */
function listenClashes(services: ServiceSpec[], issues: IssueFactory): SpecIssue[] {
  const seen: Listener[] = [];
  const found: SpecIssue[] = [];
  for (const listener of services.flatMap(listenersOf)) {
    const clash = seen.find(
      (other) =>
        listenersClash(other.address, listener.address) &&
        !(
          other.field === 'listen' &&
          listener.field === 'listen' &&
          canShareListener(other.service, listener.service)
        ),
    );
    if (clash) {
      const label = (l: Listener) => (l.field === 'listen' ? '' : 'previewListen ');
      const whose =
        clash.service === listener.service
          ? `the service's own ${clash.field} ${clash.text}`
          : `${label(clash)}${clash.text} of service "${clash.service.name}"`;
      const message = `${listener.field === 'listen' ? 'listen address' : 'previewListen'} ${listener.text} clashes with ${whose}`;
      const at =
        listener.field === 'listen'
          ? ['services', listener.service.name, 'listen']
          : ['services', listener.service.name, 'strategy', 'previewListen'];
      found.push(issues.at(at, message, 'value', { found: listener.text }));
    }
    seen.push(listener);
  }
  return found;
}

function listenersOf(service: ServiceSpec): Listener[] {
  const out: Listener[] = [];
  const add = (field: Listener['field'], text: string | null) => {
    const address = text === null ? 'none' : parseListen(text);
    if (text !== null && typeof address !== 'string') out.push({ service, field, text, address });
  };
  add('listen', service.listen);
  add(
    'previewListen',
    service.strategy.type === 'blue-green' ? service.strategy.previewListen : null,
  );
  return out;
}

/** HTTP services may share a listener when host or path rules tell them apart. */
function canShareListener(a: ServiceSpec, b: ServiceSpec): boolean {
  if (a.mode !== 'http' || b.mode !== 'http') return false;
  const key = (s: ServiceSpec): string =>
    `${[...s.routing.hosts].sort().join(',')}|${s.routing.pathPrefix ?? ''}`;
  return key(a) !== key(b);
}
