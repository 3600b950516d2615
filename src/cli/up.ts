import type { Command } from 'commander';
import type { DeployResult } from '../controller/index.js';
import { HotswapError } from '../errors.js';
import { globals, withApi } from './context.js';
import { print, table, withProgress } from './output.js';
import { DEFAULT_SPEC_FILE, readSpecFile } from './spec-file.js';

export function register(program: Command): void {
  program
    .command('up')
    .description(
      'create or update services from the spec file; rolls out changes with zero downtime',
    )
    .argument('[service]', 'only this service')
    .option('-f, --file <path>', 'spec file', DEFAULT_SPEC_FILE)
    .action(async (service: string | undefined, opts: { file: string }, cmd: Command) => {
      const g = globals(cmd);
      const { text, absolute } = readSpecFile(opts.file);
      const results = await withApi(cmd, (api) =>
        withProgress('Rolling out', g, (onLine) =>
          api.stream<DeployResult[]>('/v1/apply', { file: absolute, text, service }, onLine),
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
    });
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
