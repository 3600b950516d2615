// Wiring of the proxy process (`hotswap proxy`): restore the stored routes, open their listeners,
// then take orders on the control socket. Listeners come up before the control socket, so
// traffic flows again as soon as possible after a restart, even before the controller calls.
import { ControlServer, claimSocketPath } from './control-server.js';
import { HttpProxy } from './http-proxy.js';
import { Listeners } from './listeners.js';
import { Registry } from './registry.js';
import { RouteStore } from './route-store.js';

export interface ProxyOptions {
  /** Path of the control unix socket. */
  controlSocket: string;
  /** Path of the persisted route table (JSON). */
  stateFile: string;
  /** One log line (no trailing newline); default: timestamped to stderr. */
  log?: (line: string) => void;
  /** How long closing listeners wait for in-flight requests before cutting them. Default 30 s. */
  closeGraceMs?: number;
  /** Upstream idle timeout: 504 before a response, cut after. Default 60 s. */
  upstreamTimeoutMs?: number;
  /** Close gracefully on SIGTERM/SIGINT. Default true. */
  handleSignals?: boolean;
}

export interface RunningProxy {
  /** Closes listeners gracefully, then the control socket; safe to call more than once. */
  close(): Promise<void>;
  /** Settles when the proxy has closed, whatever asked for it (close, signal, POST /shutdown). */
  readonly closed: Promise<void>;
}

function stderrLog(line: string): void {
  process.stderr.write(`${new Date().toISOString()} hotswap-proxy ${line}\n`);
}

export async function runProxy(options: ProxyOptions): Promise<RunningProxy> {
  const log = options.log ?? stderrLog;
  // Before touching listeners or the state file: they may belong to a proxy that still runs.
  await claimSocketPath(options.controlSocket);
  const proxy = new HttpProxy({ upstreamTimeoutMs: options.upstreamTimeoutMs });
  const listeners = new Listeners(proxy, log, options.closeGraceMs ?? 30_000);
  const store = new RouteStore(options.stateFile, log);
  const registry = new Registry(listeners, store, log);
  await registry.restore(store.load());

  let settle: () => void = () => undefined;
  const closed = new Promise<void>((resolve) => (settle = resolve));
  let closing: Promise<void> | null = null;
  let signalled: ((signal: NodeJS.Signals) => void) | null = null;
  const close = (): Promise<void> => {
    closing ??= (async () => {
      // With the handlers gone, a second SIGTERM/SIGINT during the graceful close ends the
      // process at once: the usual escape hatch when a close hangs.
      if (signalled !== null) {
        process.off('SIGTERM', signalled);
        process.off('SIGINT', signalled);
      }
      log('closing');
      await registry.close();
      await control.close();
      log('closed');
    })().finally(settle);
    return closing;
  };

  const control = new ControlServer({
    socketPath: options.controlSocket,
    registry,
    onShutdown: () => void close(),
  });
  try {
    await control.listen();
  } catch (err) {
    await registry.close();
    throw err;
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
