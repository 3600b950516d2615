// The control plane at scale (issue 12, item 8): `hotswap up` of many one-replica services on the
// real engine, in a temp home, through the real CLI, daemon and proxy. Prints the up's wall time,
// the daemon's and the proxy's RSS once idle, and the CPU the daemon spends over an idle window
// (health probes, the reconcile loop, the proxy watch), read from /proc/<pid>/stat.
//
// Bounded and safe: one `up`, fixed windows, traffic only to 127.0.0.1; at the end (and on a
// failure or Ctrl-C) `hotswap down`, then every container labelled with the temp home's scope,
// the daemon and the proxy by pid, and the temp dirs. Nothing else is touched.
import { spawn } from 'node:child_process';
import { createServer } from 'node:net';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { homePaths } from '../src/daemon/paths.js';
import { DockerClient, LABEL_SCOPE } from '../src/runtime/index.js';
import { ensureEngine } from '../scripts/engine.js';
import { buildFixtureImages } from '../scripts/fixture-images.js';
import { buildNginxImage, NGINX_IMAGE } from '../scripts/nginx-image.js';
import { cpuTicks, rssKiB, sleep } from './procs.js';

const BIN = fileURLToPath(new URL('../../bin/hotswap.js', import.meta.url));
const TICKS_PER_S = 100;

const { values: args } = parseArgs({
  options: {
    services: { type: 'string', default: '50' },
    parallel: { type: 'string' },
    app: { type: 'string', default: 'nginx' },
    // Past the impact report's after window (60 s), which samples each new service every second.
    settle: { type: 'string', default: '70' },
    idle: { type: 'string', default: '30' },
    json: { type: 'boolean', default: false },
  },
});
const N = Number(args.services);
const SETTLE_S = Number(args.settle);
const IDLE_S = Number(args.idle);
if (!(N >= 1 && N <= 200) || !(SETTLE_S >= 0) || !(IDLE_S > 0 && IDLE_S <= 300)) {
  console.error('usage: control-plane [--services 1..200] [--parallel N] [--app nginx|fixture]');
  console.error('       [--settle S] [--idle 1..300] [--json]');
  process.exit(2);
}
const log = (line: string): void => void process.stderr.write(`${line}\n`);

interface CliRun {
  code: number;
  stdout: string;
  stderr: string;
  ms: number;
}

function cli(home: string, argv: string[], cwd: string, timeoutMs = 300_000): Promise<CliRun> {
  const t0 = performance.now();
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [BIN, '--home', home, ...argv], {
      cwd,
      stdio: ['ignore', 'pipe', 'pipe'],
      env: { ...process.env, HOTSWAP_HOME: home },
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code: code ?? -1, stdout, stderr, ms: performance.now() - t0 });
    });
  });
}

function specText(image: string, appPort: number, ports: number[]): string {
  const lines = ['services:'];
  ports.forEach((port, i) => {
    lines.push(
      `  svc${String(i).padStart(3, '0')}:`,
      `    image: ${image}`,
      '    replicas: 1',
      `    port: ${appPort}`,
      `    listen: 127.0.0.1:${port}`,
      `    health: { http: ${image === NGINX_IMAGE ? '/' : '/healthz'} }`,
      '    drain: { timeout: 1s }',
      '    stopGracePeriod: 2s',
    );
  });
  return `${lines.join('\n')}\n`;
}

/** Whether 127.0.0.1:port can be bound now. */
function bindable(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const srv = createServer();
    srv.once('error', () => resolve(false));
    srv.listen(port, '127.0.0.1', () => srv.close(() => resolve(true)));
  });
}

/**
 * Free listen ports below the kernel's ephemeral range: Docker publishes each instance on an
 * ephemeral port, which could otherwise take one of ours between picking it and listening on it.
 */
async function listenPorts(n: number): Promise<number[]> {
  const range = readFileSync('/proc/sys/net/ipv4/ip_local_port_range', 'utf8').trim().split(/\s+/);
  const top = Math.min(Number(range[0]) || 32768, 32768);
  const ports: number[] = [];
  for (let tries = 0; ports.length < n && tries < 20 * n; tries++) {
    const p = 20_000 + Math.floor(Math.random() * (top - 20_000));
    if (!ports.includes(p) && (await bindable(p))) ports.push(p);
  }
  if (ports.length < n) throw new Error(`found only ${ports.length} free ports below ${top}`);
  return ports;
}

function pidOf(file: string): number {
  try {
    return Number(readFileSync(file, 'utf8').trim()) || 0;
  } catch {
    return 0;
  }
}

async function allAnswer(ports: number[]): Promise<number> {
  let ok = 0;
  for (const port of ports) {
    const res = await fetch(`http://127.0.0.1:${port}/`, { headers: { connection: 'close' } })
      .then(async (r) => (await r.arrayBuffer(), r.status))
      .catch(() => 0);
    if (res === 200) ok++;
  }
  return ok;
}

/** Every container of this home's scope (and only those), forcibly; returns how many. */
async function removeScope(socketPath: string, scope: string): Promise<number> {
  const client = new DockerClient({ socketPath });
  try {
    const list = await client.containers.list({ all: true, labels: [`${LABEL_SCOPE}=${scope}`] });
    await Promise.all(
      list.map((c) => client.containers.remove(c.Id, { force: true, v: true }).catch(() => 0)),
    );
    return list.length;
  } finally {
    await client.close();
  }
}

/** SIGKILL to a process of this home only (its command line names the home), if still there. */
function killPid(pid: number, home: string): void {
  if (pid <= 0) return;
  try {
    if (!readFileSync(`/proc/${pid}/cmdline`, 'utf8').includes(home)) return;
  } catch {
    return;
  }
  try {
    process.kill(pid, 'SIGKILL');
  } catch {
    // already gone
  }
}

const mib = (kib: number): string => (kib / 1024).toFixed(1);

async function main(): Promise<void> {
  const engine = await ensureEngine({ log });
  const image =
    args.app === 'fixture'
      ? (await buildFixtureImages({ log, socketPath: engine.socketPath }), 'hotswap-fixture:v1')
      : await buildNginxImage({ log, socketPath: engine.socketPath });
  const home = mkdtempSync(join(tmpdir(), 'hs-cp-'));
  const dir = mkdtempSync(join(tmpdir(), 'hs-cp-spec-'));
  const paths = homePaths(home);
  let interrupted = false;
  const onSignal = (): void => {
    interrupted = true;
    log('interrupted: cleaning up');
  };
  process.once('SIGINT', onSignal);
  process.once('SIGTERM', onSignal);
  try {
    const ports = await listenPorts(N);
    writeFileSync(join(dir, 'hotswap.yaml'), specText(image, 8080, ports));

    // The daemon first (a mutating verb with nothing to do: `up` of an unknown service fails fast
    // but starts it), so that `up` is timed on a running control plane.
    const t0 = performance.now();
    await cli(home, ['scale', 'none', '1'], dir, 60_000);
    const daemonStartMs = performance.now() - t0;
    const daemonPid = pidOf(paths.daemonPid);
    if (daemonPid === 0) throw new Error(`the daemon did not start; see ${paths.daemonLog}`);
    log(`daemon pid ${daemonPid} up in ${daemonStartMs.toFixed(0)} ms; up of ${N} services…`);

    const upArgs = ['up', '--json', ...(args.parallel ? ['--parallel', args.parallel] : [])];
    const up = await cli(home, upArgs, dir);
    const results = up.stdout
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as { type?: string; result?: Array<{ outcome: string }> })
      .find((l) => l.type === 'result')?.result;
    const succeeded = results?.filter((r) => r.outcome === 'succeeded').length ?? 0;
    if (up.code !== 0 || succeeded !== N)
      throw new Error(
        `up exited ${up.code}, ${succeeded}/${N} succeeded: ${up.stderr.trim()} ${up.stdout.trim().split('\n').pop() ?? ''}`,
      );
    if (interrupted) return;
    const answering = await allAnswer(ports);
    log(`up: ${(up.ms / 1000).toFixed(1)} s; ${answering}/${N} listeners answer 200`);

    const proxyPid = pidOf(paths.proxyPid);
    log(`settling ${SETTLE_S} s, then ${IDLE_S} s of idle probing`);
    for (let s = 0; s < SETTLE_S && !interrupted; s++) await sleep(1000);
    if (interrupted) return;
    const rssSettled = { daemon: rssKiB(daemonPid), proxy: rssKiB(proxyPid) };
    const c0 = { daemon: cpuTicks(daemonPid), proxy: cpuTicks(proxyPid) };
    const w0 = performance.now();
    for (let s = 0; s < IDLE_S && !interrupted; s++) await sleep(1000);
    const wallS = (performance.now() - w0) / 1000;
    const cpu = {
      daemon: ((cpuTicks(daemonPid) - c0.daemon) / TICKS_PER_S / wallS) * 100,
      proxy: ((cpuTicks(proxyPid) - c0.proxy) / TICKS_PER_S / wallS) * 100,
    };
    const rssIdle = { daemon: rssKiB(daemonPid), proxy: rssKiB(proxyPid) };
    const figures = {
      services: N,
      app: image,
      parallel: args.parallel ?? 'default',
      daemonStartMs: Math.round(daemonStartMs),
      upMs: Math.round(up.ms),
      answering,
      rssMiB: {
        daemonSettled: Number(mib(rssSettled.daemon)),
        proxySettled: Number(mib(rssSettled.proxy)),
        daemonIdle: Number(mib(rssIdle.daemon)),
        proxyIdle: Number(mib(rssIdle.proxy)),
      },
      idleCpuPercent: {
        daemon: Number(cpu.daemon.toFixed(2)),
        proxy: Number(cpu.proxy.toFixed(2)),
        seconds: Number(wallS.toFixed(1)),
      },
    };
    if (args.json) console.log(JSON.stringify(figures));
    else
      console.log(
        [
          `control plane, ${N} services × 1 replica of ${image} (up --parallel ${figures.parallel})`,
          `  daemon start         ${(daemonStartMs / 1000).toFixed(1)} s`,
          `  up, all ${N}          ${(up.ms / 1000).toFixed(1)} s   (${answering}/${N} answer 200)`,
          `  daemon RSS idle      ${mib(rssSettled.daemon)} MiB settled, ${mib(rssIdle.daemon)} MiB after ${IDLE_S} s`,
          `  proxy RSS idle       ${mib(rssSettled.proxy)} MiB settled, ${mib(rssIdle.proxy)} MiB after ${IDLE_S} s`,
          `  daemon CPU idle      ${cpu.daemon.toFixed(2)} % of one core over ${wallS.toFixed(1)} s`,
          `  proxy CPU idle       ${cpu.proxy.toFixed(2)} % of one core`,
        ].join('\n'),
      );
  } finally {
    log('cleaning up: down, then this scope’s containers, the daemon and the proxy by pid');
    const daemonPid = pidOf(paths.daemonPid);
    const proxyPid = pidOf(paths.proxyPid);
    await cli(home, ['down', '--timeout', '120s'], dir, 150_000);
    const left = await removeScope(engine.socketPath, paths.scope);
    if (left > 0) log(`removed ${left} container(s) left by down`);
    killPid(daemonPid, home);
    killPid(proxyPid, home);
    rmSync(home, { recursive: true, force: true });
    rmSync(dir, { recursive: true, force: true });
  }
}

main().catch((err: unknown) => {
  console.error(`control-plane bench failed: ${(err as Error).message}`);
  process.exitCode = 1;
});
