// The reconcile loop at rest, against in-memory fakes: what the proxy lost is pushed again,
// what nobody knows is removed, what died is replaced, and a crash loop is reported.
import assert from 'node:assert/strict';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, beforeEach, test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { sampleService } from '../spec/sample.js';
import { Store } from '../store/index.js';
import { Controller } from './controller.js';
import { silentReporter } from './progress.js';
import { FakeWorld } from './test-support.js';

const world = new FakeWorld();
before(() => world.open());
after(() => world.close());

let store: Store;
let c: Controller;
const base = sampleService();
const spec = sampleService({
  image: 'img:v1',
  replicas: 3,
  health: { ...base.health, intervalMs: 5, deadlineMs: 1000 },
  drain: { ...base.drain, timeoutMs: 0 },
});

beforeEach(async () => {
  c?.close({ abortRollouts: true });
  world.containers.clear();
  world.crashing.clear();
  world.routes = { version: 1, services: {} };
  world.images.add('img:v1');
  store = Store.open(join(mkdtempSync(join(tmpdir(), 'hotswap-reconcile-')), 'hotswap.db'));
  const v = world.view();
  c = new Controller(v.runtime, v.router, store, { reconcileIntervalMs: 60_000 });
  await c.apply({ file: 't', services: [spec] }, undefined, silentReporter);
});
after(() => c?.close({ abortRollouts: true }));

const backends = (): string[] =>
  (world.routes.services.web?.backends ?? []).map((b) => b.id).sort();
const events = (): string[] => store.journal.list({ limit: 10_000 }).map((e) => e.event);

test('a proxy that lost its routes gets them back, with the same instances (no cold start)', async () => {
  const before = backends();
  world.routes = { version: 1, services: {} };
  await c.reconcileNow('test');
  assert.deepEqual(backends(), before);
  assert.deepEqual(world.routes.services.web?.weights, { 1: 3 });
  assert.ok(events().includes('route.restored'));
  assert.equal(events().filter((e) => e === 'instance.adopted').length, 3);
  assert.equal(world.containers.size, 3);
});

test('containers and routes nobody knows are removed; weights that differ are set again', async () => {
  const v = world.view();
  const stray = await v.runtime.startInstance({
    service: 'web',
    revision: 1,
    image: 'img:v1',
    env: {},
    command: null,
    port: 8080,
    volumes: [],
    stopGracePeriodMs: 0,
  });
  const ghost = await v.runtime.startInstance({
    service: 'ghost',
    revision: 4,
    image: 'img:v1',
    env: {},
    command: null,
    port: 8080,
    volumes: [],
    stopGracePeriodMs: 0,
  });
  await v.router.ensureService('ghost', { listen: '127.0.0.1:1' });
  await v.router.addBackend('ghost', { id: ghost.id, revision: 4, address: world.address });
  world.routes.services.web!.weights = { 1: 1, 7: 5 };
  await c.reconcileNow('test');
  assert.equal(world.containers.has(stray.id), false);
  assert.equal(world.containers.has(ghost.id), false);
  assert.equal(world.routes.services.ghost, undefined);
  assert.deepEqual(world.routes.services.web?.weights, { 1: 3 });
  assert.equal(world.containers.size, 3);
  const reasons = store.journal
    .list({ limit: 10_000 })
    .filter((e) => e.event.startsWith('orphan') || e.event.startsWith('route.removed'))
    .map((e) => (e.data as { reason?: string }).reason);
  assert.equal(reasons.length, 3);
  assert.ok(reasons.every((r) => typeof r === 'string' && r.length > 0));
});

test('an instance that exits is replaced by a new one of the same revision', async () => {
  const [victim] = backends();
  world.kill(victim!);
  await c.reconcileNow('test');
  assert.equal(backends().length, 3);
  assert.ok(!backends().includes(victim!));
  assert.equal(world.containers.has(victim!), false);
  assert.ok([...world.containers.values()].every((i) => i.revision === 1 && i.state === 'running'));
  assert.ok(events().includes('instance.exited'));
  assert.ok(events().includes('instances.replacing'));
});

test('all instances gone (a dockerd restart) come back to the declared replicas', async () => {
  for (const id of backends()) world.kill(id);
  await c.reconcileNow('test');
  assert.equal(backends().length, 3);
  assert.equal(world.running('web').length, 3);
});

test('a crash loop backs off and marks the service degraded', async () => {
  world.crashing.add(1);
  for (let i = 0; i < 4; i++) {
    for (const id of backends()) world.kill(id);
    await c.reconcileNow('test');
    await sleep(1100); // past the first backoff steps
  }
  const [status] = await c.status();
  assert.match(status?.degraded ?? '', /failures in a row/);
  assert.ok(events().includes('service.degraded'));
  assert.ok(events().includes('instances.backoff') || events().includes('instances.replacing'));
  world.crashing.clear();
});

test('a dockerd restart mid-rollout ends in one consistent outcome, then full strength', async () => {
  world.images.add('img:v2');
  const v = world.view();
  const c2 = new Controller(v.runtime, v.router, store, {
    reconcileIntervalMs: 60_000,
    undoDeadlineMs: 5000,
  });
  const rollout = c2.apply(
    { file: 't', services: [{ ...spec, image: 'img:v2' }] },
    undefined,
    silentReporter,
  );
  while (!events().includes('instance.ready') || store.rollouts.unfinished().length === 0)
    await sleep(1);
  // The engine goes away and takes every container with it; it is back 300 ms later.
  world.dockerDown = true;
  for (const id of [...world.containers.keys()]) world.kill(id);
  setTimeout(() => (world.dockerDown = false), 300);
  const [r] = await rollout;
  console.log(
    'dockerd restart mid-rollout:',
    r?.outcome,
    r?.reason,
    events()
      .filter((e) => e.startsWith('rollback'))
      .join(),
  );
  assert.equal(store.rollouts.unfinished().length, 0);
  const stable = store.services.get('web')!.stableRevision;
  assert.equal(stable, r!.outcome === 'succeeded' ? 2 : 1);
  const deadline = Date.now() + 10_000;
  while (world.running('web').length !== 3 || backends().length !== 3) {
    assert.ok(Date.now() < deadline, `not back: ${JSON.stringify(world.routes.services.web)}`);
    await c2.reconcileNow('test');
    await sleep(10);
  }
  assert.ok(world.running('web').every((i) => i.revision === stable));
  assert.equal(world.containers.size, 3);
  assert.ok(events().includes('rollback.retry') || r!.outcome === 'succeeded');
  c2.close({ abortRollouts: true });
});

test('while writes wait for room on a full disk, the loop does not act on the stale store', async () => {
  const before = backends();
  let room = false;
  store.writes.run(() => {
    if (!room) throw Object.assign(new Error('database or disk is full'), { code: 'SQLITE_FULL' });
  });
  world.routes = { version: 1, services: {} };
  await c.reconcileNow('test');
  assert.deepEqual(backends(), [], 'nothing pushed while the store is behind');
  assert.match(c.storeWarning() ?? '', /the store cannot write .*disk is full/);
  room = true;
  await c.reconcileNow('test');
  assert.deepEqual(backends(), before);
  assert.equal(c.storeWarning(), null);
});
