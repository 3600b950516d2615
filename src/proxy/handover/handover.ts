// Self-upgrade: the running proxy starts its successor (same executable and arguments), hands it
// every accepting socket over IPC, and lets it take the control socket; then it stops accepting,
// finishes what it has (in-flight requests; long connections per each service's policy) and
// exits. Both processes accept on the same sockets for a moment, with the same table, so no
// connection is refused at any point.
//
//   old                                   successor (HOTSWAP_PROXY_SUCCESSOR=1)
//   hold control calls, freeze the table
//   spawn ─────────────────────────────▶  load the table, prepare listeners
//                       ◀── want-listeners
//   listener ×N (+ socket handle) ─────▶  adopt each handle (synchronously: no accept is lost)
//   listeners-sent ────────────────────▶  bind what it did not get; bind control aside
//                                ◀── ready
//   take-control (+ counters) ─────────▶  merge counters; rename its control socket into place
//                              ◀── serving
//   answer POST /upgrade; relay calls that still reach it; stop accepting; drain; exit
//   stats-final (what it counted after) ▶ merge
import { spawn, type ChildProcess } from 'node:child_process';
import type net from 'node:net';
import { HotswapError } from '../../errors.js';
import type { ControlServer } from '../control/control-server.js';
import type { Listeners } from '../listeners.js';
import type { Registry } from '../core/registry.js';
import type { ServiceStatsDump } from '../core/service.js';

export const SUCCESSOR_ENV = 'HOTSWAP_PROXY_SUCCESSOR';
/** Reason in the close frame of WebSockets cut when the old process finally exits. */
export const UPGRADE_REASON = 'hotswap: proxy upgraded';
const STEP_TIMEOUT_MS = 15_000;

export type HandoverMessage =
  | { type: 'want-listeners' }
  | { type: 'listener'; key: string }
  | { type: 'listeners-sent' }
  | { type: 'ready' }
  | { type: 'take-control'; stats: Record<string, ServiceStatsDump> }
  | { type: 'serving'; pid: number }
  | { type: 'stats-final'; stats: Record<string, ServiceStatsDump> }
  | { type: 'failed'; message: string };

export interface PredecessorParts {
  registry: Registry;
  listeners: Listeners;
  control: ControlServer;
  log: (line: string) => void;
}

/** Waits for one message type from the child, failing on exit, error or timeout. */
function expect<T extends HandoverMessage['type']>(
  child: ChildProcess,
  type: T,
  timeoutMs = STEP_TIMEOUT_MS,
): Promise<Extract<HandoverMessage, { type: T }>> {
  return new Promise((resolve, reject) => {
    const cleanup = (): void => {
      clearTimeout(timer);
      child.off('message', onMessage);
      child.off('exit', onExit);
      child.off('error', onError);
    };
    const fail = (message: string): void => {
      cleanup();
      reject(new HotswapError('INTERNAL', `proxy upgrade: ${message}`));
    };
    const onMessage = (msg: HandoverMessage): void => {
      if (msg?.type === 'failed') fail(`the successor failed: ${msg.message}`);
      else if (msg?.type === type) {
        cleanup();
        resolve(msg as Extract<HandoverMessage, { type: T }>);
      }
    };
    const onExit = (code: number | null, signal: string | null): void =>
      fail(`the successor exited (${signal ?? `code ${code}`}) before "${type}"`);
    const onError = (err: Error): void => fail(`the successor: ${err.message}`);
    const timer = setTimeout(
      () => fail(`no "${type}" from the successor within ${timeoutMs} ms`),
      timeoutMs,
    );
    child.on('message', onMessage);
    child.on('exit', onExit);
    child.on('error', onError);
  });
}

function send(child: ChildProcess, msg: HandoverMessage, handle?: net.Server): Promise<void> {
  return new Promise((resolve, reject) => {
    const cb = (err: Error | null): void => (err ? reject(err) : resolve());
    if (handle === undefined) child.send(msg, cb);
    else child.send(msg, handle, {}, cb);
  });
}

/**
 * The old side. Resolves once the successor serves, with both pids; `finish` is then called
 * with the child so the caller can wind down this process.
 */
export async function handOver(
  parts: PredecessorParts,
  finish: (child: ChildProcess) => void,
): Promise<{ oldPid: number; newPid: number }> {
  const { registry, listeners, control, log } = parts;
  const release = control.hold();
  const unfreeze = await registry.freeze();
  const started = Date.now();
  let child: ChildProcess | undefined;
  try {
    child = spawn(process.execPath, [...process.execArgv, ...process.argv.slice(1)], {
      detached: true,
      stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
      env: { ...process.env, [SUCCESSOR_ENV]: '1' },
    });
    log(`upgrade: started successor pid ${child.pid}`);
    await expect(child, 'want-listeners');
    for (const { listen, server } of listeners.acceptors()) {
      await send(child, { type: 'listener', key: listen }, server);
    }
    await send(child, { type: 'listeners-sent' });
    await expect(child, 'ready');
    const serving = expect(child, 'serving');
    await send(child, { type: 'take-control', stats: registry.takeStats() });
    await serving;
  } catch (err) {
    child?.kill('SIGKILL');
    release(false);
    unfreeze();
    log(`upgrade failed: ${(err as Error).message}`);
    throw err instanceof HotswapError
      ? err
      : new HotswapError('INTERNAL', `proxy upgrade: ${(err as Error).message}`, { cause: err });
  }
  registry.detach();
  release(true);
  unfreeze();
  const newPid = child.pid ?? 0;
  log(`upgrade: pid ${newPid} serves after ${Date.now() - started} ms; this process winds down`);
  finish(child);
  return { oldPid: process.pid, newPid };
}

/** The old side after the handover: stop accepting, finish, report the last counts, let go. */
export async function windDown(
  parts: PredecessorParts,
  child: ChildProcess,
  sweepAfterMs: number,
  forceAfterMs: number,
): Promise<void> {
  const { registry, listeners, control, log } = parts;
  // Calls that reached the old socket just before the rename are relayed; then it closes. A
  // drain call still running here (its instance lives in this process) gets its answer.
  const controlClosed = new Promise<void>((resolve) => {
    setTimeout(() => void control.close(forceAfterMs + 2000).then(resolve), 100).unref();
  });
  await Promise.all([
    listeners.handOver(sweepAfterMs, forceAfterMs + 2000),
    registry.settleLong(UPGRADE_REASON),
    controlClosed,
  ]);
  registry.destroyAll(UPGRADE_REASON);
  try {
    if (child.connected) {
      await send(child, { type: 'stats-final', stats: registry.takeStats() });
      child.disconnect();
    }
  } catch (err) {
    log(`upgrade: could not pass the last counters on (${(err as Error).message})`);
  }
  child.unref();
  log('upgrade: done');
}

export interface SuccessorHooks {
  /** Prepares listeners from the state file; called before asking for sockets. */
  load(): Promise<void>;
  adopt(key: string, server: net.Server): boolean;
  /** Binds what was not handed over and the control socket aside. */
  prepare(): Promise<void>;
  /** Takes the control socket path and persists the table. */
  takeControl(stats: Record<string, ServiceStatsDump>): Promise<void>;
  /** The predecessor vanished before handing over control: claim it the ordinary way. */
  orphaned(): Promise<void>;
  mergeStats(stats: Record<string, ServiceStatsDump>): void;
  log(line: string): void;
}

/** The successor side; resolves once it serves (control socket in place). */
export async function takeOver(hooks: SuccessorHooks): Promise<void> {
  const parent = process;
  if (parent.send === undefined)
    throw new HotswapError('INTERNAL', 'no IPC channel to a predecessor');
  await hooks.load();
  return new Promise<void>((resolve, reject) => {
    let serving = false;
    const reply = (msg: HandoverMessage): void => {
      parent.send?.(msg);
    };
    const onMessage = (msg: HandoverMessage, handle: unknown): void => {
      switch (msg?.type) {
        case 'listener': {
          const server = handle as net.Server | undefined;
          if (server === undefined) return;
          // Attached synchronously: the handle is already accepting.
          if (!hooks.adopt(msg.key, server)) server.close();
          return;
        }
        case 'listeners-sent':
          hooks.prepare().then(
            () => reply({ type: 'ready' }),
            (err: Error) => {
              reply({ type: 'failed', message: err.message });
              reject(err);
            },
          );
          return;
        case 'take-control':
          hooks.takeControl(msg.stats).then(
            () => {
              serving = true;
              reply({ type: 'serving', pid: process.pid });
              resolve();
            },
            (err: Error) => {
              reply({ type: 'failed', message: err.message });
              reject(err);
            },
          );
          return;
        case 'stats-final':
          hooks.mergeStats(msg.stats);
          return;
        default:
          return;
      }
    };
    parent.on('message', onMessage);
    parent.once('disconnect', () => {
      parent.off('message', onMessage);
      if (serving) return;
      hooks.log('the predecessor went away before handing over control; claiming it');
      hooks.orphaned().then(resolve, reject);
    });
    reply({ type: 'want-listeners' });
  });
}
