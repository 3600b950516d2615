// Issue 12 end to end: the control plane survives its own crashes. Under a fixed-rate load
// through the proxy, the daemon is SIGKILLed in the middle of a rolling update and while a
// canary waits at its pause; a new daemon must bring the service to one consistent state within
// 30 s with zero failed requests and no container left over. An instance whose process is
// killed is replaced. Each case prints one row of the fault matrix; the scenarios live in
// test/helpers/fault-scenarios.ts, shared with `npm run faults`.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { ensureFixtures, requireEngine, uniqueScope, cleanupScope } from '../helpers/docker.js';
import { FaultBench, ROLLING } from '../helpers/fault-bench.js';
import {
  CONVERGE_LIMIT_MS,
  killInstance,
  orphans,
  proxyWithoutRoutes,
  setUp,
  sigkillAtCanaryPause,
  sigkillBlueGreenPreview,
  sigkillDaemonAndProxy,
  sigkillMidRolling,
  type FaultRow,
} from '../helpers/fault-scenarios.js';
import { formatRows } from '../helpers/fault-table.js';

describe('a daemon that survives its own crashes, on the real engine', () => {
  const rows: FaultRow[] = [];
  let b!: FaultBench;

  before(async () => {
    const engine = await requireEngine();
    await ensureFixtures();
    b = await FaultBench.create({ socketPath: engine.socketPath });
    await setUp(b, 'v1');
  });

  after(async () => {
    console.log(formatRows(rows));
    await b.close();
  });

  test('SIGKILL of the daemon mid rolling update: resumed to the end', async () => {
    const r = await sigkillMidRolling(b);
    rows.push(r.row);
    const f = r.facts as { target: string; resumed: number; lastRollout: { status: string } };
    assert.equal(r.row.failed, 0, JSON.stringify(r.load.all.errors));
    assert.ok(r.row.convergeMs <= CONVERGE_LIMIT_MS);
    assert.deepEqual(Object.keys(r.load.afterwards.versions), [f.target]);
    assert.equal(f.lastRollout.status, 'succeeded');
    assert.equal(f.resumed, 1, 'the rollout was picked up by the new daemon');
  });

  test('SIGKILL of the daemon while a canary waits at its pause: still paused, answers abort', async () => {
    const r = await sigkillAtCanaryPause(b);
    rows.push(r.row);
    const f = r.facts as {
      reattached: boolean;
      split: Record<string, number>;
      lastRollout: { status: string; reason: string | null };
    };
    assert.ok(f.reattached);
    assert.equal(Object.values(f.split).filter((w) => w > 0).length, 2, JSON.stringify(f.split));
    assert.equal(r.row.failed, 0, JSON.stringify(r.load.all.errors));
    assert.ok(r.row.convergeMs <= CONVERGE_LIMIT_MS);
    assert.equal(f.lastRollout.status, 'failed');
    assert.match(f.lastRollout.reason ?? '', /aborted by user/);
  });

  test('an instance whose process is killed is replaced', async () => {
    const r = await killInstance(b);
    rows.push(r.row);
    assert.ok(r.row.convergeMs <= CONVERGE_LIMIT_MS);
    // Requests in flight on the killed process may fail; nothing else does.
    assert.ok(r.row.failed <= 20, JSON.stringify(r.load.all.errors));
  });

  test("containers of this home nobody knows are removed; another home's are not touched", async () => {
    const foreignScope = uniqueScope('foreign');
    try {
      const r = await orphans(b, foreignScope);
      rows.push(r.row);
      assert.equal((r.facts as { foreignState?: string }).foreignState, 'running');
      assert.equal(r.row.failed, 0, JSON.stringify(r.load.all.errors));
    } finally {
      await cleanupScope(foreignScope);
    }
  });

  test('a proxy restarted without its routes.json gets the routes back, same instances', async () => {
    const r = await proxyWithoutRoutes(b);
    rows.push(r.row);
    const f = r.facts as { before: string[]; after: string[] };
    assert.equal(r.load.afterwards.failed, 0, JSON.stringify(r.load.afterwards.errors));
    assert.deepEqual(f.after, f.before);
    // The next up finds everything in place: nothing restarts.
    const version = Object.keys(r.load.afterwards.versions)[0]!;
    const again = await b.up(`hotswap-fixture:${version}`, ROLLING);
    assert.equal(again.code, 0, again.stderr + again.stdout);
    assert.deepEqual((await b.status()).instances.map((i) => i.id).sort(), f.before);
  });

  test('SIGKILL of the daemon during a blue-green preview: the preview stays, promote ends it', async () => {
    const r = await sigkillBlueGreenPreview(b);
    rows.push(r.row);
    const f = r.facts as { target: string; previewServed: boolean };
    assert.ok(f.previewServed, 'the preview listener served the new revision after the restart');
    assert.equal(r.row.failed, 0, JSON.stringify(r.load.all.errors));
    assert.deepEqual(Object.keys(r.load.afterwards.versions), [f.target]);
    assert.ok(r.row.convergeMs <= CONVERGE_LIMIT_MS);
  });

  test('SIGKILL of the daemon and the proxy together: a new daemon brings both back', async () => {
    const r = await sigkillDaemonAndProxy(b);
    rows.push(r.row);
    const f = r.facts as { before: string[]; after: string[] };
    assert.equal(r.load.afterwards.failed, 0, JSON.stringify(r.load.afterwards.errors));
    assert.deepEqual(f.after, f.before);
    assert.ok(r.row.convergeMs <= CONVERGE_LIMIT_MS);
  });
});
