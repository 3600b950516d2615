// Issue 12 end to end: the control plane survives its own crashes. Under a fixed-rate load
// through the proxy, the daemon is SIGKILLed in the middle of a rolling update and while a
// canary waits at its pause; a new daemon must bring the service to one consistent state within
// 30 s with zero failed requests and no container left over. An instance whose process is
// killed is replaced. Each case prints one row of figures.
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import Database from 'better-sqlite3';
import { homePaths } from '../../src/daemon/paths.js';
import { ProxyClient } from '../../src/proxy/index.js';
import { DockerClient, DockerRuntime, LABEL_SCOPE } from '../../src/runtime/index.js';
import { cleanupScope, ensureFixtures, requireEngine, uniqueScope } from '../helpers/docker.js';
import { freePort, getText, hotswap, startDaemon, type CliResult } from '../helpers/cli.js';
import { underLoad, waitFor } from '../helpers/load.js';

const RATE = 200;
const CONVERGE_LIMIT_MS = 30_000;

function specText(port: number, image: string, strategy: string): string {
  return `services:
  web:
    image: ${image}
    replicas: 3
    port: 8080
    listen: 127.0.0.1:${port}
    health: { http: /healthz, interval: 200ms, timeout: 1s, healthyThreshold: 2, deadline: 10s }
    strategy: ${strategy}
    drain: { timeout: 5s }
    stopGracePeriod: 5s
`;
}
const ROLLING = '{ type: rolling, maxSurge: 1, maxUnavailable: 0 }';
const CANARY = '{ type: canary, steps: [{ setWeight: 50 }, { pause: {} }] }';
const blueGreen = (preview: number): string =>
  `{ type: blue-green, previewListen: 127.0.0.1:${preview}, scaleDownDelay: 0s }`;

interface Status {
  services: Array<{
    stableRevision: number | null;
    weights: Record<string, number>;
    busy: string | null;
    instances: Array<{ id: string; revision: number; state: string; serving: boolean }>;
    lastRollout: { id: number; status: string; reason: string | null } | null;
  }>;
}

describe('a daemon that survives its own crashes, on the real engine', () => {
  const home = mkdtempSync(join(tmpdir(), 'hotswap-recovery-'));
  const paths = homePaths(home);
  const file = join(mkdtempSync(join(tmpdir(), 'hotswap-recovery-spec-')), 'hotswap.yaml');
  const rows: string[] = [];
  let port = 0;
  let url = '';
  let docker!: DockerClient;

  const up = (image: string, strategy: string): Promise<CliResult> => {
    writeFileSync(file, specText(port, image, strategy));
    return hotswap(home, ['up', '-f', file]);
  };
  const status = async (): Promise<Status['services'][number]> =>
    (JSON.parse((await hotswap(home, ['status', '--json'])).stdout) as Status).services[0]!;
  const scopeContainers = async (): Promise<Array<{ Id: string; State: string }>> =>
    docker.containers.list({ all: true, labels: [`${LABEL_SCOPE}=${paths.scope}`] });
  /** Rows of the store, read beside the daemon (WAL lets a reader in). */
  const query = <T>(sql: string): T | undefined => {
    const db = new Database(paths.dbFile, { readonly: true, fileMustExist: true });
    try {
      return db.prepare(sql).get() as T | undefined;
    } finally {
      db.close();
    }
  };
  const count = (sql: string): Promise<number> =>
    Promise.resolve(query<{ n: number }>(sql)?.n ?? 0);
  const lastRolloutId = (): number =>
    query<{ id: number | null }>('SELECT max(id) AS id FROM rollouts')?.id ?? 0;
  const killDaemon = (): void => {
    process.kill(Number(readFileSync(paths.daemonPid, 'utf8')), 'SIGKILL');
  };
  /** Null once one revision serves every replica, nothing runs, and no container is left over. */
  const converged = async (revision?: number): Promise<{ leftover: number } | null> => {
    const s = await status();
    if (s.busy !== null || s.lastRollout?.status === 'running') return null;
    revision ??= s.lastRollout?.status === 'succeeded' ? (s.stableRevision ?? 0) : -1;
    if (s.stableRevision !== revision) return null;
    const serving = s.instances.filter((i) => i.serving);
    if (serving.length !== 3 || serving.some((i) => i.revision !== revision)) return null;
    const positive = Object.entries(s.weights).filter(([, w]) => w > 0);
    if (positive.length !== 1 || positive[0]![0] !== String(revision)) return null;
    const leftover = (await scopeContainers()).length - 3;
    return leftover === 0 ? { leftover } : null;
  };
  const row = (
    name: string,
    m: { all: { sent: number; failed: number } },
    ms: number,
    extra = '',
  ): void => {
    const line = `| ${name} | ${m.all.sent} | ${m.all.failed} | ${(ms / 1000).toFixed(1)} s | 0 |${extra}`;
    rows.push(line);
    console.log(line);
  };

  before(async () => {
    const engine = await requireEngine();
    await ensureFixtures();
    docker = new DockerClient({ socketPath: engine.socketPath });
    port = await freePort();
    url = `http://127.0.0.1:${port}/`;
    const r = await up('hotswap-fixture:v1', ROLLING);
    assert.equal(r.code, 0, r.stderr + r.stdout);
    assert.equal((await getText(url)).version, 'v1');
  });

  after(async () => {
    console.log(
      ['| case | requests | failed | converged (from the kill) | containers left |', ...rows].join(
        '\n',
      ),
    );
    await hotswap(home, ['down']);
    await cleanupScope(paths.scope);
    await docker.close();
  });

  test('SIGKILL of the daemon mid rolling update: resumed to the end', async () => {
    let convergeMs = 0;
    const m = await underLoad(url, RATE, async () => {
      const before = lastRolloutId();
      const rollout = up('hotswap-fixture:v2', ROLLING);
      // Killed once the first new instance is healthy: the rollout is a third of the way.
      await waitFor(
        'a new instance ready',
        async () =>
          (await count(
            `SELECT count(*) AS n FROM journal WHERE event = 'instance.ready' AND rollout_id > ${before}`,
          )) >= 1,
      );
      killDaemon();
      const t0 = Date.now();
      await rollout; // the CLI loses its daemon: its exit code says nothing about the rollout
      await startDaemon(home); // what systemd (or the next mutating verb) does
      await waitFor('converged on r2', () => converged(2), CONVERGE_LIMIT_MS);
      convergeMs = Date.now() - t0;
    });
    row('SIGKILL daemon mid rolling update', m, convergeMs);
    assert.equal(m.all.failed, 0, JSON.stringify(m.all.errors));
    assert.ok(convergeMs <= CONVERGE_LIMIT_MS);
    assert.deepEqual(Object.keys(m.afterwards.versions), ['v2']);
    const s = await status();
    assert.equal(s.lastRollout?.status, 'succeeded');
    const resumed = await count(
      `SELECT count(*) AS n FROM journal WHERE event = 'rollout.resumed' AND rollout_id = ${s.lastRollout?.id}`,
    );
    assert.equal(resumed, 1, 'the rollout was picked up by the new daemon');
  });

  test('SIGKILL of the daemon while a canary waits at its pause: still paused, answers abort', async () => {
    let convergeMs = 0;
    let reattached = false;
    const m = await underLoad(url, RATE, async () => {
      const before = lastRolloutId();
      const rollout = up('hotswap-fixture:v1', CANARY);
      await waitFor(
        'the canary at its pause',
        async () =>
          (await count(
            `SELECT count(*) AS n FROM rollout_steps WHERE kind = 'pause' AND status = 'running' AND rollout_id > ${before}`,
          )) === 1,
        30_000,
      );
      killDaemon();
      const t0 = Date.now();
      await rollout;
      await startDaemon(home);
      const st = await waitFor('the rollout re-attached', async () => {
        const r = JSON.parse(
          (await hotswap(home, ['rollout', 'status', 'web', '--json'])).stdout,
        ) as {
          active: boolean;
          rollout: { status: string };
        };
        return r.active ? r : null;
      });
      reattached = st.rollout.status === 'running';
      const split = (await status()).weights;
      assert.ok(Object.values(split).filter((w) => w > 0).length === 2, JSON.stringify(split));
      const abort = await hotswap(home, ['abort', 'web']);
      assert.equal(abort.code, 0, abort.stderr + abort.stdout);
      await waitFor('back on r2', () => converged(2), CONVERGE_LIMIT_MS);
      convergeMs = Date.now() - t0;
    });
    row('SIGKILL daemon at a canary pause, then abort', m, convergeMs);
    assert.ok(reattached);
    assert.equal(m.all.failed, 0, JSON.stringify(m.all.errors));
    assert.ok(convergeMs <= CONVERGE_LIMIT_MS);
    const s = await status();
    assert.equal(s.lastRollout?.status, 'failed');
    assert.match(s.lastRollout?.reason ?? '', /aborted by user/);
  });

  test('an instance whose process is killed is replaced', async () => {
    let convergeMs = 0;
    let victim = '';
    const m = await underLoad(url, RATE, async () => {
      victim = (await status()).instances.find((i) => i.serving)!.id;
      const t0 = Date.now();
      await docker.containers.kill(victim, { signal: 'SIGKILL' });
      await waitFor(
        'replaced',
        async () => {
          const s = await status();
          return !s.instances.some((i) => i.id === victim) && (await converged(2));
        },
        CONVERGE_LIMIT_MS,
      );
      convergeMs = Date.now() - t0;
    });
    row('kill an instance process', m, convergeMs, ' (replaced after the kill)');
    assert.ok(convergeMs <= CONVERGE_LIMIT_MS);
    // Requests in flight on the killed process may fail; nothing else does.
    assert.ok(m.all.failed <= 20, JSON.stringify(m.all.errors));
    await sleep(0);
  });
  test("containers of this home nobody knows are removed; another home's are not touched", async () => {
    const foreignScope = uniqueScope('foreign');
    const request = (service: string) => ({
      service,
      revision: 2,
      image: 'hotswap-fixture:v1',
      env: {},
      command: null,
      port: 8080,
      volumes: [],
      stopGracePeriodMs: 0,
    });
    const mine = new DockerRuntime({ client: docker, scope: paths.scope });
    const foreign = new DockerRuntime({ client: docker, scope: foreignScope });
    let convergeMs = 0;
    try {
      const m = await underLoad(url, RATE, async () => {
        const t0 = Date.now();
        const strays = await Promise.all([
          mine.startInstance(request('web')),
          mine.startInstance(request('ghost')),
        ]);
        const other = await foreign.startInstance(request('web'));
        await waitFor(
          'strays removed',
          async () => {
            const left = await Promise.all(strays.map((x) => mine.inspectInstance(x.id)));
            return left.every((x) => x === null) && (await converged(2));
          },
          CONVERGE_LIMIT_MS,
        );
        convergeMs = Date.now() - t0;
        assert.equal((await foreign.inspectInstance(other.id))?.state, 'running');
      });
      row('orphans of this home (another home untouched)', m, convergeMs);
      assert.equal(m.all.failed, 0, JSON.stringify(m.all.errors));
    } finally {
      await cleanupScope(foreignScope);
    }
  });

  test('a proxy restarted without its routes.json gets the routes back, same instances', async () => {
    const proxy = new ProxyClient({ socketPath: paths.proxySocket });
    const before = (await status()).instances.map((i) => i.id).sort();
    let convergeMs = 0;
    const m = await underLoad(url, RATE, async () => {
      const { pid } = await proxy.health();
      rmSync(paths.routesFile, { force: true });
      const t0 = Date.now();
      process.kill(pid, 'SIGKILL');
      await waitFor(
        'served again',
        async () => (await getText(url)).status === 200 && (await converged(2)),
        CONVERGE_LIMIT_MS,
      );
      convergeMs = Date.now() - t0;
    });
    row('SIGKILL proxy + routes.json lost', m, convergeMs, ' (failed: while no proxy ran)');
    assert.equal(m.afterwards.failed, 0, JSON.stringify(m.afterwards.errors));
    assert.deepEqual((await status()).instances.map((i) => i.id).sort(), before);
    // The next up finds everything in place: nothing restarts.
    const again = await up('hotswap-fixture:v2', ROLLING);
    assert.equal(again.code, 0, again.stderr + again.stdout);
    assert.deepEqual((await status()).instances.map((i) => i.id).sort(), before);
  });
  test('SIGKILL of the daemon during a blue-green preview: the preview stays, promote ends it', async () => {
    const preview = await freePort();
    let convergeMs = 0;
    let previewServed = false;
    const m = await underLoad(url, RATE, async () => {
      const before = lastRolloutId();
      const rollout = up('hotswap-fixture:v1', blueGreen(preview));
      await waitFor(
        'the preview waiting for promotion',
        async () =>
          (await count(
            `SELECT count(*) AS n FROM rollout_steps WHERE kind = 'pause' AND status = 'running' AND rollout_id > ${before}`,
          )) === 1,
        30_000,
      );
      killDaemon();
      const t0 = Date.now();
      await rollout;
      await startDaemon(home);
      await waitFor('the rollout re-attached', async () => {
        const r = JSON.parse(
          (await hotswap(home, ['rollout', 'status', 'web', '--json'])).stdout,
        ) as {
          active: boolean;
        };
        return r.active;
      });
      previewServed = (await getText(`http://127.0.0.1:${preview}/`)).version === 'v1';
      const promote = await hotswap(home, ['promote', 'web']);
      assert.equal(promote.code, 0, promote.stderr + promote.stdout);
      await waitFor('promoted', () => converged(), CONVERGE_LIMIT_MS);
      convergeMs = Date.now() - t0;
    });
    row('SIGKILL daemon during a blue-green preview, then promote', m, convergeMs);
    assert.ok(previewServed, 'the preview listener served the new revision after the restart');
    assert.equal(m.all.failed, 0, JSON.stringify(m.all.errors));
    assert.deepEqual(Object.keys(m.afterwards.versions), ['v1']);
    assert.ok(convergeMs <= CONVERGE_LIMIT_MS);
  });
  test('SIGKILL of the daemon and the proxy together: a new daemon brings both back', async () => {
    const proxy = new ProxyClient({ socketPath: paths.proxySocket });
    const before = (await status()).instances.map((i) => i.id).sort();
    let convergeMs = 0;
    let downMs = 0;
    const m = await underLoad(url, RATE, async () => {
      const { pid } = await proxy.health();
      const t0 = Date.now();
      killDaemon();
      process.kill(pid, 'SIGKILL');
      await startDaemon(home); // what systemd (or the next mutating verb) does
      await waitFor('served again', async () => (await getText(url)).status === 200);
      downMs = Date.now() - t0;
      await waitFor('converged', () => converged(), CONVERGE_LIMIT_MS);
      convergeMs = Date.now() - t0;
    });
    row(
      'SIGKILL daemon + proxy together',
      m,
      convergeMs,
      ` (failed: the ${downMs} ms without a proxy)`,
    );
    assert.equal(m.afterwards.failed, 0, JSON.stringify(m.afterwards.errors));
    assert.deepEqual((await status()).instances.map((i) => i.id).sort(), before);
    assert.ok(convergeMs <= CONVERGE_LIMIT_MS);
  });
});
