import type { Command } from 'commander';
import type { ServiceStatus } from '../controller/index.js';
import { HotswapError } from '../errors.js';
import { globals, READ_ONLY, withApi } from './context.js';
import { print, printJson, table } from './output.js';

export function register(program: Command): void {
  program
    .command('status')
    .description(
      'show services, their revisions, weights and instances; with a service, its details',
    )
    .argument('[service]', 'only this service, in detail')
    .action(async (name: string | undefined, _opts: unknown, cmd: Command) => {
      const { services: all, storeWarning } = await withApi(
        cmd,
        (api) =>
          api.json<{ services: ServiceStatus[]; storeWarning?: string | null }>(
            'GET',
            '/v1/services',
          ),
        READ_ONLY,
      );
      const services = name === undefined ? all : all.filter((s) => s.name === name);
      if (name !== undefined && services.length === 0)
        throw new HotswapError(
          'NOT_FOUND',
          `no service "${name}" (known: ${all.map((s) => s.name).join(', ') || 'none'})`,
        );
      if (globals(cmd).json)
        return printJson(
          name === undefined ? { services, storeWarning } : { service: services[0], storeWarning },
        );
      if (storeWarning) print(`WARNING: ${storeWarning}`);
      if (services.length === 0) return print('no services');
      for (const s of services) printService(s, name !== undefined);
    });
}

function printService(s: ServiceStatus, detailed: boolean): void {
  const weights =
    Object.entries(s.weights)
      .map(([r, w]) => `r${r}=${w}`)
      .join(' ') || '-';
  print(
    `${s.name}  listen ${s.listen}  stable r${s.stableRevision ?? '-'}  replicas ${s.replicas}  weights ${weights}${s.busy ? `  (${s.busy} in progress)` : ''}${s.degraded ? `  DEGRADED: ${s.degraded}` : ''}`,
  );
  if (detailed) print(`  image ${s.image}`);
  // Older daemons send no networks.
  if (detailed && s.networks?.length)
    print(
      `  networks ${s.networks.map((n) => `${n.name}${n.internal ? ' (internal)' : ''} at ${n.gateway}`).join(', ')}`,
    );
  const headers = ['  INSTANCE', 'REVISION', 'STATE', 'ADDRESS', 'SERVING'];
  if (detailed) headers.push('HEALTH', 'CREATED');
  print(
    table(
      headers,
      s.instances.map((i) => {
        const row = [
          `  ${i.name}`,
          `r${i.revision}`,
          i.state,
          i.address ?? '-',
          i.serving ? 'yes' : i.warmUntil ? `warm until ${i.warmUntil.slice(11, 19)}` : 'no',
        ];
        if (detailed) row.push(i.health ?? '-', i.createdAt.slice(0, 19).replace('T', ' '));
        return row;
      }),
    ),
  );
  if (s.lastRollout) {
    const r = s.lastRollout;
    const when = detailed
      ? ` at ${r.startedAt.slice(0, 19).replace('T', ' ')} (${r.strategy})`
      : '';
    print(
      `  last rollout #${r.id}: r${r.fromRevision ?? '-'} → r${r.toRevision} ${r.status}${when}${r.reason ? ` (${r.reason})` : ''}`,
    );
  }
}
