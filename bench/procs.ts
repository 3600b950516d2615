// Process bookkeeping for the benchmark: every process it starts is tracked by pid and stopped
// by pid at the end (never by name), plus small helpers: free ports, waiting for an HTTP 200,
// reading VmRSS from /proc, and sampling it while a load runs.
import type { ChildProcess } from 'node:child_process';
import { spawn, spawnSync } from 'node:child_process';
import { closeSync, openSync, readFileSync, readdirSync } from 'node:fs';
import http from 'node:http';
import https from 'node:https';
import net from 'node:net';
import { performance } from 'node:perf_hooks';

export const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

export class ProcessTable {
  private readonly live = new Map<number, { name: string; child: ChildProcess | null }>();

  /** Registers a pid (a short-lived child such as wrk); returns the function that forgets it. */
  track = (pid: number, name = 'child', child: ChildProcess | null = null): (() => void) => {
    this.live.set(pid, { name, child });
    return () => this.live.delete(pid);
  };

  /** Starts a long-running process with stdout+stderr appended to logFile, tracked until it exits. */
  spawnLogged(name: string, cmd: string, args: string[], logFile: string): ChildProcess {
    const fd = openSync(logFile, 'a');
    const child = spawn(cmd, args, { stdio: ['ignore', fd, fd] });
    closeSync(fd);
    if (child.pid !== undefined) {
      const untrack = this.track(child.pid, name, child);
      child.once('exit', untrack);
    }
    return child;
  }

  /** SIGTERM to one tracked process, SIGKILL after graceMs; resolves when it is gone. */
  async stop(pid: number, graceMs = 5_000): Promise<void> {
    const entry = this.live.get(pid);
    if (entry === undefined) return;
    const exited = entry.child
      ? new Promise<void>((resolve) => {
          if (entry.child!.exitCode !== null || entry.child!.signalCode !== null) resolve();
          else entry.child!.once('exit', () => resolve());
        })
      : waitGone(pid, graceMs + 2_000);
    signal(pid, 'SIGTERM');
    const timer = setTimeout(() => signal(pid, 'SIGKILL'), graceMs);
    await Promise.race([exited, sleep(graceMs + 2_000)]);
    clearTimeout(timer);
    this.live.delete(pid);
  }

  /** Stops everything still tracked, newest first. */
  async stopAll(): Promise<string[]> {
    const pids = [...this.live.keys()].reverse();
    const names = pids.map((pid) => `${this.live.get(pid)?.name ?? '?'} (pid ${pid})`);
    await Promise.all(pids.map((pid) => this.stop(pid)));
    return names;
  }
}

function signal(pid: number, sig: NodeJS.Signals): void {
  try {
    process.kill(pid, sig);
  } catch {
    // already gone
  }
}

async function waitGone(pid: number, ms: number): Promise<void> {
  const deadline = Date.now() + ms;
  while (Date.now() < deadline) {
    try {
      process.kill(pid, 0);
    } catch {
      return;
    }
    await sleep(50);
  }
}

export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.once('error', reject);
    server.listen({ host: '127.0.0.1', port: 0 }, () => {
      const address = server.address();
      const port = typeof address === 'object' && address !== null ? address.port : 0;
      server.close(() => resolve(port));
    });
  });
}

function getOnce(port: number, secure = false): Promise<number> {
  return new Promise((resolve) => {
    const options = { host: '127.0.0.1', port, path: '/', agent: false, timeout: 1_000 };
    const req = secure ? https.get({ ...options, rejectUnauthorized: false }) : http.get(options);
    req.on('response', (res) => {
      res.resume();
      res.on('end', () => resolve(res.statusCode ?? 0));
      res.on('error', () => resolve(0));
    });
    req.on('timeout', () => req.destroy());
    req.on('error', () => resolve(0));
  });
}

/** Waits until GET / on 127.0.0.1:port answers 200; `alive` says whether the server still runs. */
export async function waitHttp200(
  what: string,
  port: number,
  timeoutMs = 15_000,
  alive: () => boolean = () => true,
  secure = false,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let last = 0;
  while (Date.now() < deadline) {
    if (!alive()) throw new Error(`${what} exited before it answered on 127.0.0.1:${port}`);
    last = await getOnce(port, secure);
    if (last === 200) return;
    await sleep(100);
  }
  throw new Error(`${what} did not answer 200 on 127.0.0.1:${port} (last status ${last})`);
}

/** VmRSS of a process in KiB, or 0 when it is gone. */
export function rssKiB(pid: number): number {
  try {
    const m = /^VmRSS:\s+(\d+)\s+kB/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return m?.[1] === undefined ? 0 : Number(m[1]);
  } catch {
    return 0;
  }
}

/** Direct children of a process (nginx's workers under its master). */
export function childPids(pid: number): number[] {
  try {
    return readFileSync(`/proc/${pid}/task/${pid}/children`, 'utf8')
      .trim()
      .split(/\s+/)
      .filter(Boolean)
      .map(Number);
  } catch {
    return [];
  }
}

/** Samples the summed VmRSS of some processes every intervalMs; stop() gives the peak in KiB. */
export class RssSampler {
  private peak = 0;
  private readonly timer: NodeJS.Timeout;

  constructor(
    private readonly pids: () => number[],
    intervalMs = 200,
  ) {
    this.sample();
    this.timer = setInterval(() => this.sample(), intervalMs);
  }

  private sample(): void {
    const total = this.pids().reduce((a, pid) => a + rssKiB(pid), 0);
    if (total > this.peak) this.peak = total;
  }

  stop(): number {
    clearInterval(this.timer);
    this.sample();
    return this.peak;
  }
}

export function hasCommand(cmd: string): boolean {
  return spawnSync('sh', ['-c', `command -v ${cmd}`], { stdio: 'ignore' }).status === 0;
}

/** First line of `cmd args` (stdout or stderr), for version strings. */
export function firstLine(cmd: string, args: string[]): string {
  const res = spawnSync(cmd, args, { encoding: 'utf8' });
  return `${res.stdout ?? ''}${res.stderr ?? ''}`.trim().split('\n')[0] ?? '';
}

/** utime + stime of a process, in clock ticks (100 per second on Linux), 0 when it is gone. */
export function cpuTicks(pid: number): number {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // Fields after the command name, which is in parentheses and may hold spaces.
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return Number(fields[11]) + Number(fields[12]);
  } catch {
    return 0;
  }
}

/**
 * Percent of one core each named group of processes used between construction and stop().
 * Sampled every 200 ms as well, so a process that exits before stop() (wrk) still counts up to
 * its last sample.
 */
export class CpuMeter {
  private readonly first = new Map<number, number>();
  private readonly last = new Map<number, number>();
  private readonly t0 = performance.now();
  private readonly timer: NodeJS.Timeout;

  constructor(private readonly groups: Record<string, () => number[]>) {
    for (const pids of Object.values(groups)) {
      for (const pid of pids()) this.first.set(pid, cpuTicks(pid));
    }
    this.timer = setInterval(() => this.sample(), 200);
  }

  private sample(): void {
    for (const pids of Object.values(this.groups)) {
      for (const pid of pids()) {
        const t = cpuTicks(pid);
        if (!this.first.has(pid)) this.first.set(pid, 0); // started after us: all its time counts
        if (t > (this.last.get(pid) ?? 0)) this.last.set(pid, t);
      }
    }
  }

  stop(): Record<string, number> {
    clearInterval(this.timer);
    this.sample();
    const seconds = (performance.now() - this.t0) / 1000;
    const out: Record<string, number> = {};
    for (const [name, pids] of Object.entries(this.groups)) {
      let ticks = 0;
      for (const pid of new Set(pids())) {
        ticks += Math.max(0, (this.last.get(pid) ?? 0) - (this.first.get(pid) ?? 0));
      }
      out[name] = Math.round(ticks / seconds); // 100 ticks per second = 100 % of one core
    }
    return out;
  }
}

/** The docker-proxy processes that publish a host port (the userland proxy of -p 127.0.0.1:port). */
export function dockerProxyPids(hostPort: number): number[] {
  const pids: number[] = [];
  let entries: string[];
  try {
    entries = readdirSync('/proc').filter((n) => /^\d+$/.test(n));
  } catch {
    return pids;
  }
  for (const name of entries) {
    try {
      const argv = readFileSync(`/proc/${name}/cmdline`, 'utf8').split('\0');
      if (!argv[0]?.endsWith('docker-proxy')) continue;
      const i = argv.indexOf('-host-port');
      if (i >= 0 && argv[i + 1] === String(hostPort)) pids.push(Number(name));
    } catch {
      // gone meanwhile
    }
  }
  return pids;
}

function systemTicks(): { busy: number; total: number } {
  try {
    const line = readFileSync('/proc/stat', 'utf8').split('\n')[0] ?? '';
    // cpu user nice system idle iowait irq softirq steal guest guest_nice
    const v = line.trim().split(/\s+/).slice(1, 9).map(Number);
    const total = v.reduce((a, b) => a + b, 0);
    const idle = (v[3] ?? 0) + (v[4] ?? 0);
    return { busy: total - idle, total };
  } catch {
    return { busy: 0, total: 0 };
  }
}

/** Whole-machine CPU busy between start and stop, in percent of one core (2 cores = 200). */
export class SystemCpuMeter {
  private readonly t0 = systemTicks();
  private readonly cores: number;

  constructor(cores: number) {
    this.cores = cores;
  }

  stop(): number {
    const t1 = systemTicks();
    const total = t1.total - this.t0.total;
    return total > 0 ? Math.round((100 * this.cores * (t1.busy - this.t0.busy)) / total) : 0;
  }
}

/**
 * Waits until the machine is quiet (busy below thresholdPct of one core over 300 ms), at most
 * maxMs: the app or a proxy may still be working off the previous run's backlog.
 */
export async function settle(cores: number, thresholdPct = 25, maxMs = 10_000): Promise<number> {
  const started = Date.now();
  for (;;) {
    const meter = new SystemCpuMeter(cores);
    await sleep(300);
    if (meter.stop() < thresholdPct || Date.now() - started > maxMs) return Date.now() - started;
  }
}

/** Nanoseconds a process's main thread spent runnable but waiting for a CPU (schedstat). */
export function runQueueWaitNs(pid: number): number {
  try {
    const fields = readFileSync(`/proc/${pid}/schedstat`, 'utf8').trim().split(/\s+/);
    return Number(fields[1] ?? 0);
  } catch {
    return 0;
  }
}

/**
 * Percent of the wall time the main threads of some processes sat runnable but not running
 * (waiting for a core), summed over the processes: how much the scheduler held them back.
 */
export class RunQueueMeter {
  private readonly start = new Map<number, number>();
  private readonly t0 = performance.now();

  constructor(private readonly pids: () => number[]) {
    for (const pid of pids()) this.start.set(pid, runQueueWaitNs(pid));
  }

  stop(): number {
    const wallNs = (performance.now() - this.t0) * 1e6;
    let waited = 0;
    for (const pid of this.pids()) {
      const before = this.start.get(pid);
      if (before !== undefined) waited += runQueueWaitNs(pid) - before;
    }
    return wallNs > 0 ? Math.round((100 * waited) / wallNs) : 0;
  }
}
