import type { Command } from 'commander';
import type { RevisionRecord, RolloutRecord } from '../store/index.js';
import { globals, READ_ONLY, withApi } from './context.js';
import { print, printJson, table } from './output.js';

export function register(program: Command): void {
  program
    .command('history')
    .description(
      'list the revisions of a service with image digests, and its rollouts with outcomes',
    )
    .argument('<service>', 'service name')
    .action(async (service: string, _opts: unknown, cmd: Command) => {
      const h = await withApi(
        cmd,
        (api) =>
          api.json<{
            revisions: RevisionRecord[];
            rollouts: RolloutRecord[];
            refusals?: Array<{ at: string; image: string; reason: string }>;
          }>('GET', `/v1/services/${encodeURIComponent(service)}/history`),
        READ_ONLY,
      );
      if (globals(cmd).json) return printJson(h);
      print(
        table(
          ['REVISION', 'STATUS', 'IMAGE', 'DIGEST', 'CONFIG', 'CREATED'],
          h.revisions.map((r) => [
            `r${r.number}`,
            r.status,
            r.image,
            r.repoDigest ?? r.imageId,
            r.configHash,
            r.createdAt,
          ]),
        ),
      );
      print('');
      print(
        table(
          ['ROLLOUT', 'KIND', 'FROM', 'TO', 'STRATEGY', 'OUTCOME', 'STARTED', 'REASON'],
          h.rollouts.map((r) => [
            `#${r.id}`,
            r.kind,
            r.fromRevision === null ? '-' : `r${r.fromRevision}`,
            `r${r.toRevision}`,
            r.strategy,
            r.status,
            r.startedAt,
            r.reason ?? '',
          ]),
        ),
      );
      if (h.refusals?.length) {
        print('');
        print(
          table(
            ['REFUSED', 'IMAGE', 'REASON'],
            h.refusals.map((r) => [r.at, r.image, r.reason]),
          ),
        );
      }
    });
}
