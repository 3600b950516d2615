import type { Command } from 'commander';
import type { DeployResult } from '../controller/index.js';
import { HotswapError } from '../errors.js';
import { globals, withApi } from './context.js';
import { print, table, withProgress } from './output.js';
import { showPlan } from './diff.js';
import { readSpecFile, SPEC_FILE_HELP } from './spec-file.js';
import { addTimeoutOption, withTimeout } from './timeout.js';

interface UpOptions {
  file?: string;
  dryRun?: boolean;
  timeout?: number;
}

export function register(program: Command): void {
  const up = program
    .command('up')
    .description(
      'create or update services from the spec file; rolls out changes with zero downtime',
    )
    .argument('[service]', 'only this service')
    .option('-f, --file <path>', SPEC_FILE_HELP)
    .option(
      '--dry-run',
      'show what would change (new revision or not, fields, strategy); change nothing',
    );
  addTimeoutOption(up).action(
    async (service: string | undefined, opts: UpOptions, cmd: Command) => {
      const g = globals(cmd);
      const { spec } = readSpecFile(opts.file);
      if (opts.dryRun) return showPlan(cmd, spec, service);
      const results = await withTimeout(opts.timeout, 'up', () =>
        withApi(cmd, (api) =>
          withProgress('Rolling out', g, (onLine) =>
            api.stream<DeployResult[]>('/v1/apply', { spec, service }, onLine),
          ),
        ),
      );
      if (!g.json) printResults(results);
      const failed = results.filter((r) => r.outcome === 'failed');
      if (failed.length > 0) {
        throw new HotswapError(
          'ROLLOUT_FAILED',
          failed.map((r) => `${r.service}: ${r.reason}`).join('\n'),
          {
            details: { results },
          },
        );
      }
    },
  );
}

export function printResults(results: DeployResult[]): void {
  print(
    table(
      ['SERVICE', 'REVISION', 'OUTCOME', 'ROLLOUT', 'TIME', 'CUT CONNECTIONS'],
      results.map((r) => [
        r.service,
        `r${r.revision}`,
        r.outcome,
        r.rolloutId === null ? '-' : `#${r.rolloutId}`,
        `${(r.durationMs / 1000).toFixed(1)}s${r.flipMs === undefined ? '' : ` (traffic flipped in ${r.flipMs} ms)`}`,
        String(r.cutConnections ?? 0),
      ]),
    ),
  );
}
