// Issue 12, supervision, on the real engine: concurrent daemon starts on one home, a hung proxy
// (SIGSTOP) replaced under load, a CLI interrupted mid-rollout (the rollout goes on and
// `rollout status --watch` re-attaches), `down` of a service paused mid-rollout, and no process
// of the home left after `down`.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { after, before, describe, test } from 'node:test';
import { summarize } from '../../src/assess/index.js';
import { homePaths } from '../../src/daemon/paths.js';
import { cleanupScope, ensureFixtures, requireEngine } from '../helpers/docker.js';
import { freePort, getText, hotswap, REPO_ROOT, type CliResult } from '../helpers/cli.js';
import { waitFor } from '../helpers/load.js';
import { FaultBench } from '../helpers/fault-bench.js';
import { hungProxy, RATE } from '../helpers/fault-scenarios.js';
import { formatRows } from '../helpers/fault-table.js';

const BIN = fileURLToPath(new URL('../../../bin/hotswap.js', import.meta.url));

function spec(port: number, image: string, strategy: string): string {
  return `services:
  web:
    image: ${image}
    replicas: 2
    port: 8080
    listen: 127.0.0.1:${port}
    health: { http: /healthz, interval: 200ms, healthyThreshold: 1, deadline: 15s }
    strategy: ${strategy}
    drain: { timeout: 3s }
    stopGracePeriod: 3s
`;
}
const ROLLING = '{ type: rolling, maxSurge: 1, maxUnavailable: 0 }';
const CANARY_PAUSED = '{ type: canary, steps: [{ setWeight: 50 }, { pause: {} }] }';

/** Pids of the processes whose command line names this home (daemon, proxies). */
function processesOf(home: string): Array<{ pid: number; cmd: string }> {
  const out: Array<{ pid: number; cmd: string }> = [];
  for (const name of readdirSync('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    try {
      const cmd = readFileSync(`/proc/${name}/cmdline`, 'utf8').split('\0').join(' ');
      const state = /^\S+ \(.*\) (\S)/.exec(readFileSync(`/proc/${name}/stat`, 'utf8'))?.[1];
      if (cmd.includes(home) && state !== 'Z') out.push({ pid: Number(name), cmd });
    } catch {
      // the process ended while we looked
    }
  }
  return out;
}

async function proxyPid(home: string): Promise<number> {
  const r = await hotswap(home, ['proxy', 'status', '--json']);
  assert.equal(r.code, 0, r.stderr);
  return (JSON.parse(r.stdout) as { pid: number }).pid;
}

async function rolloutState(home: string): Promise<{ active: boolean; paused: boolean }> {
  const r = await hotswap(home, ['rollout', 'status', 'web', '--json']);
  return JSON.parse(r.stdout) as { active: boolean; paused: boolean };
}

/** Waits until the current rollout of web holds at its `pause: {}` step (weights 50/50). */
async function waitAtPause(home: string): Promise<void> {
  await waitFor(
    'the rollout to wait at its pause',
    async () => {
      const r = await hotswap(home, ['rollout', 'status', 'web', '--json']);
      const s = JSON.parse(r.stdout) as {
        active: boolean;
        steps: Array<{ kind: string; status: string }>;
      };
      return s.active && s.steps.some((x) => x.kind === 'pause' && x.status === 'running');
    },
    60_000,
  );
}

describe('supervision on the real engine', () => {
  const home = mkdtempSync(join(tmpdir(), 'hotswap-sup-'));
  const file = join(mkdtempSync(join(tmpdir(), 'hotswap-sup-spec-')), 'hotswap.yaml');
  let port = 0;
  let url = '';
  const up = (image: string, strategy: string): Promise<CliResult> => {
    writeFileSync(file, spec(port, image, strategy));
    return hotswap(home, ['up', '-f', file]);
  };

  before(async () => {
    await requireEngine();
    await ensureFixtures();
    port = await freePort();
    url = `http://127.0.0.1:${port}/`;
  });

  after(async () => {
    await hotswap(home, ['down']);
    for (const p of processesOf(home)) process.kill(p.pid, 'SIGKILL');
    await cleanupScope(homePaths(home).scope);
  });

  test('concurrent starts on one home: one daemon and one proxy, the losers say why', async () => {
    // Three CLIs that each need a daemon, at once on a fresh home.
    const clis = await Promise.all([1, 2, 3].map(() => hotswap(home, ['pause', 'web'])));
    for (const r of clis) {
      assert.equal(r.code, 4, r.stderr); // NOT_FOUND: there is no rollout, but a daemon answered
      assert.match(r.stderr, /no rollout of "web" is in progress/);
    }
    const procs = processesOf(home);
    assert.equal(
      procs.filter((p) => / daemon --home /.test(p.cmd)).length,
      1,
      JSON.stringify(procs),
    );
    assert.equal(
      procs.filter((p) => /proxy\/bin\.js/.test(p.cmd)).length,
      1,
      JSON.stringify(procs),
    );
    // Two more daemons in the foreground, at once: the lock refuses both, naming the holder.
    const direct = await Promise.all([1, 2].map(() => hotswap(home, ['daemon'])));
    for (const r of direct) {
      assert.equal(r.code, 5, r.stderr);
      assert.match(r.stderr, /another hotswap daemon \(pid \d+\) holds the lock on /);
    }
  });

  test('a hung proxy (SIGSTOP) is killed and replaced under load; failures only while hung', async () => {
    const r = await up('hotswap-fixture:v1', ROLLING);
    assert.equal(r.code, 0, r.stderr + r.stdout);
    const bench = await FaultBench.create({ home, port, replicas: 2 });
    const hung = await hungProxy(bench).finally(() => bench.release());
    const f = hung.facts as {
      oldPid: number;
      stoppedAt: number;
      servedAgainMs: number;
      decisionMs: number | null;
    };
    const { samples } = hung.load;
    const failed = samples.filter((s) => !s.ok);
    const lastFailure = Math.max(f.stoppedAt, ...failed.map((s) => s.at));
    const after = summarize(samples, lastFailure + 1);
    console.log(formatRows([hung.row]));
    assert.ok(f.decisionMs !== null, 'the daemon logs the replacement');
    assert.ok(f.decisionMs <= 1000, `served ${f.decisionMs} ms after the decision`);
    for (const s of failed) {
      assert.ok(s.at + s.latencyMs >= f.stoppedAt, 'no failure before SIGSTOP');
      assert.ok(s.at <= f.stoppedAt + f.servedAgainMs, 'no failure once served again');
    }
    assert.equal(after.failed, 0);
    assert.ok(after.sent > RATE, 'load went on after the replacement');
    assert.ok(!processesOf(home).some((p) => p.pid === f.oldPid), 'the hung proxy is gone');
    assert.equal((await getText(url)).version, 'v1');
  });

  test('a new daemon finds the proxy hung (daemon SIGKILLed meanwhile): kills and replaces it', async () => {
    const paths = homePaths(home);
    const daemonPid = Number(readFileSync(paths.daemonPid, 'utf8'));
    const oldPid = await proxyPid(home);
    process.kill(oldPid, 'SIGSTOP');
    process.kill(daemonPid, 'SIGKILL');
    try {
      const r = await hotswap(home, ['pause', 'web']); // needs a daemon: starts one
      assert.equal(r.code, 4, r.stderr);
    } finally {
      if (processesOf(home).some((p) => p.pid === oldPid)) process.kill(oldPid, 'SIGCONT');
    }
    assert.notEqual(await proxyPid(home), oldPid);
    assert.ok(!processesOf(home).some((p) => p.pid === oldPid), 'the hung proxy is gone');
    assert.equal((await getText(url)).version, 'v1');
  });

  test('Ctrl-C mid-rollout: the rollout goes on and `rollout status --watch` re-attaches', async () => {
    writeFileSync(file, spec(port, 'hotswap-fixture:v2', CANARY_PAUSED));
    const cli = spawn(process.execPath, [BIN, '--home', home, 'up', '-f', file], {
      cwd: REPO_ROOT,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stderr = '';
    cli.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    cli.stdout.resume();
    const exited = new Promise<number | null>((res) => cli.on('close', (code) => res(code)));
    await waitAtPause(home);
    cli.kill('SIGINT');
    assert.equal(await exited, 130);
    assert.match(stderr, /the daemon goes on with the operation/);
    await new Promise((res) => setTimeout(res, 500));
    assert.equal((await rolloutState(home)).active, true, 'the rollout survived the CLI');

    const watch = hotswap(home, ['rollout', 'status', 'web', '--watch']);
    await new Promise((res) => setTimeout(res, 1000));
    const promote = await hotswap(home, ['promote', 'web']);
    assert.equal(promote.code, 0, promote.stderr);
    const w = await watch;
    assert.equal(w.code, 0, w.stderr);
    assert.match(w.stdout, /control\.promote|promote/);
    assert.match(w.stdout, /rollout #\d+ succeeded/);
    assert.equal((await getText(url)).version, 'v2');
  });

  test('down of a service paused mid-rollout aborts the rollout, then removes it', async () => {
    writeFileSync(file, spec(port, 'hotswap-fixture:v1', CANARY_PAUSED));
    const pending = hotswap(home, ['up', '-f', file]);
    await waitAtPause(home);
    const down = await hotswap(home, ['down', 'web']);
    assert.equal(down.code, 0, down.stderr + down.stdout);
    assert.match(down.stdout, /removed: web/);
    const upResult = await pending;
    assert.equal(upResult.code, 3, upResult.stderr + upResult.stdout); // the rollout was aborted
    const st = await hotswap(home, ['status', '--json']);
    assert.deepEqual((JSON.parse(st.stdout) as { services: unknown[] }).services, []);
  });

  test('down leaves no process of the home running, a hung proxy included', async () => {
    process.kill(await proxyPid(home), 'SIGSTOP'); // down comes before the watch sees the hang
    const r = await hotswap(home, ['down']);
    assert.equal(r.code, 0, r.stderr);
    assert.deepEqual(processesOf(home), []);
  });
});
