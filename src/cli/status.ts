import type { Command } from 'commander';
import type { ServiceStatus } from '../controller/index.js';
import { globals, withApi } from './context.js';
import { print, printJson, table } from './output.js';

export function register(program: Command): void {
  program
    .command('status')
    .description('show services, their revisions, weights and instances')
    .action(async (_opts: unknown, cmd: Command) => {
      const { services } = await withApi(cmd, (api) =>
        api.json<{ services: ServiceStatus[] }>('GET', '/v1/services'),
      );
      if (globals(cmd).json) return printJson({ services });
      if (services.length === 0) return print('no services');
      for (const s of services) {
        const weights =
          Object.entries(s.weights)
            .map(([r, w]) => `r${r}=${w}`)
            .join(' ') || '-';
        print(
          `${s.name}  listen ${s.listen}  stable r${s.stableRevision ?? '-'}  replicas ${s.replicas}  weights ${weights}${s.busy ? `  (${s.busy} in progress)` : ''}${s.degraded ? `  DEGRADED: ${s.degraded}` : ''}`,
        );
        print(
          table(
            ['  INSTANCE', 'REVISION', 'STATE', 'ADDRESS', 'SERVING'],
            s.instances.map((i) => [
              `  ${i.name}`,
              `r${i.revision}`,
              i.state,
              i.address ?? '-',
              i.serving ? 'yes' : i.warmUntil ? `warm until ${i.warmUntil.slice(11, 19)}` : 'no',
            ]),
          ),
        );
        if (s.lastRollout) {
          const r = s.lastRollout;
          print(
            `  last rollout #${r.id}: r${r.fromRevision ?? '-'} → r${r.toRevision} ${r.status}${r.reason ? ` (${r.reason})` : ''}`,
          );
        }
      }
    });
}
