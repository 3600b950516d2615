import { InvalidArgumentError, type Command } from 'commander';
import {
  DEFAULT_APPLY_PARALLEL,
  MAX_APPLY_PARALLEL,
  type DeployResult,
} from '../controller/index.js';
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
  parallel?: number;
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
    )
    .option(
      '--parallel <n>',
      `services rolled out at once (1-${MAX_APPLY_PARALLEL}; default ${DEFAULT_APPLY_PARALLEL})`,
      parallelCount,
    );
  addTimeoutOption(up).action(
    async (service: string | undefined, opts: UpOptions, cmd: Command) => {
      const g = globals(cmd);
      const { spec } = readSpecFile(opts.file);
      if (opts.dryRun) return showPlan(cmd, spec, service);
      const results = await withTimeout(opts.timeout, 'up', () =>
        withApi(cmd, (api) =>
          withProgress('Rolling out', g, (onLine) =>
            api.stream<DeployResult[]>(
              '/v1/apply',
              { spec, service, parallel: opts.parallel },
              onLine,
            ),
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

function parallelCount(value: string): number {
  const n = Number(value);
  if (!/^\d+$/.test(value) || n < 1 || n > MAX_APPLY_PARALLEL)
    throw new InvalidArgumentError(`expected a whole number from 1 to ${MAX_APPLY_PARALLEL}.`);
  return n;
}
