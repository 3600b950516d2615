// Wiring: store, runtime, proxy, controller and API in one process, with a graceful stop.
import { chmodSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import type { Server } from 'node:http';
import { connect } from 'node:net';
import { createAdaptorServer } from '@hono/node-server';
import { createApi } from '../api/index.js';
import { Controller, type RuntimeEvent } from '../controller/index.js';
import { HotswapError } from '../errors.js';
import { DockerRuntime, LABEL_SERVICE } from '../runtime/index.js';
import { Store } from '../store/index.js';
import { makeLog } from './log.js';
import { homePaths } from './paths.js';
import { ProxySupervisor } from './proxy-supervisor.js';
import { VERSION } from '../version.js';

export async function runDaemon(opts: { home?: string }): Promise<void> {
  const paths = homePaths(opts.home);
  const log = makeLog('daemon');
  mkdirSync(paths.home, { recursive: true, mode: 0o700 });
  if (await answers(paths.apiSocket)) {
    throw new HotswapError(
      'CONFLICT',
      `another hotswap daemon already answers on ${paths.apiSocket}`,
    );
  }
  const store = Store.open(paths.dbFile);
  const runtime = new DockerRuntime({ scope: paths.scope });
  const supervisor = new ProxySupervisor(paths, log);
  await supervisor.start();
  const controller = new Controller(runtime, supervisor.client, store, {
    events: (signal) => containerEvents(runtime, signal),
    log,
  });
  // A proxy that came back (possibly without its routes.json) gets the route table at once.
  supervisor.onRestarted = () => void controller.reconcileNow('the proxy was restarted');
  controller.start();

  const shutdown = ({ proxy }: { proxy: boolean }): void => {
    log(`shutting down${proxy ? ' with the proxy' : ''}`);
    controller.close();
    server.close();
    server.closeAllConnections?.();
    void supervisor.stop({ shutdownProxy: proxy }).finally(() => {
      store.close();
      rmSync(paths.daemonPid, { force: true });
      process.exit(0);
    });
  };
  const app = createApi({ controller, proxy: supervisor, store, version: VERSION, shutdown });
  const server = createAdaptorServer({ fetch: app.fetch }) as Server;
  await listenOnSocket(server, paths.apiSocket);
  writeFileSync(paths.daemonPid, String(process.pid));
  // A stray rejection must not take the daemon (and with it the proxy's supervisor) down.
  process.on('unhandledRejection', (err) => log(`unhandled rejection: ${String(err)}`));
  process.on('SIGTERM', () => shutdown({ proxy: false }));
  process.on('SIGINT', () => shutdown({ proxy: false }));
  log(`listening on ${paths.apiSocket} (pid ${process.pid}, scope ${paths.scope})`);
}

async function listenOnSocket(server: Server, socket: string): Promise<void> {
  rmSync(socket, { force: true }); // a stale file from a crashed daemon: runDaemon checked none answers
  await new Promise<void>((resolve, reject) => {
    server.once('error', (err) =>
      reject(new HotswapError('INTERNAL', `cannot listen on ${socket}: ${err.message}`)),
    );
    server.listen(socket, resolve);
  });
  chmodSync(socket, 0o600);
}

/** True when something accepts connections on the unix socket (a live daemon). */
function answers(socket: string): Promise<boolean> {
  return new Promise((resolve) => {
    const c = connect(socket);
    c.once('connect', () => {
      c.destroy();
      resolve(true);
    });
    c.once('error', () => resolve(false));
  });
}

/** Container events of this home, reduced to what the reconcile loop needs. */
async function* containerEvents(
  runtime: DockerRuntime,
  signal: AbortSignal,
): AsyncGenerator<RuntimeEvent> {
  for await (const e of runtime.events({ signal }))
    yield { service: e.Actor.Attributes[LABEL_SERVICE] ?? null, action: e.Action, id: e.Actor.ID };
}
