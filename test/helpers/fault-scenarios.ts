// The fault matrix of issue 12, one function per row: each injects its fault into a FaultBench
// under a fixed-rate load through the proxy (200 req/s), waits until the service is back in one
// consistent state, and returns the row (failed requests, time to converge, containers left
// over, outcome) plus what the e2e tests assert on. The e2e tests (recovery, engine-faults) and
// `npm run faults` (scripts/faults.ts) run the same functions.
import assert from 'node:assert/strict';
import { readFileSync, rmSync } from 'node:fs';
import { ProxyClient } from '../../src/proxy/index.js';
import { DockerRuntime } from '../../src/runtime/index.js';
import { CANARY_PAUSED, ROLLING, blueGreen, type FaultBench } from './fault-bench.js';
import { freePort, getText } from './cli.js';
import { underLoad, waitFor, type LoadWindow } from './load.js';
import type { PrivateEngine } from './private-engine.js';
import type { SmallDisk } from './small-disk.js';

export const RATE = 200;
export const CONVERGE_LIMIT_MS = 30_000;

export interface FaultRow {
  scenario: string;
  requests: number;
  failed: number;
  convergeMs: number;
  leftover: number;
  outcome: string;
  /** Why some requests failed, where they may. */
  note?: string;
}

export interface FaultResult {
  row: FaultRow;
  load: LoadWindow;
  /** Scenario-specific facts the tests assert on. */
  facts: Record<string, unknown>;
}

const V = (tag: string): string => `hotswap-fixture:${tag}`;

/** The fixture version the service does not serve now: the target of the next rollout. */
async function otherVersion(b: FaultBench): Promise<string> {
  return (await getText(b.url)).version === 'v1' ? 'v2' : 'v1';
}

async function rowOf(
  b: FaultBench,
  scenario: string,
  load: LoadWindow,
  convergeMs: number,
  outcome: string,
  note?: string,
): Promise<FaultRow> {
  // Counted once the service is at rest again: an instance the health monitor is replacing
  // right now (a loaded machine) is not left over.
  await waitFor('at rest', () => b.converged(), CONVERGE_LIMIT_MS).catch(() => null);
  const row: FaultRow = {
    scenario,
    requests: load.all.sent,
    failed: load.all.failed,
    convergeMs,
    leftover: await b.leftover(),
    outcome,
  };
  if (note !== undefined) row.note = note;
  return row;
}

function rolloutOutcome(s: { status: string; reason: string | null } | null | undefined): string {
  if (!s) return 'no rollout';
  return s.status === 'succeeded' ? 'finished' : `undone (${s.reason ?? s.status})`;
}

/** The service serves `version` on every replica: the state each scenario starts from. */
export async function setUp(b: FaultBench, version = 'v1'): Promise<void> {
  const r = await b.up(V(version), ROLLING);
  assert.equal(r.code, 0, r.stderr + r.stdout);
  await waitFor('converged', () => b.converged(), CONVERGE_LIMIT_MS);
}

export async function sigkillMidRolling(b: FaultBench): Promise<FaultResult> {
  const target = await otherVersion(b);
  let convergeMs = 0;
  let resumed = 0;
  const load = await underLoad(b.url, RATE, async () => {
    const before = await b.lastRolloutId();
    const rollout = b.up(V(target), ROLLING);
    // Killed once the first new instance is healthy: the rollout is a third of the way.
    await waitFor('a new instance ready', () => b.journaled('instance.ready', before));
    b.killDaemon();
    const t0 = Date.now();
    await rollout; // the CLI loses its daemon: its exit code says nothing about the rollout
    await b.startDaemon(); // what systemd (or the next mutating verb) does
    await waitFor('converged', () => b.converged(), CONVERGE_LIMIT_MS);
    convergeMs = Date.now() - t0;
    resumed = await b.count(
      `SELECT count(*) AS n FROM journal WHERE event = 'rollout.resumed' AND rollout_id > ${before}`,
    );
  });
  const s = await b.status();
  return {
    row: await rowOf(b, 'SIGKILL daemon mid rolling update', load, convergeMs, 'resumed, finished'),
    load,
    facts: { target, resumed, lastRollout: s.lastRollout },
  };
}

export async function sigkillAtCanaryPause(b: FaultBench): Promise<FaultResult> {
  const stable = (await b.status()).stableRevision;
  let convergeMs = 0;
  let reattached = false;
  let split: Record<string, number> = {};
  const load = await underLoad(b.url, RATE, async () => {
    const before = await b.lastRolloutId();
    const rollout = b.up(V(await otherVersion(b)), CANARY_PAUSED);
    await waitFor('the canary at its pause', () => b.atPause(before), 30_000);
    b.killDaemon();
    const t0 = Date.now();
    await rollout;
    await b.startDaemon();
    const st = await waitFor('the rollout re-attached', async () => {
      const r = JSON.parse((await b.cli(['rollout', 'status', 'web', '--json'])).stdout) as {
        active: boolean;
        rollout: { status: string };
      };
      return r.active ? r : null;
    });
    reattached = st.rollout.status === 'running';
    split = (await b.status()).weights;
    const abort = await b.cli(['abort', 'web']);
    assert.equal(abort.code, 0, abort.stderr + abort.stdout);
    await waitFor('back on the stable revision', () => b.converged(stable!), CONVERGE_LIMIT_MS);
    convergeMs = Date.now() - t0;
  });
  const s = await b.status();
  return {
    row: await rowOf(
      b,
      'SIGKILL daemon at a canary pause, then abort',
      load,
      convergeMs,
      'paused again; aborted',
    ),
    load,
    facts: { reattached, split, lastRollout: s.lastRollout },
  };
}

export async function sigkillBlueGreenPreview(b: FaultBench): Promise<FaultResult> {
  const preview = await freePort();
  const target = await otherVersion(b);
  let convergeMs = 0;
  let previewServed = false;
  const load = await underLoad(b.url, RATE, async () => {
    const before = await b.lastRolloutId();
    const rollout = b.up(V(target), blueGreen(preview));
    await waitFor('the preview waiting for promotion', () => b.atPause(before), 30_000);
    b.killDaemon();
    const t0 = Date.now();
    await rollout;
    await b.startDaemon();
    await waitFor('the rollout re-attached', async () => {
      const r = JSON.parse((await b.cli(['rollout', 'status', 'web', '--json'])).stdout) as {
        active: boolean;
      };
      return r.active;
    });
    previewServed = (await getText(`http://127.0.0.1:${preview}/`)).version === target;
    const promote = await b.cli(['promote', 'web']);
    assert.equal(promote.code, 0, promote.stderr + promote.stdout);
    await waitFor('promoted', () => b.converged(), CONVERGE_LIMIT_MS);
    convergeMs = Date.now() - t0;
  });
  return {
    row: await rowOf(
      b,
      'SIGKILL daemon during a blue-green preview, then promote',
      load,
      convergeMs,
      'preview kept; promoted',
    ),
    load,
    facts: { target, previewServed },
  };
}

export async function killInstance(b: FaultBench): Promise<FaultResult> {
  let convergeMs = 0;
  const victim = (await b.status()).instances.find((i) => i.serving)!.id;
  const load = await underLoad(b.url, RATE, async () => {
    const t0 = Date.now();
    await b.docker.containers.kill(victim, { signal: 'SIGKILL' });
    await waitFor(
      'replaced',
      async () => !(await b.status()).instances.some((i) => i.id === victim) && b.converged(),
      CONVERGE_LIMIT_MS,
    );
    convergeMs = Date.now() - t0;
  });
  return {
    row: await rowOf(
      b,
      "kill an instance's process",
      load,
      convergeMs,
      'replaced',
      'in flight on the killed process',
    ),
    load,
    facts: { victim },
  };
}

export async function orphans(b: FaultBench, foreignScope: string): Promise<FaultResult> {
  const revision = (await b.status()).stableRevision!;
  const request = (service: string) => ({
    service,
    revision,
    image: V('v1'),
    env: {},
    command: null,
    port: 8080,
    volumes: [],
    stopGracePeriodMs: 0,
  });
  const mine = new DockerRuntime({ client: b.docker, scope: b.paths.scope });
  const foreign = new DockerRuntime({ client: b.docker, scope: foreignScope });
  let convergeMs = 0;
  let foreignState: string | undefined;
  const load = await underLoad(b.url, RATE, async () => {
    const t0 = Date.now();
    const strays = await Promise.all([
      mine.startInstance(request('web')),
      mine.startInstance(request('ghost')),
    ]);
    const other = await foreign.startInstance(request('web'));
    try {
      await waitFor(
        'strays removed',
        async () => {
          const left = await Promise.all(strays.map((x) => mine.inspectInstance(x.id)));
          return left.every((x) => x === null) && b.converged();
        },
        CONVERGE_LIMIT_MS,
      );
      convergeMs = Date.now() - t0;
      foreignState = (await foreign.inspectInstance(other.id))?.state;
    } finally {
      // The other home's container is this scenario's own object: it goes with it.
      await foreign.removeInstance(other.id).catch(() => undefined);
    }
  });
  return {
    row: await rowOf(
      b,
      'orphans of this home (another home untouched)',
      load,
      convergeMs,
      'removed',
    ),
    load,
    facts: { foreignState },
  };
}

export async function proxyWithoutRoutes(b: FaultBench): Promise<FaultResult> {
  const proxy = new ProxyClient({ socketPath: b.paths.proxySocket });
  const before = (await b.status()).instances.map((i) => i.id).sort();
  let convergeMs = 0;
  const load = await underLoad(b.url, RATE, async () => {
    const { pid } = await proxy.health();
    rmSync(b.paths.routesFile, { force: true });
    const t0 = Date.now();
    process.kill(pid, 'SIGKILL');
    await waitFor(
      'served again',
      async () => (await getText(b.url)).status === 200 && b.converged(),
      CONVERGE_LIMIT_MS,
    );
    convergeMs = Date.now() - t0;
  });
  const after = (await b.status()).instances.map((i) => i.id).sort();
  return {
    row: await rowOf(
      b,
      'SIGKILL proxy + routes.json lost',
      load,
      convergeMs,
      'routes pushed again, instances adopted',
      'while no proxy ran',
    ),
    load,
    facts: { before, after },
  };
}

export async function sigkillDaemonAndProxy(b: FaultBench): Promise<FaultResult> {
  const proxy = new ProxyClient({ socketPath: b.paths.proxySocket });
  const before = (await b.status()).instances.map((i) => i.id).sort();
  let convergeMs = 0;
  let downMs = 0;
  const load = await underLoad(b.url, RATE, async () => {
    const { pid } = await proxy.health();
    const t0 = Date.now();
    b.killDaemon();
    process.kill(pid, 'SIGKILL');
    await b.startDaemon(); // what systemd (or the next mutating verb) does
    await waitFor('served again', async () => (await getText(b.url)).status === 200);
    downMs = Date.now() - t0;
    await waitFor('converged', () => b.converged(), CONVERGE_LIMIT_MS);
    convergeMs = Date.now() - t0;
  });
  const after = (await b.status()).instances.map((i) => i.id).sort();
  return {
    row: await rowOf(
      b,
      'SIGKILL daemon + proxy together',
      load,
      convergeMs,
      'both back, instances adopted',
      `the ${downMs} ms without a proxy`,
    ),
    load,
    facts: { before, after, downMs },
  };
}

/** The proxy's pid, as the daemon knows it (the proxy itself may be hung). */
async function proxyPid(b: FaultBench): Promise<number> {
  const r = await b.cli(['proxy', 'status', '--json']);
  assert.equal(r.code, 0, r.stderr);
  return (JSON.parse(r.stdout) as { pid: number }).pid;
}

/** SIGSTOP of the proxy: the daemon finds it hung, kills it and starts another. */
export async function hungProxy(b: FaultBench): Promise<FaultResult> {
  const oldPid = await proxyPid(b);
  let convergeMs = 0;
  let newPid = 0;
  const load = await underLoad(b.url, RATE, async () => {
    const t0 = Date.now();
    process.kill(oldPid, 'SIGSTOP');
    try {
      newPid = await waitFor(
        'a new proxy',
        async () => {
          const pid = await proxyPid(b);
          return pid !== oldPid && pid;
        },
        CONVERGE_LIMIT_MS,
      );
    } finally {
      if (newPid === 0) process.kill(oldPid, 'SIGCONT');
    }
    await waitFor('converged', () => b.converged(), CONVERGE_LIMIT_MS);
    convergeMs = Date.now() - t0;
  });
  const stoppedAt = load.actionStart;
  const { samples } = load;
  // Served again: the first success after which no request fails.
  const okAfter = samples
    .filter((x) => x.ok && x.at + x.latencyMs > stoppedAt)
    .map((x) => x.at + x.latencyMs)
    .filter((t) => samples.every((x) => x.ok || x.at + x.latencyMs <= t || x.at < stoppedAt));
  const servedAgainMs = Math.round(Math.min(...okAfter) - stoppedAt);
  const log = readFileSync(b.paths.daemonLog, 'utf8');
  const decision = /proxy pid \d+ serves, (\d+) ms after the decision/.exec(
    log.slice(log.lastIndexOf('answered nothing on its control socket')),
  );
  return {
    row: await rowOf(
      b,
      'SIGSTOP proxy (hung): replaced',
      load,
      convergeMs,
      `replaced; served again ${servedAgainMs} ms after SIGSTOP` +
        (decision ? `, ${decision[1]} ms after the decision` : ''),
      'while the proxy was stopped',
    ),
    load,
    facts: {
      oldPid,
      newPid,
      stoppedAt,
      servedAgainMs,
      decisionMs: decision ? Number(decision[1]) : null,
    },
  };
}

/** Whether the containers that served before a dockerd restart run again after it. */
async function survivors(b: FaultBench, ids: string[]): Promise<number> {
  const all = await b.scopeContainers();
  return all.filter((c) => ids.includes(c.Id) && c.State === 'running').length;
}

/** dockerd stopped (SIGTERM) and started again while the service is at rest. */
export async function dockerdRestartAtRest(
  b: FaultBench,
  engine: PrivateEngine,
): Promise<FaultResult> {
  const before = (await b.status()).instances.map((i) => i.id);
  let convergeMs = 0;
  let outageMs = 0;
  let survived = 0;
  const load = await underLoad(b.url, RATE, async () => {
    const t0 = Date.now();
    await engine.stop();
    await engine.start();
    outageMs = Date.now() - t0;
    survived = await survivors(b, before);
    await waitFor('back to its replicas', () => b.converged(), CONVERGE_LIMIT_MS);
    convergeMs = Date.now() - t0;
  });
  const after = (await b.status()).instances.map((i) => i.id);
  const kept = after.filter((id) => before.includes(id)).length;
  return {
    row: await rowOf(
      b,
      `restart dockerd at rest${engine.liveRestore ? ', live-restore on' : ''}`,
      load,
      convergeMs,
      `${survived}/${before.length} survived the restart, ${kept} serve again, ` +
        `${after.length - kept} started by the daemon`,
      // docker-proxy, which serves the instances' 127.0.0.1 ports, dies with dockerd even when
      // live-restore keeps the containers running.
      `${survived === 0 ? 'no instance ran' : 'their ports (docker-proxy) went with dockerd'}; engine down ${(outageMs / 1000).toFixed(1)} s`,
    ),
    load,
    facts: { before, after, survived, outageMs },
  };
}

/** dockerd stopped and started again in the middle of a rolling update. */
export async function dockerdRestartMidRollout(
  b: FaultBench,
  engine: PrivateEngine,
): Promise<FaultResult> {
  const target = await otherVersion(b);
  const stable = (await b.status()).stableRevision;
  let convergeMs = 0;
  let outageMs = 0;
  let cli = -1;
  const load = await underLoad(b.url, RATE, async () => {
    const before = await b.lastRolloutId();
    const rollout = b.up(V(target), ROLLING);
    await waitFor('a new instance ready', () => b.journaled('instance.ready', before));
    const t0 = Date.now();
    await engine.stop();
    await engine.start();
    outageMs = Date.now() - t0;
    cli = (await rollout).code;
    await waitFor('one consistent outcome', () => b.converged(), CONVERGE_LIMIT_MS);
    convergeMs = Date.now() - t0;
  });
  const s = await b.status();
  const finished = s.lastRollout?.status === 'succeeded';
  return {
    row: await rowOf(
      b,
      'restart dockerd mid rolling update',
      load,
      convergeMs,
      rolloutOutcome(s.lastRollout),
      `no instance ran; engine down ${(outageMs / 1000).toFixed(1)} s`,
    ),
    load,
    facts: {
      cli,
      finished,
      stableBefore: stable,
      stableAfter: s.stableRevision,
      version: (await getText(b.url)).version,
      target,
      lastRollout: s.lastRollout,
    },
  };
}

/**
 * The home's file system fills up while a canary waits at its pause; then `abort`. Traffic must go
 * back to the stable revision while the disk is full; once it has room, the store catches up.
 */
export async function fullDiskAtCanaryPause(b: FaultBench, disk: SmallDisk): Promise<FaultResult> {
  const stable = (await b.status()).stableRevision!;
  let convergeMs = 0;
  let catchUpMs = 0;
  let abort = { code: -1, out: '' };
  let up = { code: -1, out: '' };
  let statusWhileFull = '';
  let filled = 0;
  const load = await underLoad(b.url, RATE, async () => {
    const before = await b.lastRolloutId();
    const rollout = b.up(V(await otherVersion(b)), CANARY_PAUSED);
    await waitFor('the canary at its pause', () => b.atPause(before), 30_000);
    filled = disk.fill();
    const t0 = Date.now();
    const r = await b.cli(['abort', 'web']);
    abort = { code: r.code, out: r.stderr + r.stdout };
    const u = await rollout;
    up = { code: u.code, out: (u.stderr + u.stdout).split('\n').slice(-4).join('\n') };
    await waitFor('traffic back on the stable revision', () => b.serves(stable), CONVERGE_LIMIT_MS);
    convergeMs = Date.now() - t0;
    statusWhileFull = (await b.cli(['status'])).stdout;
    disk.free();
    const t1 = Date.now();
    await waitFor('the store caught up', () => b.converged(stable), CONVERGE_LIMIT_MS);
    catchUpMs = Date.now() - t1;
  });
  const s = await b.status();
  return {
    row: await rowOf(
      b,
      'full home disk (ENOSPC) at a canary pause, then abort',
      load,
      convergeMs,
      `back on r${stable} while full; error in status; store caught up ${(catchUpMs / 1000).toFixed(1)} s after space was freed`,
    ),
    load,
    facts: { abort, up, statusWhileFull, filled, lastRollout: s.lastRollout },
  };
}
