// A Docker Engine of the test's own, for fault tests that stop and restart dockerd: the shared
// engine (/var/run/docker.sock) serves other tests at the same time and is never touched. It gets
// its own unix socket, data root, exec root (dockerd 20.10 runs a supervised containerd there;
// libnetwork keeps its netns files there too), pid file and a bridge made for it, and it leaves
// the host firewall alone (--iptables=false: ports published on 127.0.0.1 go through
// docker-proxy, which needs no rule). destroy() removes every object it made, and a process that
// exits without calling it still kills the engine's processes and removes the bridge.
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import {
  closeSync,
  existsSync,
  mkdirSync,
  openSync,
  readFileSync,
  readdirSync,
  rmSync,
} from 'node:fs';
import { writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { DockerClient } from '../../src/runtime/index.js';

export interface PrivateEngineOptions {
  /** Images copied from the shared engine (docker save | docker load). */
  images?: string[];
  /** dockerd --live-restore: containers keep running while dockerd is down. */
  liveRestore?: boolean;
  /** The engine the images come from; default the shared one. */
  sourceSocket?: string;
  log?: (line: string) => void;
}

export class PrivateEngine {
  readonly socketPath: string;
  readonly dockerHost: string;
  private child: ChildProcess | null = null;
  private destroyed = false;
  private readonly onExit = (): void => this.killAllSync();

  private constructor(
    readonly dir: string,
    readonly bridge: string,
    private readonly subnet: string,
    private readonly log: (line: string) => void,
    readonly liveRestore: boolean,
  ) {
    this.socketPath = join(dir, 'docker.sock');
    this.dockerHost = `unix://${this.socketPath}`;
  }

  /** Makes the bridge and the folders, starts dockerd, loads the images. */
  static async create(opts: PrivateEngineOptions = {}): Promise<PrivateEngine> {
    const id = randomBytes(3).toString('hex');
    const dir = join(tmpdir(), `hotswap-engine-${id}`);
    const engine = new PrivateEngine(
      dir,
      `hsf${id}`,
      freeSubnet(),
      opts.log ?? (() => undefined),
      opts.liveRestore ?? false,
    );
    process.once('exit', engine.onExit);
    try {
      mkdirSync(dir, { recursive: true, mode: 0o700 });
      writeFileSync(join(dir, 'daemon.json'), '{}\n'); // not the host's /etc/docker/daemon.json
      sh('ip', ['link', 'add', 'name', engine.bridge, 'type', 'bridge']);
      sh('ip', ['addr', 'add', `${engine.subnet}.1/24`, 'dev', engine.bridge]);
      sh('ip', ['link', 'set', engine.bridge, 'up']);
      await engine.start();
      if (opts.images?.length)
        await engine.load(opts.images, opts.sourceSocket ?? '/var/run/docker.sock');
      return engine;
    } catch (err) {
      await engine.destroy();
      throw err;
    }
  }

  get pid(): number | null {
    return this.child?.exitCode === null ? (this.child.pid ?? null) : null;
  }

  /** Starts dockerd and resolves once it answers. */
  async start(): Promise<void> {
    if (this.pid !== null) throw new Error('the private dockerd already runs');
    const logFd = openSync(join(this.dir, 'dockerd.log'), 'a');
    const args = [
      ...['-H', this.dockerHost, '--data-root', join(this.dir, 'data')],
      ...['--exec-root', join(this.dir, 'exec'), '--pidfile', join(this.dir, 'dockerd.pid')],
      ...['--config-file', join(this.dir, 'daemon.json'), '--bridge', this.bridge],
      ...['--iptables=false', '--ip-masq=false', '--storage-driver', 'overlay2'],
      ...(this.liveRestore ? ['--live-restore'] : []),
    ];
    const child = spawn('dockerd', args, { detached: true, stdio: ['ignore', logFd, logFd] });
    closeSync(logFd);
    child.unref();
    this.child = child;
    const deadline = Date.now() + 30_000;
    while (!(await this.answers())) {
      if (child.exitCode !== null || Date.now() > deadline)
        throw new Error(`the private dockerd did not start; its log:\n${this.logTail()}`);
      await sleep(200);
    }
    this.log(`private dockerd pid ${child.pid} answers on ${this.socketPath}`);
  }

  /** SIGTERM to dockerd, as an operator or systemd stops it; resolves once it has exited. */
  async stop(timeoutMs = 30_000): Promise<void> {
    const child = this.child;
    if (!child || child.exitCode !== null || child.signalCode !== null) return;
    const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
    child.kill('SIGTERM');
    const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
    await exited;
    clearTimeout(timer);
  }

  /** Stops the engine and removes everything it made: containers, folders, mounts, bridge. */
  async destroy(): Promise<void> {
    if (this.destroyed) return;
    this.destroyed = true;
    if (this.pid !== null) {
      const client = new DockerClient({ socketPath: this.socketPath });
      try {
        const all = await client.containers.list({ all: true });
        await Promise.all(all.map((c) => client.containers.remove(c.Id, { force: true, v: true })));
      } catch {
        // the engine is half gone: stopping it below still ends its containers
      } finally {
        await client.close().catch(() => undefined);
      }
      await this.stop();
    }
    this.killAllSync();
    process.removeListener('exit', this.onExit);
  }

  /** `docker save | docker load` through the Engine API: no docker CLI needed. */
  private async load(images: string[], source: string): Promise<void> {
    const t0 = Date.now();
    const from = new DockerClient({ socketPath: source });
    const to = new DockerClient({ socketPath: this.socketPath });
    try {
      for (const image of images) {
        const saved = await from.stream({ path: `/images/${encodeURIComponent(image)}/get` });
        await to.request({
          method: 'POST',
          path: '/images/load',
          query: { quiet: true },
          body: saved.body,
          headers: { 'content-type': 'application/x-tar' },
          timeoutMs: 120_000,
        });
      }
    } finally {
      await from.close();
      await to.close();
    }
    this.log(`loaded ${images.join(', ')} into the private engine in ${Date.now() - t0} ms`);
  }

  private async answers(): Promise<boolean> {
    const client = new DockerClient({ socketPath: this.socketPath });
    try {
      await client.ping({ timeoutMs: 2_000 });
      return true;
    } catch {
      return false;
    } finally {
      await client.close().catch(() => undefined);
    }
  }

  private logTail(): string {
    try {
      return readFileSync(join(this.dir, 'dockerd.log'), 'utf8').split('\n').slice(-15).join('\n');
    } catch {
      return '(no log)';
    }
  }

  /**
   * What is left, synchronously (also from an exit handler): dockerd, its containerd, the shims
   * of that containerd and their containers' processes, mounts under the folder, the folder, the
   * bridge.
   */
  private killAllSync(): void {
    const pids = this.processesSync();
    for (const pid of pids) {
      try {
        process.kill(pid, 'SIGKILL');
      } catch {
        // already gone
      }
    }
    const mounts = readFileSync('/proc/mounts', 'utf8')
      .split('\n')
      .map((l) => l.split(' ')[1] ?? '')
      .filter((m) => m.startsWith(`${this.dir}/`))
      .reverse();
    for (const m of mounts) spawnSync('umount', ['-l', m]);
    rmSync(this.dir, { recursive: true, force: true });
    if (existsSync(`/sys/class/net/${this.bridge}`)) spawnSync('ip', ['link', 'del', this.bridge]);
  }

  /** dockerd, containerd and shims whose command line names this engine's folder, and children. */
  private processesSync(): number[] {
    const found = new Set<number>();
    for (const name of readdirSync('/proc')) {
      if (!/^\d+$/.test(name)) continue;
      try {
        const cmd = readFileSync(`/proc/${name}/cmdline`, 'utf8');
        if (!cmd.includes(this.dir)) continue;
        found.add(Number(name));
        for (const task of readdirSync(`/proc/${name}/task`)) {
          const kids = readFileSync(`/proc/${name}/task/${task}/children`, 'utf8').trim();
          for (const k of kids.split(/\s+/).filter(Boolean)) found.add(Number(k));
        }
      } catch {
        // the process ended while we looked
      }
    }
    found.delete(process.pid);
    return [...found];
  }
}

function sh(cmd: string, args: string[]): void {
  const res = spawnSync(cmd, args, { encoding: 'utf8' });
  if (res.status !== 0) throw new Error(`${cmd} ${args.join(' ')}: ${res.stderr || res.error}`);
}

/** A 10.231.x.0/24 no route of the host uses. */
function freeSubnet(): string {
  const routes = spawnSync('ip', ['-4', 'route', 'show', 'table', 'all'], { encoding: 'utf8' });
  for (let i = 0; i < 50; i++) {
    const subnet = `10.231.${1 + Math.floor(Math.random() * 254)}`;
    if (!routes.stdout.includes(`${subnet}.`)) return subnet;
  }
  throw new Error('no free 10.231.x.0/24 for the private engine');
}
