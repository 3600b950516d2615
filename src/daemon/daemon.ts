// Wiring: store, runtime, proxy, controller and API in one process, with a graceful stop.
import { chmodSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import type { Server } from 'node:http';
import { connect } from 'node:net';
import { join } from 'node:path';
import { createAdaptorServer } from '@hono/node-server';
import { createApi, servedOver } from '../api/index.js';
import { Controller } from '../controller/index.js';
import { HotswapError } from '../errors.js';
import type { Runtime } from '../runtime/index.js';
import { openBackend, type ProxyPlane } from './backend.js';
import { Store } from '../store/index.js';
import { AcmeManager, type ChallengeAnswerer } from '../tls/acme.js';
import { AcmeRouter } from '../tls/acme-router.js';
import { daemonLog } from './log.js';
import { logJournal } from './journal-log.js';
import { observeProbes } from '../health/index.js';
import type { ListenAddress } from '../spec/listen.js';
import { startAlerting } from './alerting.js';
import { lockHome } from './home-lock.js';
import { checkSocketPaths, homePaths } from './paths.js';
import { VERSION } from '../version.js';
import { samplingFromEnv } from '../report/index.js';
import { assertSafeHome, listenRemote, loadConfig, openSecurity } from '../security/index.js';

export interface DaemonOptions {
  home?: string;
  /**
   * Refuse to start when the Docker engine does not answer (a daemon spawned by the CLI: the
   * user sees why at once). Otherwise (systemd, foreground) it starts and catches up later.
   */
  requireEngine?: boolean;
}

export async function runDaemon(opts: DaemonOptions): Promise<void> {
  const paths = homePaths(opts.home);
  // stderr is daemon.log: a full disk there must not take the daemon down (an unhandled 'error').
  process.stderr.on('error', () => undefined);
  checkSocketPaths(paths);
  mkdirSync(paths.home, { recursive: true, mode: 0o700 });
  assertSafeHome(paths.home);
  const log = daemonLog(paths);
  const config = loadConfig(paths.home);
  lockHome(paths);
  writeFileSync(paths.daemonPid, String(process.pid)); // the lock's holder, named in a loser's error
  if (await answers(paths.apiSocket)) {
    throw new HotswapError(
      'CONFLICT',
      `another hotswap daemon already answers on ${paths.apiSocket}`,
    );
  }
  const store = Store.open(paths.dbFile, log);
  logJournal(store, log);
  const security = openSecurity(store, paths.home, config.containerPolicy);
  const backend = await openBackend(config.runtime, paths, opts.requireEngine ?? false, log);
  const { runtime, proxy: supervisor, checkpoint } = backend;
  log(`runtime: ${backend.describe}`);
  const acme = startAcme(paths.home, supervisor.client, store);
  void checkpoint.then((c) =>
    log(`docker checkpoint: ${c.supported ? 'supported' : 'not supported'} (${c.reason})`),
  );
  const controller = new Controller(runtime, new AcmeRouter(supervisor.client, acme), store, {
    ...(backend.events ? { events: backend.events } : {}),
    log,
    reports: samplingFromEnv(process.env),
    checkpoint,
  });
  const metrics = await startMetrics(config.metricsListen, store, runtime, supervisor, log);
  const alerting = startAlerting({
    store,
    router: supervisor.client,
    runtime,
    notify: config.notify,
    log,
  });
  // A proxy that came back (possibly without its routes.json) gets the route table at once.
  supervisor.onRestarted = () => void controller.reconcileNow('the proxy was restarted');
  controller.start();

  const shutdown = ({ proxy }: { proxy: boolean }): void => {
    log(`shutting down${proxy ? ' with the proxy' : ''}`);
    controller.close();
    alerting.stop();
    server.close();
    server.closeAllConnections?.();
    remote?.server.close();
    remote?.server.closeAllConnections();
    metrics?.close();
    metrics?.closeAllConnections();
    void supervisor.stop({ shutdownProxy: proxy }).finally(() => {
      store.close();
      rmSync(paths.daemonPid, { force: true });
      process.exit(0);
    });
  };
  const app = createApi({
    controller,
    proxy: supervisor,
    store,
    security,
    inspectImage: (image) => runtime.inspectImage(image),
    version: VERSION,
    shutdown,
    alerts: alerting.evaluator,
  });
  const server = createAdaptorServer({ fetch: servedOver(app, 'local') }) as Server;
  await listenOnSocket(server, paths.apiSocket);
  const remote = config.api
    ? await listenRemote(config.api, paths.home, servedOver(app, 'remote'))
    : null;
  if (remote)
    log(
      `remote API on ${remote.url} (TLS, certificate SHA-256 fingerprint ${remote.fingerprint256})`,
    );
  // A stray rejection must not take the daemon (and with it the proxy's supervisor) down.
  process.on('unhandledRejection', (err) => log.error(`unhandled rejection: ${String(err)}`));
  process.on('SIGTERM', () => shutdown({ proxy: false }));
  process.on('SIGINT', () => shutdown({ proxy: false }));
  log(`listening on ${paths.apiSocket} (pid ${process.pid}, scope ${paths.scope})`);
}

/** The Prometheus endpoint when config.yaml (or HOTSWAP_METRICS_LISTEN) asks for one. */
async function startMetrics(
  listen: ListenAddress | null,
  store: Store,
  runtime: Runtime,
  supervisor: ProxyPlane,
  log: (line: string) => void,
): Promise<Server | null> {
  if (listen === null) return null;
  // prom-client is loaded only when metrics are asked for: it is not free at start.
  const { DaemonMetrics, listenMetrics } = await import('../metrics/index.js');
  const daemon = new DaemonMetrics({ store, listInstances: () => runtime.listInstances() });
  store.journal.observe((e) => daemon.observe(e));
  observeProbes((type, ok) => daemon.probed(type, ok));
  const server = await listenMetrics(
    listen,
    { daemon, proxyText: () => supervisor.client.metricsText() },
    log,
  );
  log(`metrics on http://${listen.host}:${listen.port}/metrics`);
  return server;
}

/** How often certificates are checked for renewal (HOTSWAP_ACME_CHECK_MS for tests). */
const ACME_CHECK_MS = Number(process.env.HOTSWAP_ACME_CHECK_MS ?? 3_600_000);

/** ACME certificates in <home>/tls, renewed on a timer; issuance and failures are journaled. */
function startAcme(home: string, answerer: ChallengeAnswerer, store: Store): AcmeManager {
  const acme = new AcmeManager({
    dir: join(home, 'tls'),
    answerer,
    // Journaled, and so in the daemon's log too (journal-log.ts).
    record: (e) =>
      void store.journal.append({
        event: e.kind,
        data: { message: e.message, hosts: e.hosts, notAfter: e.notAfter },
        message: e.message,
      }),
  });
  setInterval(() => void acme.renewDue(), ACME_CHECK_MS).unref();
  return acme;
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
