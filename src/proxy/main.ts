// Wiring of the proxy process (`hotswap proxy`): restore the stored routes, open their listeners,
// then take orders on the control socket. Listeners come up before the control socket, so
// traffic flows again as soon as possible after a restart, even before the controller calls.
// A successor started by POST /upgrade (env HOTSWAP_PROXY_SUCCESSOR=1, with an IPC channel)
// adopts its predecessor's accepting sockets instead of binding them (see handover.ts).
import { createLog } from '../logging/index.js';
import { CertificateStore } from './tls/certificates.js';
import type { Challenges } from './tls/redirect.js';
import { HotswapError } from '../errors.js';
import { ControlServer, claimSocketPath } from './control/control-server.js';
import { SUCCESSOR_ENV, handOver, takeOver, windDown } from './handover/handover.js';
import { HttpProxy } from './http/node/http-proxy.js';
import { Listeners } from './listeners.js';
import { Registry } from './core/registry.js';
import { RouteStore } from './core/route-store.js';
import { DEFAULT_TUNING } from './core/service.js';
import { TcpProxy } from './tcp/tcp-proxy.js';
import { UpgradeProxy } from './http/node/tunnel.js';

export interface ProxyOptions {
  /** Path of the control unix socket. */
  controlSocket: string;
  /** Also take control calls on TCP, with a bearer token (a proxy task on a Swarm, issue 17). */
  controlTcp?: { host: string; port: number; token: string };
  /** Path of the persisted route table (JSON). */
  stateFile: string;
  /** One log line (no trailing newline); default: the proxy's logger (src/logging). */
  log?: (line: string) => void;
  /** The proxy's log file in the home (JSON lines, size-capped); absent: stderr only. */
  logFile?: string;
  /** How long closing listeners wait for in-flight requests before cutting them. Default 30 s. */
  closeGraceMs?: number;
  /** Upstream silence: 504 before the response head (header timeout), cut after. Default 60 s. */
  upstreamTimeoutMs?: number;
  /** Connecting to a backend. Default 3 s. */
  connectTimeoutMs?: number;
  /** A client connection idle this long in the middle of a request is closed. Default 120 s. */
  clientIdleTimeoutMs?: number;
  /** A request head still incomplete this long after its first byte: connection closed. 30 s. */
  headersTimeoutMs?: number;
  /**
   * Plain HTTP/1.1 exchanges on the fast path (raw sockets, fast-http.ts), the rest through
   * Node's http server. false: everything through Node's http server (the benchmark compares
   * the two). Default true.
   */
  fastPath?: boolean;
  /**
   * TLS connections on their TCP and TLS handles (tls/tls-client.ts) where this Node allows it.
   * false: through tls.TLSSocket (tests run both). Default true.
   */
  directTls?: boolean;
  /** A TLS client that has not finished its handshake by then is dropped. Default 10 s. */
  tlsHandshakeTimeoutMs?: number;
  /** Consecutive connect failures that eject a backend for ejectMs. Defaults 3 and 10 s. */
  ejectAfterFailures?: number;
  ejectMs?: number;
  /** Close gracefully on SIGTERM/SIGINT. Default true. */
  handleSignals?: boolean;
  /**
   * Start as the successor of a running proxy: adopt its sockets over the IPC channel.
   * Default: env HOTSWAP_PROXY_SUCCESSOR=1 and an IPC channel.
   */
  successor?: boolean;
  /** After handing over to a successor, exit once done. Default true. */
  exitAfterHandover?: boolean;
  /**
   * POST /upgrade allowed. Default true; a proxy embedded in another program (tests) should
   * say false: its successor would be a copy of that program.
   */
  upgradable?: boolean;
}

export interface RunningProxy {
  /** Closes listeners gracefully, then the control socket; safe to call more than once. */
  close(): Promise<void>;
  /** Settles when the proxy has closed, whatever asked for it (close, signal, POST /shutdown, upgrade). */
  readonly closed: Promise<void>;
}

/** Idle keep-alive connections of a predecessor are left this long before being closed. */
const HANDOVER_SWEEP_AFTER_MS = 1000;

export async function runProxy(options: ProxyOptions): Promise<RunningProxy> {
  // Only control-plane events are logged: the request path never calls it. stderr is a log
  // file: a full disk there must not take the proxy down (an unhandled 'error').
  if (!options.log) process.stderr.on('error', () => undefined);
  const log = options.log ?? createLog({ component: 'proxy', file: options.logFile });
  const successor =
    options.successor ?? (process.env[SUCCESSOR_ENV] === '1' && process.send !== undefined);
  // A successor's own successor is told explicitly; nothing else should inherit the flag.
  delete process.env[SUCCESSOR_ENV];
  // Before touching listeners or the state file: they may belong to a proxy that still runs.
  if (!successor) await claimSocketPath(options.controlSocket);
  const graceMs = options.closeGraceMs ?? 30_000;
  const proxy = new HttpProxy({
    upstreamTimeoutMs: options.upstreamTimeoutMs,
    connectTimeoutMs: options.connectTimeoutMs,
  });
  const certificates = new CertificateStore(log);
  const challenges: Challenges = new Map();
  const listeners = new Listeners({
    certificates,
    challenges,
    http: proxy,
    upgrade: new UpgradeProxy(proxy),
    tcp: new TcpProxy(proxy.connectTimeoutMs),
    log,
    graceMs,
    clientIdleMs: options.clientIdleTimeoutMs ?? 120_000,
    fastPath: options.fastPath ?? true,
    directTls: options.directTls ?? true,
    handshakeMs: options.tlsHandshakeTimeoutMs,
    headersMs: options.headersTimeoutMs,
  });
  const store = new RouteStore(options.stateFile, log);
  const tuning = {
    ejectAfterFailures: options.ejectAfterFailures ?? DEFAULT_TUNING.ejectAfterFailures,
    ejectMs: options.ejectMs ?? DEFAULT_TUNING.ejectMs,
    // A quarter of the upstream timeout at most, so a timeout fires within 25% of its value.
    upstreamTickMs: Math.max(
      10,
      Math.min(DEFAULT_TUNING.upstreamTickMs, Math.floor(proxy.timeoutMs / 4)),
    ),
  };
  const registry = new Registry(listeners, store, log, tuning, graceMs, certificates);

  let settle: () => void = () => undefined;
  const closed = new Promise<void>((resolve) => (settle = resolve));
  let closing: Promise<void> | null = null;
  let signalled: ((signal: NodeJS.Signals) => void) | null = null;
  const dropSignals = (): void => {
    // With the handlers gone, a second SIGTERM/SIGINT during the graceful close ends the
    // process at once: the usual escape hatch when a close hangs.
    if (signalled !== null) {
      process.off('SIGTERM', signalled);
      process.off('SIGINT', signalled);
    }
  };
  const close = (): Promise<void> => {
    closing ??= (async () => {
      dropSignals();
      log('closing');
      await registry.close();
      certificates.closeAll();
      await control.close();
      log('closed');
    })().finally(settle);
    return closing;
  };

  const parts = () => ({ registry, listeners, control, log });
  const control: ControlServer = new ControlServer({
    socketPath: options.controlSocket,
    registry,
    challenges,
    onShutdown: () => void close(),
    onUpgrade: () => {
      if (options.upgradable === false) {
        return Promise.reject(
          new HotswapError('CONFLICT', 'this proxy runs embedded and cannot upgrade itself'),
        );
      }
      if (closing !== null) {
        return Promise.reject(new HotswapError('CONFLICT', 'the proxy is closing or upgrading'));
      }
      let done: () => void = () => undefined;
      closing = new Promise<void>((resolve) => (done = resolve)).finally(settle);
      return handOver(parts(), (child) => {
        dropSignals();
        const forceAfterMs = Math.max(graceMs, registry.longestKeepMs());
        void windDown(parts(), child, HANDOVER_SWEEP_AFTER_MS, forceAfterMs).then(() => {
          done();
          if (options.exitAfterHandover ?? true) {
            // Everything is closed, so the process should end by itself; this is the backstop.
            setTimeout(() => process.exit(0), 5000).unref();
          }
        });
      }).catch((err: unknown) => {
        closing = null;
        throw err;
      });
    },
  });

  if (successor) {
    await takeOver({
      load: () => registry.restore(store.load(), { adopt: true }),
      adopt: (key, server) => listeners.adopt(key, server),
      prepare: async () => {
        await listeners.bindMissing();
        await control.bindTemp();
      },
      takeControl: async (stats) => {
        registry.mergeStats(stats);
        control.publish();
        await registry.saveRestored();
      },
      orphaned: async () => {
        await listeners.bindMissing();
        await claimSocketPath(options.controlSocket);
        await control.listen();
        await registry.saveRestored();
      },
      mergeStats: (stats) => registry.mergeStats(stats),
      log,
    });
    log(`took over from the previous proxy (pid ${process.pid})`);
  } else {
    await registry.restore(store.load());
    try {
      await control.listen();
      if (options.controlTcp) {
        const { host, port, token } = options.controlTcp;
        await control.listenTcp(host, port, token);
      }
    } catch (err) {
      await registry.close();
      throw err;
    }
    await registry.saveRestored();
  }
  if (options.handleSignals ?? true) {
    signalled = (signal) => {
      log(`${signal}: closing gracefully`);
      void close();
    };
    process.on('SIGTERM', signalled);
    process.on('SIGINT', signalled);
  }
  log(
    `control socket ${options.controlSocket}, routes in ${options.stateFile} (pid ${process.pid})`,
  );
  return { close, closed };
}
