// Keeps the proxy process running. The proxy is detached from the daemon so that traffic keeps
// flowing when the daemon stops or crashes; a new daemon adopts the proxy that is already there.
// A proxy that dies is replaced at once. One that is hung (alive, its control socket accepting
// but answering nothing, e.g. SIGSTOP) is killed first: it still holds the listening ports and
// the control socket, so a replacement could bind neither. Failed replacements back off instead
// of looping, and a replacement that does not come up is killed rather than left behind.
import { spawn } from 'node:child_process';
import { openSync, readFileSync, writeFileSync } from 'node:fs';
import { connect } from 'node:net';
import { fileURLToPath } from 'node:url';
import { setTimeout as sleep } from 'node:timers/promises';
import { HotswapError } from '../errors.js';
import { PROXY_NODE_FLAGS, ProxyClient } from '../proxy/index.js';
import type { Log } from './log.js';
import type { HomePaths } from './paths.js';
import { gone, waitForExit } from './process-exit.js';
import { SupervisedProxyClient } from './supervised-client.js';

const PROXY_BIN = fileURLToPath(new URL('../proxy/bin.js', import.meta.url));
// A refused connection on a unix socket answers at once, so a short interval costs little.
const WATCH_INTERVAL_MS = 100;
/** A proxy that answers nothing on its control socket this long is hung. */
export const HUNG_AFTER_MS = 3_000;
const START_TIMEOUT_MS = 10_000;
/** After SIGKILL: the kernel closes the hung proxy's sockets as the process ends. */
const KILL_WAIT_MS = 2_000;
/** `down`: a proxy asked to shut down gets this long to finish its requests, then SIGKILL. */
const STOP_WAIT_MS = 10_000;
const BACKOFF_MS = { first: 500, max: 30_000 };

type Liveness = 'ok' | 'dead' | 'hung';

export class ProxySupervisor {
  readonly client: ProxyClient;
  /** Health probes and shutdown: short deadline, so a hang is seen in HUNG_AFTER_MS. */
  private readonly probe: ProxyClient;
  private timer: NodeJS.Timeout | null = null;
  private restarting = false;
  private probing = false;
  private stopped = false;
  /** The proxy's pid as last seen (its /health answer, or the spawn). */
  private pid: number | null = null;
  private failures = 0;
  private notBefore = 0;
  /** Called after the supervisor started a new proxy in place of one that died. */
  onRestarted: (() => void) | null = null;

  constructor(
    private readonly paths: HomePaths,
    private readonly log: Log,
    /** The proxy's entry point; tests put a fault-injecting one in its place. */
    private readonly bin: string = PROXY_BIN,
  ) {
    this.client = new SupervisedProxyClient({ socketPath: paths.proxySocket }, () =>
      this.whenServing(),
    );
    this.probe = new ProxyClient({ socketPath: paths.proxySocket, timeoutMs: HUNG_AFTER_MS });
  }

  async start(): Promise<void> {
    const state = await this.liveness();
    if (state === 'ok') this.log(`adopted the running proxy (pid ${this.pid})`);
    else if (state === 'dead') await this.spawnAndWait();
    else await this.replace(state);
    this.timer = setInterval(() => void this.check(), WATCH_INTERVAL_MS);
    this.timer.unref();
  }

  /** Stops watching; with shutdownProxy, the proxy is asked to exit and killed if it does not. */
  async stop(opts: { shutdownProxy: boolean }): Promise<void> {
    this.stopped = true;
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
    if (!opts.shutdownProxy) return;
    const pid = this.pid;
    const asked = await this.probe.shutdown().then(
      () => true,
      () => false, // hung (stopped) or dead: nothing to wait for
    );
    if (pid === null || (asked && (await waitForExit(pid, STOP_WAIT_MS)))) return;
    this.log(
      `proxy pid ${pid} did not exit ${asked ? 'when asked' : '(it answers nothing)'}; killing it`,
    );
    await this.kill(pid);
  }

  /** Hands the listeners to a new proxy process; the watch stands aside while the control socket moves. */
  async upgrade(): Promise<{ oldPid: number; newPid: number; ms: number }> {
    if (this.restarting)
      throw new HotswapError('CONFLICT', 'the proxy is being restarted or upgraded');
    this.restarting = true;
    const t0 = Date.now();
    try {
      const r = await this.client.upgrade();
      this.setPid(r.newPid);
      this.log(`proxy upgraded: pid ${r.oldPid} → ${r.newPid}`);
      return { ...r, ms: Date.now() - t0 };
    } finally {
      this.restarting = false;
    }
  }

  /** Waits for a proxy that answers (a replacement in progress included); false at the deadline. */
  private async whenServing(): Promise<boolean> {
    const deadline = Date.now() + HUNG_AFTER_MS + START_TIMEOUT_MS;
    while (Date.now() < deadline && !this.stopped) {
      if (!this.restarting && (await this.liveness()) === 'ok') return true;
      await sleep(50);
    }
    return false;
  }

  /** ok, dead (nothing accepts: refused, no socket) or hung (accepts, answers nothing in time). */
  private async liveness(): Promise<Liveness> {
    const t0 = Date.now();
    try {
      this.setPid((await this.probe.health()).pid);
      return 'ok';
    } catch {
      return Date.now() - t0 >= HUNG_AFTER_MS - 50 ? 'hung' : 'dead';
    }
  }

  private async check(): Promise<void> {
    if (this.restarting || this.probing || this.stopped || Date.now() < this.notBefore) return;
    this.probing = true;
    let state: Liveness;
    try {
      state = await this.liveness();
    } finally {
      this.probing = false;
    }
    if (state === 'ok') {
      this.failures = 0;
      return;
    }
    if (this.restarting || this.stopped) return;
    this.restarting = true;
    try {
      await this.replace(state);
      this.failures = 0;
      this.onRestarted?.();
    } catch (err) {
      this.failures++;
      const delay = Math.min(BACKOFF_MS.max, BACKOFF_MS.first * 2 ** (this.failures - 1));
      this.notBefore = Date.now() + delay;
      this.log(`proxy restart failed: ${(err as Error).message}; next attempt in ${delay} ms`);
    } finally {
      this.restarting = false;
    }
  }

  /** Puts a new proxy in place of a dead or hung one (killed first). */
  private async replace(state: 'dead' | 'hung'): Promise<void> {
    const t0 = Date.now();
    if (state === 'hung' && this.pid !== null) {
      this.log(
        `proxy pid ${this.pid} answered nothing on its control socket for ${HUNG_AFTER_MS} ms; ` +
          'killing it (SIGKILL) and starting a new one',
      );
      await this.kill(this.pid);
    } else if (state === 'hung' && this.recordedPid() !== null) {
      this.pid = this.recordedPid();
      return this.replace(state);
    } else if (state === 'hung') {
      throw new HotswapError(
        'PROXY_UNAVAILABLE',
        `something holds ${this.paths.proxySocket} but answers nothing, and its pid is unknown`,
      );
    } else if (this.pid !== null) {
      this.log('proxy is not answering; restarting it');
    }
    await this.spawnAndWait();
    this.log(`proxy pid ${this.pid} serves, ${Date.now() - t0} ms after the decision`);
  }

  private setPid(pid: number): void {
    if (pid === this.pid) return;
    this.pid = pid;
    try {
      writeFileSync(this.paths.proxyPid, String(pid));
    } catch (err) {
      this.log(
        `cannot record the proxy's pid in ${this.paths.proxyPid}: ${(err as Error).message}`,
      );
    }
  }

  /**
   * The pid a previous daemon recorded, if that process is still this home's proxy (its command
   * line names our control socket), so a pid reused by another program is never killed.
   */
  private recordedPid(): number | null {
    try {
      const pid = Number(readFileSync(this.paths.proxyPid, 'utf8').trim());
      if (!Number.isInteger(pid) || pid <= 0) return null;
      const cmdline = readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0');
      return cmdline.includes(this.paths.proxySocket) ? pid : null;
    } catch {
      return null;
    }
  }

  /** SIGKILL, then wait until the process and its control socket are gone. */
  private async kill(pid: number): Promise<void> {
    try {
      process.kill(pid, 'SIGKILL');
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'ESRCH') throw err;
    }
    const deadline = Date.now() + KILL_WAIT_MS;
    // A killed child of ours can linger as a zombie for a moment; its sockets are closed then.
    while (!gone(pid) && (await accepts(this.paths.proxySocket))) {
      if (Date.now() > deadline)
        throw new HotswapError('PROXY_UNAVAILABLE', `proxy pid ${pid} survived SIGKILL`);
      await sleep(10);
    }
    if (this.pid === pid) this.pid = null;
  }

  private async spawnAndWait(): Promise<void> {
    const out = openSync(this.paths.proxyLog, 'a');
    const child = spawn(
      process.execPath,
      [
        ...PROXY_NODE_FLAGS,
        this.bin,
        '--control',
        this.paths.proxySocket,
        '--state',
        this.paths.routesFile,
        '--log',
        this.paths.proxyLog,
      ],
      {
        detached: true,
        stdio: ['ignore', out, out],
      },
    );
    child.unref();
    if (child.pid !== undefined) this.setPid(child.pid); // known before it answers: stop() may kill it
    const start = { exited: null as string | null }; // set by the exit listener
    // A proxy we started tells us itself when it dies; one we adopted is found by the watch.
    child.once('exit', (code, signal) => {
      start.exited = signal ?? `exit code ${code}`;
      void this.check();
    });
    const deadline = Date.now() + START_TIMEOUT_MS;
    let state: Liveness = 'dead';
    while (Date.now() < deadline && start.exited === null && state !== 'hung') {
      state = await this.liveness();
      if (state === 'ok') return;
      await sleep(20);
    }
    if (start.exited !== null)
      throw new HotswapError(
        'PROXY_UNAVAILABLE',
        `the proxy exited at start (${start.exited}); see ${this.paths.proxyLog}`,
      );
    // Not left behind to hold ports while the next attempt starts another.
    if (child.pid !== undefined) await this.kill(child.pid).catch(() => undefined);
    throw new HotswapError(
      'PROXY_UNAVAILABLE',
      state === 'hung'
        ? `the new proxy answered nothing for ${HUNG_AFTER_MS} ms; it was killed`
        : `the proxy did not start within ${START_TIMEOUT_MS} ms; see ${this.paths.proxyLog}`,
    );
  }
}

/** True when something accepts connections on the unix socket. */
function accepts(socket: string): Promise<boolean> {
  return new Promise((resolve) => {
    const c = connect(socket);
    c.once('connect', () => {
      c.destroy();
      resolve(true);
    });
    c.once('error', () => resolve(false));
  });
}
