import type { Command } from 'commander';
import { apiClient, globals, paths, withApi } from './context.js';
import type { HomePaths } from '../daemon/paths.js';
import { waitForExit } from '../daemon/process-exit.js';
import { HotswapError } from '../errors.js';
import { connect } from './client.js';
import { remoteTarget, type RemoteTarget } from './remote.js';
import { print, withProgress } from './output.js';
import { addTimeoutOption, withTimeout } from './timeout.js';

/** The daemon waits up to 10 s for its proxy to finish, then kills it: this covers both. */
const DAEMON_EXIT_MS = 20_000;

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
      if (service === undefined) await shutdown(paths(cmd), remoteTarget(g.remote));
      if (!g.json) print(removed.length ? `removed: ${removed.join(', ')}` : 'no services');
    },
  );
}

/** Stops the daemon and its proxy, and waits until the daemon is gone (it waits for the proxy). */
async function shutdown(home: HomePaths, remote: RemoteTarget | null): Promise<void> {
  const api = await connect(home, { start: false, remote });
  try {
    const { pid } = await api.json<{ pid: number }>('GET', '/v1/health');
    await api.json('POST', '/v1/shutdown', { proxy: true });
    if (remote) return; // a process on another host: nothing to wait for here
    if (!(await waitForExit(pid, DAEMON_EXIT_MS)))
      throw new HotswapError(
        'TIMEOUT',
        `the daemon (pid ${pid}) did not exit within ${DAEMON_EXIT_MS} ms; see ${home.daemonLog}`,
      );
  } finally {
    await api.close();
  }
}
