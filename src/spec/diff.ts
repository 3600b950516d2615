// What changed between two versions of a service, as lines a person reads before an update.
import { formatDuration } from './duration.js';
import { networksOf } from './networks.js';
import type { HealthSpec, SecretEnvSpec, ServiceSpec, StrategySpec, VolumeSpec } from './types.js';

/** Changed fields as "field: old → new"; a new service (old = null) is one line. */
export function diffServices(old: ServiceSpec | null, next: ServiceSpec): string[] {
  if (old === null) return [`new service ${next.name}`];
  const changes: string[] = [];
  const field = (name: string, a: string, b: string) => {
    if (a !== b) changes.push(`${name}: ${a} → ${b}`);
  };
  field('image', old.image, next.image);
  field('replicas', String(old.replicas), String(next.replicas));
  field('port', String(old.port), String(next.port));
  field('listen', old.listen, next.listen);
  changes.push(...diffEnv(old.env, next.env));
  changes.push(...diffSecrets(old.secretEnv ?? {}, next.secretEnv ?? {}));
  field('hardening', JSON.stringify(old.hardening ?? {}), JSON.stringify(next.hardening ?? {}));
  field('resources', JSON.stringify(old.resources ?? {}), JSON.stringify(next.resources ?? {}));
  field('autoscale', JSON.stringify(old.autoscale ?? null), JSON.stringify(next.autoscale ?? null));
  field('alerts', showAlerts(old.alerts), showAlerts(next.alerts));
  // Webhook URLs and secrets are credentials: only the count is shown.
  if (JSON.stringify(old.notify ?? []) !== JSON.stringify(next.notify ?? []))
    changes.push(
      `notify: ${old.notify?.length ?? 0} → ${next.notify?.length ?? 0} webhook(s), changed`,
    );
  field('command', showCommand(old.command), showCommand(next.command));
  field('volumes', showVolumes(old.volumes), showVolumes(next.volumes));
  field('networks', showNetworks(old), showNetworks(next));
  field('peers', (old.peers ?? []).join(', ') || 'none', (next.peers ?? []).join(', ') || 'none');
  for (const [name, show] of HEALTH_FIELDS)
    field(`health.${name}`, show(old.health), show(next.health));
  field('strategy', showStrategy(old.strategy), showStrategy(next.strategy));
  field('drain.timeout', formatDuration(old.drain.timeoutMs), formatDuration(next.drain.timeoutMs));
  field(
    'stopGracePeriod',
    formatDuration(old.stopGracePeriodMs),
    formatDuration(next.stopGracePeriodMs),
  );
  return changes;
}

function showAlerts(rules: ServiceSpec['alerts']): string {
  if (!rules?.length) return 'none';
  return rules.map((r) => `${r.name}: ${r.when} for ${formatDuration(r.forMs)}`).join('; ');
}

function showNetworks(s: ServiceSpec): string {
  return networksOf(s)
    .map((n) => (n.internal ? `${n.name} (internal)` : n.name))
    .join(', ');
}

function diffEnv(old: Record<string, string>, next: Record<string, string>): string[] {
  const keys = [...new Set([...Object.keys(old), ...Object.keys(next)])].sort();
  const changes: string[] = [];
  for (const key of keys) {
    const [a, b] = [old[key], next[key]];
    if (a === b) continue;
    // Values never leave the daemon (issue 14): a plan is readable by viewers, and the old value
    // comes from the store.
    if (a === undefined) changes.push(`env.${key}: added`);
    else if (b === undefined) changes.push(`env.${key}: removed`);
    else changes.push(`env.${key}: changed`);
  }
  return changes;
}

function diffSecrets(
  old: Record<string, SecretEnvSpec>,
  next: Record<string, SecretEnvSpec>,
): string[] {
  const keys = [...new Set([...Object.keys(old), ...Object.keys(next)])].sort();
  return keys.flatMap((key) => {
    const [a, b] = [old[key], next[key]];
    if (a?.file === b?.file && a?.sha256 === b?.sha256) return [];
    if (!a) return [`env.${key}: from file ${b!.file}`];
    if (!b) return [`env.${key}: no longer from a file`];
    return [`env.${key}: secret file ${a.file === b.file ? 'changed' : `now ${b.file}`}`];
  });
}

const HEALTH_FIELDS: Array<[string, (h: HealthSpec) => string]> = [
  ['check', (h) => showCheck(h.check)],
  ['interval', (h) => formatDuration(h.intervalMs)],
  ['timeout', (h) => formatDuration(h.timeoutMs)],
  ['healthyThreshold', (h) => String(h.healthyThreshold)],
  ['unhealthyThreshold', (h) => String(h.unhealthyThreshold)],
  ['deadline', (h) => formatDuration(h.deadlineMs)],
  ['startup', (h) => (h.startup ? JSON.stringify(h.startup) : '(none)')],
];

function showCheck(check: HealthSpec['check']): string {
  if (check.type === 'http') return `http ${check.path}`;
  if (check.type === 'exec') return `exec ${JSON.stringify(check.command)}`;
  return check.type;
}

function showCommand(command: string[] | null): string {
  return command === null ? '(image default)' : JSON.stringify(command);
}

function showVolumes(volumes: VolumeSpec[]): string {
  if (volumes.length === 0) return '(none)';
  return volumes.map((v) => `${v.source}:${v.target}${v.readOnly ? ':ro' : ''}`).join(', ');
}

function showStrategy(strategy: StrategySpec): string {
  switch (strategy.type) {
    case 'recreate':
      return 'recreate';
    case 'rolling':
      return `rolling (maxSurge ${strategy.maxSurge}, maxUnavailable ${strategy.maxUnavailable})`;
    case 'canary':
      return `canary (${strategy.steps.length} steps)`;
    case 'blue-green':
      return `blue-green (${strategy.autoPromotionMs === null ? 'manual' : 'auto'} promotion)`;
  }
}
