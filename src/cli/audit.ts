import type { Command } from 'commander';
import { HotswapError } from '../errors.js';
import type { VerifyResult } from '../security/index.js';
import { daysLikeMs } from '../security/expiry.js';
import type { AuditRecord } from '../store/index.js';
import { globals, READ_ONLY, withApi } from './context.js';
import { print, printJson, table } from './output.js';

/** `--since 2h` (ago) or an ISO time. */
function sinceParam(text: string): string {
  const ago = daysLikeMs(text);
  if (ago !== null) return new Date(Date.now() - ago).toISOString();
  if (Number.isNaN(Date.parse(text)))
    throw new HotswapError(
      'USAGE',
      `--since: expected a time like 2h, 3d or an ISO date, found "${text}"`,
    );
  return new Date(text).toISOString();
}

export function register(program: Command): void {
  const audit = program
    .command('audit')
    .description(
      'who changed what, from where, with what outcome: the hash-chained audit log (admin)',
    )
    .option('--service <name>', 'only calls that touched this service')
    .option('--since <time>', 'only entries since then: 2h, 3d or an ISO time')
    .action(async (opts: { service?: string; since?: string }, cmd: Command) => {
      const q = new URLSearchParams();
      if (opts.service) q.set('service', opts.service);
      if (opts.since) q.set('since', sinceParam(opts.since));
      const r = await withApi(
        cmd,
        (api) =>
          api.json<{ entries: AuditRecord[] }>(
            'GET',
            `/v1/audit${q.size ? `?${q.toString()}` : ''}`,
          ),
        READ_ONLY,
      );
      if (globals(cmd).json) return printJson(r);
      print(
        table(
          ['#', 'AT', 'WHO', 'VERB', 'SERVICE', 'FROM', 'OUTCOME', 'IMAGE', 'SPEC'],
          r.entries.map((e) => [
            String(e.seq),
            e.at,
            e.actor,
            e.verb,
            e.service ?? '-',
            e.source,
            e.outcome,
            e.imageDigest ?? '-',
            e.specHash?.slice(0, 19) ?? '-',
          ]),
        ),
      );
    });

  audit
    .command('verify')
    .description('walk the hash chain; name the first entry edited, deleted or reordered')
    .action(async (_opts: unknown, cmd: Command) => {
      const r = await withApi(
        cmd,
        (api) => api.json<VerifyResult>('GET', '/v1/audit/verify'),
        READ_ONLY,
      );
      if (globals(cmd).json) printJson(r);
      if (!r.ok)
        throw new HotswapError('AUDIT_BROKEN', `audit chain broken: ${r.message}`, { details: r });
      if (!globals(cmd).json)
        print(
          `audit chain intact: ${r.entries} entries` +
            (r.head ? `, head #${r.head.seq} ${r.head.hash}` : ''),
        );
    });
}
