import type { Command } from 'commander';
import type { DeployResult } from '../controller/index.js';
import { HotswapError } from '../errors.js';
import { globals, withApi } from './context.js';
import { withProgress } from './output.js';
import { addTimeoutOption, withTimeout } from './timeout.js';
import { printResults } from './up.js';

export function register(program: Command): void {
  const rollback = program
    .command('rollback')
    .description('roll a service back to an earlier revision (default: the one before the current)')
    .argument('<service>', 'service name')
    .option('--to <revision>', 'revision number to return to', (v) => parseRevision(v));
  addTimeoutOption(rollback).action(run);
}

/** rollback, also reached as `rollout undo`. */
export async function run(
  service: string,
  opts: { to?: number; timeout?: number },
  cmd: Command,
): Promise<void> {
  const g = globals(cmd);
  const result = await withTimeout(opts.timeout, `rollback of ${service}`, () =>
    withApi(cmd, (api) =>
      withProgress(`Rolling back ${service}`, g, (onLine) =>
        api.stream<DeployResult>(
          `/v1/services/${encodeURIComponent(service)}/rollback`,
          { to: opts.to },
          onLine,
        ),
      ),
    ),
  );
  if (!g.json) printResults([result]);
  if (result.outcome === 'failed')
    throw new HotswapError('ROLLOUT_FAILED', `${service}: ${result.reason}`);
}

export function parseRevision(value: string): number {
  const n = Number(value.replace(/^r/, ''));
  if (!Number.isInteger(n) || n < 1)
    throw new HotswapError(
      'USAGE',
      `--to: expected a revision number like 1 or r1, got "${value}"`,
    );
  return n;
}
