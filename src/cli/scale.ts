import type { Command } from 'commander';
import type { DeployResult } from '../controller/index.js';
import { HotswapError } from '../errors.js';
import { globals, withApi } from './context.js';
import { withProgress } from './output.js';
import { addTimeoutOption, withTimeout } from './timeout.js';
import { printResults } from './up.js';

function replicasArg(value: string): number {
  const n = Number(value);
  if (!/^\d+$/.test(value) || n > 1000)
    throw new HotswapError('USAGE', `replicas must be an integer from 0 to 1000, not "${value}"`);
  return n;
}

export function register(program: Command): void {
  const scale = program
    .command('scale')
    .description(
      'set the number of instances of a service: new ones start health-gated, extra ones drain first',
    )
    .argument('<service>', 'service name')
    .argument('<replicas>', 'number of instances', replicasArg);
  addTimeoutOption(scale).action(
    async (service: string, replicas: number, opts: { timeout?: number }, cmd: Command) => {
      const g = globals(cmd);
      const result = await withTimeout(opts.timeout, `scale of ${service}`, () =>
        withApi(cmd, (api) =>
          withProgress(`Scaling ${service} to ${replicas}`, g, (onLine) =>
            api.stream<DeployResult>(
              `/v1/services/${encodeURIComponent(service)}/scale`,
              { replicas },
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
