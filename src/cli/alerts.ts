// `hotswap alerts` and `hotswap availability <service>` (issue 15): thin, over GET /v1/alerts and
// GET /v1/services/:name/availability.
import type { Command } from 'commander';
import { humanDuration, type Availability, type RuleView } from '../alerts/index.js';
import { HotswapError } from '../errors.js';
import { parseLongDuration } from '../spec/schema.js';
import type { AlertRecord } from '../store/index.js';
import { globals, READ_ONLY, withApi } from './context.js';
import { print, printJson, table } from './output.js';

interface DeliveryView {
  event: string;
  service: string | null;
  url: string;
  state: string;
  attempts: number;
  lastError: string | null;
  createdAt: string;
}

interface AlertsView {
  firing: AlertRecord[];
  rules: RuleView[];
  history: AlertRecord[];
  deliveries?: DeliveryView[];
}

export function register(program: Command): void {
  program
    .command('alerts')
    .description('alert rules and their state, the firing alerts, and the recent history')
    .option('--service <name>', 'only this service')
    .option('--since <span>', 'history this far back ("7d", "12h", "30m")', since, '7d')
    .action(async (opts: { service?: string; since: string }, cmd: Command) => {
      const q = new URLSearchParams({ since: opts.since });
      if (opts.service) q.set('service', opts.service);
      const view = await withApi(
        cmd,
        (api) => api.json<AlertsView>('GET', `/v1/alerts?${q.toString()}`),
        READ_ONLY,
      );
      if (globals(cmd).json) return printJson(view);
      print(renderAlerts(view));
    });

  program
    .command('availability')
    .description(
      'share of successful requests and of minutes without failures, incidents with their time to recover, MTTR',
    )
    .argument('<service>', 'service name')
    .option('--since <span>', 'this far back ("7d", "12h", "30m")', since, '7d')
    .action(async (service: string, opts: { since: string }, cmd: Command) => {
      const q = new URLSearchParams({ since: opts.since });
      const a = await withApi(
        cmd,
        (api) =>
          api.json<Availability>(
            'GET',
            `/v1/services/${encodeURIComponent(service)}/availability?${q.toString()}`,
          ),
        READ_ONLY,
      );
      if (globals(cmd).json) return printJson(a);
      print(renderAvailability(a));
    });
}

/** Checked before connecting: a bad span exits 2. */
function since(value: string): string {
  if (typeof parseLongDuration(value) === 'string')
    throw new HotswapError('USAGE', `--since ${value}: expected a span like "7d", "12h" or "30m"`);
  return value;
}

export function renderAlerts(v: AlertsView): string {
  const lines: string[] = [];
  lines.push(
    v.rules.length === 0
      ? 'no alert rules (add `alerts:` to a service)'
      : table(
          ['SERVICE', 'RULE', 'WHEN', 'STATE', 'SINCE', 'LAST VALUE'],
          v.rules.map((r) => [r.service, r.rule, r.when, r.status, r.since ?? '', r.value ?? '-']),
        ),
  );
  lines.push('', `firing: ${v.firing.length}`);
  for (const a of v.firing) lines.push(`  ${a.firedAt} ${a.service}: ${a.message}`);
  lines.push('', 'history:');
  if (v.history.length === 0) lines.push('  none');
  else
    lines.push(
      table(
        ['SERVICE', 'RULE', 'FIRED', 'RESOLVED', 'FOR', 'MESSAGE'],
        v.history.map((a) => [
          a.service,
          a.rule,
          a.firedAt,
          a.resolvedAt ?? 'firing',
          a.resolvedAt ? humanDuration(Date.parse(a.resolvedAt) - Date.parse(a.firedAt)) : '',
          a.message,
        ]),
      ),
    );
  const deliveries = v.deliveries ?? [];
  if (deliveries.length) {
    const count = (state: string): number => deliveries.filter((d) => d.state === state).length;
    lines.push(
      '',
      `notifications (latest ${deliveries.length}): ${count('delivered')} delivered, ${count('pending')} pending, ${count('failed')} failed`,
    );
    for (const d of deliveries.filter((x) => x.state !== 'delivered').slice(0, 10))
      lines.push(
        `  ${d.createdAt} ${d.event} → ${d.url}: ${d.state} after ${d.attempts} attempt(s)${d.lastError ? ` (${d.lastError})` : ''}`,
      );
  }
  return lines.join('\n');
}

const share = (x: number | null): string => (x === null ? 'no data' : `${(x * 100).toFixed(3)}%`);

export function renderAvailability(a: Availability): string {
  const lines = [
    `${a.service} from ${a.since} to ${a.until}`,
    `requests: ${share(a.requests.successShare)} successful (${a.requests.failed} failed of ${a.requests.total})`,
    `minutes:  ${share(a.minutes.cleanShare)} without a failed request (${a.minutes.withFailures} of ${a.minutes.sampled} sampled minutes had failures)`,
    `MTTR:     ${a.mttrMs === null ? 'no recovered incident' : humanDuration(a.mttrMs)} (${a.incidents.length} incident(s))`,
  ];
  if (a.incidents.length)
    lines.push(
      '',
      table(
        ['KIND', 'STARTED', 'RECOVERED', 'TIME TO RECOVER', 'WHAT'],
        a.incidents.map((i) => [
          i.kind,
          i.startedAt,
          i.recoveredAt ?? 'ongoing',
          i.ttrMs === null ? '-' : humanDuration(i.ttrMs),
          i.title,
        ]),
      ),
    );
  return lines.join('\n');
}
