import type { Command } from 'commander';
import type { DeployResult } from '../controller/index.js';
import { HotswapError } from '../errors.js';
import { globals, withApi } from './context.js';
import { withProgress } from './output.js';
import { addTimeoutOption, withTimeout } from './timeout.js';
import { printResults } from './up.js';

export function register(program: Command): void {
  const restart = program
    .command('restart')
    .description(
      "replace a service's instances with new ones of the same revision, through its strategy",
    )
    .argument('<service>', 'service name');
  addTimeoutOption(restart).action(
    async (service: string, opts: { timeout?: number }, cmd: Command) => {
      const g = globals(cmd);
      const result = await withTimeout(opts.timeout, `restart of ${service}`, () =>
        withApi(cmd, (api) =>
          withProgress(`Restarting ${service}`, g, (onLine) =>
            api.stream<DeployResult>(
              `/v1/services/${encodeURIComponent(service)}/restart`,
              {},
              onLine,
            ),
          ),
        ),
      );
      if (!g.json) printResults([result]);
      if (result.outcome === 'failed')
        throw new HotswapError('ROLLOUT_FAILED', `${service}: ${result.reason}`);
    },
  );
}
