import type { Command } from 'commander';
import type { DeployResult } from '../controller/index.js';
import { HotswapError } from '../errors.js';
import { globals, withApi } from './context.js';
import { withProgress } from './output.js';
import { addTimeoutOption, withTimeout } from './timeout.js';
import { printResults } from './up.js';

export function register(program: Command): void {
  const reload = program
    .command('reload')
    .description(
      "copy a service's reload files into its running instances again and trigger the reload",
    )
    .argument('<service>', 'service name');
  addTimeoutOption(reload).action(
    async (service: string, opts: { timeout?: number }, cmd: Command) => {
      const g = globals(cmd);
      const result = await withTimeout(opts.timeout, `reload of ${service}`, () =>
        withApi(cmd, (api) =>
          withProgress(`Reloading ${service}`, g, (onLine) =>
            api.stream<DeployResult>(
              `/v1/services/${encodeURIComponent(service)}/reload`,
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
