// Keeps the proxy process running. The proxy is detached from the daemon so that traffic keeps
// flowing when the daemon stops or crashes; a new daemon adopts the proxy that is already there.
import { spawn } from 'node:child_process';
import { openSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { setTimeout as sleep } from 'node:timers/promises';
import { HotswapError } from '../errors.js';
import { PROXY_NODE_FLAGS, ProxyClient } from '../proxy/index.js';
import type { Log } from './log.js';
import type { HomePaths } from './paths.js';

const PROXY_BIN = fileURLToPath(new URL('../proxy/bin.js', import.meta.url));
// A refused connection on a unix socket answers at once, so a short interval costs little.
const WATCH_INTERVAL_MS = 100;
const START_TIMEOUT_MS = 10_000;

export class ProxySupervisor {
  readonly client: ProxyClient;
  private timer: NodeJS.Timeout | null = null;
  private restarting = false;
  /** Called after the supervisor started a new proxy in place of one that died. */
  onRestarted: (() => void) | null = null;

  constructor(
    private readonly paths: HomePaths,
    private readonly log: Log,
  ) {
    this.client = new ProxyClient({ socketPath: paths.proxySocket });
  }

  async start(): Promise<void> {
    if (await this.alive()) this.log('adopted the running proxy');
    else await this.spawnAndWait();
    this.timer = setInterval(() => void this.check(), WATCH_INTERVAL_MS);
    this.timer.unref();
  }

  async stop(opts: { shutdownProxy: boolean }): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
    if (opts.shutdownProxy) await this.client.shutdown().catch(() => undefined);
  }

  /** Hands the listeners to a new proxy process; the watch stands aside while the control socket moves. */
  async upgrade(): Promise<{ oldPid: number; newPid: number; ms: number }> {
    if (this.restarting)
      throw new HotswapError('CONFLICT', 'the proxy is being restarted or upgraded');
    this.restarting = true;
    const t0 = Date.now();
    try {
      const r = await this.client.upgrade();
      this.log(`proxy upgraded: pid ${r.oldPid} → ${r.newPid}`);
      return { ...r, ms: Date.now() - t0 };
    } finally {
      this.restarting = false;
    }
  }

  private async alive(): Promise<boolean> {
    try {
      await this.client.health();
      return true;
    } catch {
      return false;
    }
  }

  private async check(): Promise<void> {
    if (this.restarting || (await this.alive())) return;
    this.restarting = true;
    const t0 = Date.now();
    try {
      this.log('proxy is not answering; restarting it');
      await this.spawnAndWait();
      this.log(`proxy back after ${Date.now() - t0} ms`);
      this.onRestarted?.();
    } catch (err) {
      this.log(`proxy restart failed: ${(err as Error).message}`);
    } finally {
      this.restarting = false;
    }
  }

  private async spawnAndWait(): Promise<void> {
    const out = openSync(this.paths.proxyLog, 'a');
    const child = spawn(
      process.execPath,
      [
        ...PROXY_NODE_FLAGS,
        PROXY_BIN,
        '--control',
        this.paths.proxySocket,
        '--state',
        this.paths.routesFile,
      ],
      {
        detached: true,
        stdio: ['ignore', out, out],
      },
    );
    child.unref();
    // A proxy we started tells us itself when it dies; one we adopted is found by the watch.
    child.once('exit', () => void this.check());
    const deadline = Date.now() + START_TIMEOUT_MS;
    while (Date.now() < deadline) {
      if (await this.alive()) return;
      await sleep(50);
    }
    throw new HotswapError(
      'PROXY_UNAVAILABLE',
      `the proxy did not start within ${START_TIMEOUT_MS} ms; see ${this.paths.proxyLog}`,
    );
  }
}
