import type { Command } from 'commander';
import { apiClient, globals, withApi } from './context.js';
import { print, withProgress } from './output.js';
import { addTimeoutOption, withTimeout } from './timeout.js';

export function register(program: Command): void {
  const down = program
    .command('down')
    .description(
      'remove a service (drain, stop, remove); with no service, remove all and stop the daemon and proxy',
    )
    .argument('[service]', 'service name');
  addTimeoutOption(down).action(
    async (service: string | undefined, opts: { timeout?: number }, cmd: Command) => {
      const g = globals(cmd);
      const client = apiClient(cmd);
      const running = await client.healthy();
      await client.close();
      if (!running && service === undefined) {
        if (!g.json) print('nothing to do: no daemon is running');
        return;
      }
      const removed = await withTimeout(opts.timeout, 'down', () =>
        withApi(cmd, (api) =>
          withProgress('Removing', g, (onLine) =>
            api.stream<string[]>('/v1/down', { service }, onLine),
          ),
        ),
      );
      if (service === undefined)
        await withApi(cmd, (api) => api.json('POST', '/v1/shutdown', { proxy: true }), false);
      if (!g.json) print(removed.length ? `removed: ${removed.join(', ')}` : 'no services');
    },
  );
}
