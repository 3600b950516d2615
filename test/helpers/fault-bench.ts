// One hotswap home on the real engine, with one service `web` behind the proxy, and what the
// fault scenarios (fault-scenarios.ts) need to act on it and judge it: the CLI, the store read
// beside the daemon, the home's containers, the pids to kill, and "converged" as one test.
// Shared by test/e2e/recovery.test.ts, test/e2e/engine-faults.test.ts and `npm run faults`.
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import Database from 'better-sqlite3';
import { homePaths, type HomePaths } from '../../src/daemon/paths.js';
import { DockerClient, LABEL_SCOPE } from '../../src/runtime/index.js';
import { freePort, hotswap, startDaemon, type CliResult } from './cli.js';

export const ROLLING = '{ type: rolling, maxSurge: 1, maxUnavailable: 0 }';
export const CANARY_PAUSED = '{ type: canary, steps: [{ setWeight: 50 }, { pause: {} }] }';
export const blueGreen = (preview: number): string =>
  `{ type: blue-green, previewListen: 127.0.0.1:${preview}, scaleDownDelay: 0s }`;

export interface ServiceStatus {
  stableRevision: number | null;
  weights: Record<string, number>;
  busy: string | null;
  degraded?: string | null;
  instances: Array<{ id: string; revision: number; state: string; serving: boolean }>;
  lastRollout: { id: number; status: string; reason: string | null } | null;
}

export interface BenchOptions {
  /** Engine socket the daemon and the bench use; default the shared engine. */
  socketPath?: string;
  /** Home folder (e.g. on a small tmpfs); default a new temporary one. */
  home?: string;
  replicas?: number;
  /** The service's listener port; default a free one. */
  port?: number;
}

export class FaultBench {
  readonly paths: HomePaths;
  readonly docker: DockerClient;
  readonly replicas: number;
  /** Environment of every CLI and daemon of this bench (DOCKER_HOST of its engine). */
  readonly env: NodeJS.ProcessEnv;
  readonly url: string;
  private readonly file: string;
  private readonly specDir: string;
  private ownHome = false;

  private constructor(
    readonly home: string,
    readonly port: number,
    readonly socketPath: string,
    opts: BenchOptions,
  ) {
    this.paths = homePaths(home);
    this.replicas = opts.replicas ?? 3;
    this.docker = new DockerClient({ socketPath });
    this.env = { DOCKER_HOST: `unix://${socketPath}` };
    this.url = `http://127.0.0.1:${port}/`;
    this.specDir = mkdtempSync(join(tmpdir(), 'hotswap-faultbench-spec-'));
    this.file = join(this.specDir, 'hotswap.yaml');
  }

  static async create(opts: BenchOptions = {}): Promise<FaultBench> {
    const home = opts.home ?? mkdtempSync(join(tmpdir(), 'hotswap-faultbench-'));
    const bench = new FaultBench(
      home,
      opts.port ?? (await freePort()),
      opts.socketPath ?? '/var/run/docker.sock',
      opts,
    );
    bench.ownHome = opts.home === undefined;
    return bench;
  }

  spec(image: string, strategy: string): string {
    return `services:
  web:
    image: ${image}
    replicas: ${this.replicas}
    port: 8080
    listen: 127.0.0.1:${this.port}
    health: { http: /healthz, interval: 200ms, timeout: 1s, healthyThreshold: 2, deadline: 10s }
    strategy: ${strategy}
    drain: { timeout: 5s }
    stopGracePeriod: 5s
`;
  }

  cli(args: string[]): Promise<CliResult> {
    return hotswap(this.home, args, { env: this.env });
  }

  up(image: string, strategy: string): Promise<CliResult> {
    writeFileSync(this.file, this.spec(image, strategy));
    return this.cli(['up', '-f', this.file]);
  }

  async status(): Promise<ServiceStatus> {
    const r = await this.cli(['status', '--json']);
    return (JSON.parse(r.stdout) as { services: ServiceStatus[] }).services[0]!;
  }

  scopeContainers(): Promise<Array<{ Id: string; State: string }>> {
    return this.docker.containers.list({
      all: true,
      labels: [`${LABEL_SCOPE}=${this.paths.scope}`],
    });
  }

  /** A row of the store, read beside the daemon (WAL lets a reader in). */
  query<T>(sql: string): T | undefined {
    // A short busy wait: this runs on the event loop that also drives the load, and a lock held
    // by the daemon (or the WAL recovery after its SIGKILL) must not stall the load for seconds.
    // The callers poll, so a busy store is simply asked again.
    const db = new Database(this.paths.dbFile, {
      readonly: true,
      fileMustExist: true,
      timeout: 50,
    });
    try {
      return db.prepare(sql).get() as T | undefined;
    } finally {
      db.close();
    }
  }

  /** query(), asked again while the store is busy (for up to 5 s, without blocking the load). */
  async read<T>(sql: string): Promise<T | undefined> {
    for (let attempt = 0; ; attempt++) {
      try {
        return this.query<T>(sql);
      } catch (err) {
        if ((err as { code?: string }).code !== 'SQLITE_BUSY' || attempt >= 100) throw err;
        await sleep(50);
      }
    }
  }

  async count(sql: string): Promise<number> {
    return (await this.read<{ n: number }>(sql))?.n ?? 0;
  }

  async lastRolloutId(): Promise<number> {
    return (await this.read<{ id: number | null }>('SELECT max(id) AS id FROM rollouts'))?.id ?? 0;
  }

  /** Resolves true once a rollout newer than `before` holds at a pause step. */
  async atPause(before: number): Promise<boolean> {
    const n = await this.count(
      `SELECT count(*) AS n FROM rollout_steps WHERE kind = 'pause' AND status = 'running' AND rollout_id > ${before}`,
    );
    return n === 1;
  }

  /** Resolves true once `event` was journaled for a rollout newer than `before`. */
  async journaled(event: string, before: number): Promise<boolean> {
    const n = await this.count(
      `SELECT count(*) AS n FROM journal WHERE event = '${event}' AND rollout_id > ${before}`,
    );
    return n >= 1;
  }

  daemonPid(): number {
    return Number(readFileSync(this.paths.daemonPid, 'utf8'));
  }

  killDaemon(): void {
    process.kill(this.daemonPid(), 'SIGKILL');
  }

  startDaemon(): Promise<void> {
    return startDaemon(this.home, this.env);
  }

  /** Truthy once one revision serves every replica, nothing runs, and nothing is left over. */
  async converged(revision?: number): Promise<{ revision: number } | null> {
    const s = await this.status();
    if (s.lastRollout?.status === 'running') return null;
    revision ??= s.stableRevision ?? -1;
    if (s.stableRevision !== revision) return null;
    return this.serves(revision, s);
  }

  /**
   * Truthy once only `revision` serves, on every replica, no operation holds the service and no
   * container is left over; whatever the store says of the last rollout.
   */
  async serves(revision: number, s?: ServiceStatus): Promise<{ revision: number } | null> {
    s ??= await this.status();
    if (s.busy !== null) return null;
    const serving = s.instances.filter((i) => i.serving);
    if (serving.length !== this.replicas || serving.some((i) => i.revision !== revision))
      return null;
    const positive = Object.entries(s.weights).filter(([, w]) => w > 0);
    if (positive.length !== 1 || positive[0]![0] !== String(revision)) return null;
    return (await this.leftover()) === 0 ? { revision } : null;
  }

  /** Containers of this home beyond the declared replicas. */
  async leftover(): Promise<number> {
    return (await this.scopeContainers()).length - this.replicas;
  }

  /** `down`, then whatever process and container of this home is still there. */
  async close(): Promise<void> {
    await this.cli(['down']).catch(() => undefined);
    // A `down` that failed (the engine gone, a test cut short) leaves the daemon and the proxy.
    for (const pid of processesNaming(this.home)) {
      try {
        process.kill(pid, 'SIGKILL');
      } catch {
        // gone meanwhile
      }
    }
    const left = await this.scopeContainers().catch(() => []);
    await Promise.all(
      left.map((c) =>
        this.docker.containers.remove(c.Id, { force: true, v: true }).catch(() => undefined),
      ),
    );
    await this.release();
    if (this.ownHome) rmSync(this.home, { recursive: true, force: true });
  }

  /** Lets go of the bench's own resources, leaving the home as it is. */
  async release(): Promise<void> {
    await this.docker.close().catch(() => undefined);
    rmSync(this.specDir, { recursive: true, force: true });
  }
}

/** Pids of the processes whose command line names `path` (this home's daemon and proxy). */
function processesNaming(path: string): number[] {
  const pids: number[] = [];
  for (const name of readdirSync('/proc')) {
    if (!/^\d+$/.test(name) || Number(name) === process.pid) continue;
    try {
      const args = readFileSync(`/proc/${name}/cmdline`, 'utf8').split('\0');
      if (args.some((a) => a === path || a.startsWith(`${path}/`))) pids.push(Number(name));
    } catch {
      // the process ended while we looked
    }
  }
  return pids;
}
