// Fault injection: the controller "crashes" after each journal entry of a rolling, a canary and
// a blue-green rollout; a new controller on the same store and the same (fake) world must bring
// the service to one consistent outcome: all of r2 (rollout succeeded) or all of r1 (failed).
import assert from 'node:assert/strict';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { sampleService } from '../spec/sample.js';
import type { ServiceSpec, StrategySpec } from '../spec/types.js';
import { Store } from '../store/index.js';
import { Controller } from './controller.js';
import { silentReporter } from './progress.js';
import { crashingStore, FakeWorld } from './test-support.js';
import { sameWeights } from './world.js';

const STRATEGIES: Record<string, StrategySpec> = {
  rolling: { type: 'rolling', maxSurge: 1, maxUnavailable: 0, analysis: null },
  canary: {
    type: 'canary',
    steps: [{ setWeight: 34 }, { pause: { durationMs: null } }, { setWeight: 67 }],
    canaryReplicas: 'follow',
  },
  'blue-green': {
    type: 'blue-green',
    previewListen: '127.0.0.1:9999',
    autoPromotionMs: null,
    prePromotionAnalysis: null,
    scaleDownDelayMs: 0,
  },
};

const OPTIONS = { reconcileIntervalMs: 20, undoDeadlineMs: 2000 };

function spec(strategy: StrategySpec, image: string): ServiceSpec {
  const base = sampleService();
  return sampleService({
    image,
    replicas: 3,
    strategy,
    health: { ...base.health, intervalMs: 5, deadlineMs: 2000 },
    drain: { ...base.drain, timeoutMs: 0 },
  });
}

const world = new FakeWorld();
before(() => world.open());
after(() => world.close());

interface Case {
  store: Store;
  strategy: StrategySpec;
}

/** A fresh store with r1 serving 3 instances, in a fresh world. */
async function atRest(strategy: StrategySpec): Promise<Case> {
  world.containers.clear();
  world.routes = { version: 1, services: {} };
  world.crashing.clear();
  world.images.add('img:v1').add('img:v2');
  const store = Store.open(join(mkdtempSync(join(tmpdir(), 'hotswap-faults-')), 'hotswap.db'));
  const v = world.view();
  const c = new Controller(v.runtime, v.router, store, OPTIONS);
  const [r] = await c.apply(
    { file: 't', services: [spec(strategy, 'img:v1')] },
    undefined,
    silentReporter,
  );
  assert.equal(r?.outcome, 'succeeded');
  c.close({ abortRollouts: true });
  return { store, strategy };
}

/** Promotes each pause step once, as a user at the terminal would. */
function promoter(c: Controller, store: Store): () => void {
  const done = new Set<number>();
  const timer = setInterval(() => {
    const r = store.rollouts.unfinished()[0];
    const step = r ? store.rollouts.steps(r.id).at(-1) : undefined;
    if (!step || step.kind !== 'pause' || step.status !== 'running' || done.has(step.id)) return;
    try {
      c.control('web', 'promote');
      done.add(step.id);
    } catch {
      // not registered yet (recovery still starting) or crashed: next tick
    }
  }, 5);
  return () => clearInterval(timer);
}

/** Null when the world and the store agree on one outcome; else what still differs. */
function divergence(store: Store): string | null {
  if (store.rollouts.unfinished().length > 0) return 'a rollout is still running';
  const svc = store.services.get('web');
  const stable = svc?.stableRevision;
  if (!svc || (stable !== 1 && stable !== 2)) return `stable revision ${stable}`;
  const last = store.rollouts.list('web', 1)[0]!;
  const expected = last.status === 'succeeded' ? last.toRevision : last.fromRevision;
  if (stable !== expected) return `last rollout ${last.status} with r${stable} stable`;
  const route = world.routes.services.web;
  if (!route) return 'no route';
  if (world.routes.services['web--preview']) return 'preview still open';
  const active = route.backends.filter((b) => b.state === 'active');
  if (active.length !== 3 || active.some((b) => b.revision !== stable))
    return `backends ${JSON.stringify(active.map((b) => b.revision))}`;
  if (active.some((b) => world.containers.get(b.id)?.state !== 'running'))
    return 'a backend does not run';
  if (!sameWeights(route.weights, { [stable]: 3 }))
    return `weights ${JSON.stringify(route.weights)}`;
  const ids = new Set([...active.map((b) => b.id), ...store.warm.list().map((w) => w.instanceId)]);
  const left = [...world.containers.values()].filter((c) => !ids.has(c.id));
  if (left.length > 0) return `${left.length} container(s) left over`;
  return null;
}

async function until(ok: () => boolean, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!ok()) {
    assert.ok(Date.now() < deadline, 'timed out');
    await sleep(5);
  }
}

async function converge(store: Store, c: Controller, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const why = divergence(store);
    if (why === null) return;
    if (Date.now() > deadline) {
      const tail = store.journal.list({ limit: 100_000 }).slice(-15);
      throw new Error(
        `did not converge: ${why}\n${tail.map((e) => `${e.event} ${JSON.stringify(e.data)}`).join('\n')}`,
      );
    }
    await c.reconcileNow('test');
    await sleep(10);
  }
}

/** r1 → r2 with a crash after `crashAfter` journal entries; false when the rollout ended first. */
async function crashDuring(
  k: Case,
  crashAfter: number | ((e: { event: string; data?: unknown }) => boolean),
): Promise<boolean> {
  const crash = crashingStore(k.store, crashAfter);
  const v = world.view(crash.alive);
  const c = new Controller(v.runtime, v.router, crash.store, OPTIONS);
  const stop = promoter(c, k.store);
  await c
    .apply({ file: 't', services: [spec(k.strategy, 'img:v2')] }, undefined, silentReporter)
    .catch(() => undefined);
  stop();
  c.close({ abortRollouts: true });
  return !crash.alive();
}

function restart(k: Case): Controller {
  const v = world.view();
  const c = new Controller(v.runtime, v.router, k.store, OPTIONS);
  c.start();
  return c;
}

const CASES = [
  ...Object.keys(STRATEGIES).map((name) => ({ name, bad: false })),
  // r2's instances exit at start: the rollout fails, and every crash point of its undo is hit.
  { name: 'rolling', bad: true },
  { name: 'canary', bad: true },
];

for (const { name, bad } of CASES) {
  const what = bad ? `${name} of a revision that crashes` : name;
  test(`${what}: a crash after any journal entry ends in one consistent outcome`, async () => {
    const outcomes: Record<string, number> = { r1: 0, r2: 0 };
    let n = 1;
    for (; n < 500; n++) {
      const k = await atRest(STRATEGIES[name]!);
      if (bad) world.crashing.add(2);
      if (!(await crashDuring(k, n))) break;
      const c = restart(k);
      const stop = promoter(c, k.store);
      try {
        await converge(k.store, c);
      } catch (err) {
        throw new Error(`crash after journal entry ${n}: ${(err as Error).message}`, {
          cause: err,
        });
      } finally {
        stop();
        c.close({ abortRollouts: true });
      }
      const stable = k.store.services.get('web')!.stableRevision!;
      outcomes[`r${stable}`]!++;
      // After the crash, rollback with no --to goes to the revision before the stable one.
      if (stable === 2) {
        const v = world.view();
        const c2 = new Controller(v.runtime, v.router, k.store, OPTIONS);
        const stop2 = promoter(c2, k.store);
        const back = await c2.rollback('web', undefined, silentReporter);
        stop2();
        assert.equal(back.revision, 1, `crash after entry ${n}`);
        assert.equal(back.outcome, 'succeeded', `crash after entry ${n}`);
        c2.close({ abortRollouts: true });
      }
      k.store.close();
    }
    console.log(`${what}: ${n - 1} crash points, converged to ${JSON.stringify(outcomes)}`);
    assert.ok(n > 5, 'the rollout wrote journal entries to crash after');
    if (bad) assert.equal(outcomes.r1, n - 1, 'a revision that crashes is always undone');
    else assert.equal(outcomes.r2, n - 1, 'a healthy revision is always resumed to the end');
  });
}

describe('a canary paused at its pause step', () => {
  test('comes back paused after a crash, answers abort, and is undone', async () => {
    const k = await atRest(STRATEGIES.canary!);
    const crashed = await crashDuring(
      k,
      (e) => e.event === 'step.started' && (e.data as { kind?: string }).kind === 'pause',
    );
    assert.ok(crashed);
    // The promoter of the crashed controller never saw the pause: nothing promoted it.
    const v = world.view();
    const c = new Controller(v.runtime, v.router, k.store, OPTIONS);
    c.start();
    await until(() => c.rolloutStatus('web').active);
    await sleep(200); // a paused rollout does not move on by itself
    const s = c.rolloutStatus('web');
    assert.equal(s.active, true);
    assert.equal(s.rollout?.status, 'running');
    const w = world.routes.services.web!.weights;
    assert.ok(w['1']! > 0 && w['2']! > 0, `still split: ${JSON.stringify(w)}`);
    c.control('web', 'abort');
    await converge(k.store, c);
    assert.equal(k.store.services.get('web')?.stableRevision, 1);
    assert.match(k.store.rollouts.list('web', 1)[0]!.reason ?? '', /aborted by user/);
    c.close({ abortRollouts: true });
  });

  test('a pause sent before the crash holds after it; resume lets it finish', async () => {
    const k = await atRest(STRATEGIES.rolling!);
    const crash = crashingStore(k.store, (e) => e.event === 'control.pause');
    const v = world.view(crash.alive);
    const c1 = new Controller(v.runtime, v.router, crash.store, OPTIONS);
    // Paused while its first new instance starts; the crash comes right after the journal has it.
    const paused = setInterval(() => {
      try {
        if (k.store.rollouts.unfinished().length > 0) c1.control('web', 'pause');
      } catch {
        // not registered yet, or crashed
      }
    }, 1);
    await c1
      .apply({ file: 't', services: [spec(k.strategy, 'img:v2')] }, undefined, silentReporter)
      .catch(() => undefined);
    clearInterval(paused);
    c1.close({ abortRollouts: true });
    const c = restart(k);
    await until(() => c.rolloutStatus('web').active);
    await sleep(200);
    assert.equal(c.rolloutStatus('web').paused, true);
    assert.equal(k.store.rollouts.unfinished().length, 1);
    c.control('web', 'resume');
    await converge(k.store, c);
    assert.equal(k.store.services.get('web')?.stableRevision, 2);
    c.close({ abortRollouts: true });
  });
});

describe('instant rollback (keepPrevious) runs through the same engine', () => {
  const keep = (strategy: StrategySpec, image: string): ServiceSpec => ({
    ...spec(strategy, image),
    keepPreviousMs: 60_000,
  });

  async function promotedWithWarmR1(): Promise<Case> {
    const k = await atRest(STRATEGIES.rolling!);
    const v = world.view();
    const c = new Controller(v.runtime, v.router, k.store, OPTIONS);
    const [r] = await c.apply(
      { file: 't', services: [keep(k.strategy, 'img:v2')] },
      undefined,
      silentReporter,
    );
    assert.equal(r?.outcome, 'succeeded');
    assert.equal(k.store.warm.list('web').length, 3);
    c.close({ abortRollouts: true });
    return k;
  }

  test('flips to the warm instances, journaled like any rollout', async () => {
    const k = await promotedWithWarmR1();
    const warm = k.store.warm
      .list('web')
      .map((w) => w.instanceId)
      .sort();
    const v = world.view();
    const c = new Controller(v.runtime, v.router, k.store, OPTIONS);
    const r = await c.rollback('web', undefined, silentReporter);
    assert.equal(r.outcome, 'succeeded');
    assert.equal(r.revision, 1);
    assert.ok(typeof r.flipMs === 'number');
    const serving = world.routes.services.web!.backends.map((b) => b.id).sort();
    assert.deepEqual(serving, warm, 'the warm instances serve: nothing was started');
    const last = k.store.rollouts.list('web', 1)[0]!;
    assert.equal(last.strategy, 'instant');
    const events = k.store.journal.list({ rolloutId: last.id }).map((e) => e.event);
    for (const e of [
      'rollout.started',
      'step.started',
      'weights.set',
      'promoted',
      'rollout.succeeded',
    ])
      assert.ok(events.includes(e), `${e} in ${events.join()}`);
    assert.equal(divergence(k.store), null);
    c.close({ abortRollouts: true });
  });

  test('a crash after any journal entry of an instant rollback ends consistent', async () => {
    let n = 1;
    for (; n < 200; n++) {
      const k = await promotedWithWarmR1();
      const crash = crashingStore(k.store, n);
      const v = world.view(crash.alive);
      const c1 = new Controller(v.runtime, v.router, crash.store, OPTIONS);
      await c1.rollback('web', undefined, silentReporter).catch(() => undefined);
      c1.close({ abortRollouts: true });
      if (crash.alive()) break;
      const c = restart(k);
      try {
        await converge(k.store, c);
      } catch (err) {
        throw new Error(`crash after entry ${n}: ${(err as Error).message}`, { cause: err });
      } finally {
        c.close({ abortRollouts: true });
      }
      k.store.close();
    }
    console.log(`instant rollback: ${n - 1} crash points, all converged`);
    assert.ok(n > 3, `${n - 1} crash points`);
  });
});

test('a rollout whose image is gone after the crash is undone, with the reason', async () => {
  const k = await atRest(STRATEGIES.rolling!);
  assert.ok(await crashDuring(k, (e) => e.event === 'instance.ready'));
  world.images.delete('img:v2');
  const c = restart(k);
  try {
    await converge(k.store, c);
  } finally {
    c.close({ abortRollouts: true });
    world.images.add('img:v2');
  }
  assert.equal(k.store.services.get('web')?.stableRevision, 1);
  const last = k.store.rollouts.list('web', 1)[0]!;
  assert.equal(last.status, 'failed');
  assert.match(last.reason ?? '', /image of r2 is not usable/);
  const undo = k.store.journal
    .list({ rolloutId: last.id })
    .find((e) => e.event === 'recovery.undo');
  assert.ok(undo, 'the decision is in the journal');
});

test('undoing a failed rollout retries transient proxy errors; the undo is journaled first', async () => {
  const k = await atRest(STRATEGIES.rolling!);
  world.crashing.add(2);
  // The proxy stumbles three times as soon as the undo begins.
  const hooked = crashingStore(k.store, (e) => {
    if (e.event === 'rollback.started') world.proxyFailures = 3;
    return false;
  });
  const v = world.view();
  const c = new Controller(v.runtime, v.router, hooked.store, OPTIONS);
  const [r] = await c.apply(
    { file: 't', services: [spec(k.strategy, 'img:v2')] },
    undefined,
    silentReporter,
  );
  // The instance that exited at start is left to the reconcile loop, as Docker leaves it.
  await converge(k.store, c);
  c.close({ abortRollouts: true });
  assert.equal(r?.outcome, 'failed');
  assert.doesNotMatch(r?.reason ?? '', /restoring the stable revision failed/);
  const events = k.store.journal.list({ rolloutId: r?.rolloutId ?? -1 }).map((e) => e.event);
  const retries = events.filter((e) => e === 'rollback.retry').length;
  assert.equal(retries, 3);
  assert.ok(events.indexOf('rollback.started') < events.indexOf('rollback.retry'));
  assert.ok(events.includes('rollback.finished'));
  world.proxyFailures = 0;
});

describe('a full disk at a canary pause', () => {
  test('abort puts all traffic back on r1 at once; the store catches up once there is room', async () => {
    const k = await atRest(STRATEGIES.canary!);
    const v = world.view();
    const c = new Controller(v.runtime, v.router, k.store, OPTIONS);
    c.start();
    const run = c.apply(
      { file: 't', services: [spec(STRATEGIES.canary!, 'img:v2')] },
      undefined,
      silentReporter,
    );
    const paused = (): boolean =>
      c
        .rolloutStatus('web')
        .steps.some(
          (s) =>
            (s as { kind: string }).kind === 'pause' &&
            (s as { status: string }).status === 'running',
        );
    await until(paused);
    // The file may not grow by one page: every write that needs one fails with SQLITE_FULL.
    const db = (k.store as unknown as { db: { pragma: (p: string, o?: object) => unknown } }).db;
    const pages = db.pragma('page_count', { simple: true }) as number;
    db.pragma(`max_page_count = ${pages}`);
    // A write refused first, so the queue is in play even if some pages have room left.
    let room = false;
    k.store.writes.run(() => {
      if (!room)
        throw Object.assign(new Error('database or disk is full'), { code: 'SQLITE_FULL' });
    });
    const answer = c.control('web', 'abort');
    assert.match(answer.warning ?? '', /the store cannot write/);
    const [r] = await run;
    assert.equal(r?.outcome, 'failed');
    const positive = Object.entries(world.routes.services.web!.weights).filter(([, w]) => w > 0);
    assert.deepEqual(
      positive.map(([rev]) => rev),
      ['1'],
      'all traffic back on r1 while the disk is full',
    );
    assert.equal(k.store.rollouts.list('web', 1)[0]!.status, 'running', 'not written yet');
    db.pragma('max_page_count = 1073741823');
    room = true;
    await converge(k.store, c);
    assert.equal(c.storeWarning(), null);
    const last = k.store.rollouts.list('web', 1)[0]!;
    assert.equal(last.status, 'failed');
    assert.match(last.reason ?? '', /aborted by user/);
    const events = k.store.journal.list({ rolloutId: last.id, limit: 1000 }).map((e) => e.event);
    assert.ok(events.indexOf('rollback.started') < events.indexOf('rollout.failed'));
    c.close({ abortRollouts: true });
    k.store.close();
  });
});
