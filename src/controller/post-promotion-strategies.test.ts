// The watch after promotion with every strategy, on the fake world: the rollout records the
// stable revision's baseline, succeeds, the watch judges the new revision; a healthy one ends
// the watch as passed, an erring one is flipped back to the previous revision's warm instances.
import assert from 'node:assert/strict';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import type { ServiceStats } from '../proxy/types.js';
import { sampleService } from '../spec/sample.js';
import type { ServiceSpec, StrategySpec } from '../spec/types.js';
import { Store } from '../store/index.js';
import { Controller } from './controller.js';
import { silentReporter } from './progress.js';
import { FakeRouter, FakeWorld } from './test-support.js';

const STRATEGIES: Record<string, StrategySpec> = {
  rolling: { type: 'rolling', maxSurge: 1, maxUnavailable: 0, analysis: null },
  recreate: { type: 'recreate' },
  canary: { type: 'canary', steps: [{ setWeight: 50 }], canaryReplicas: 'follow' },
  'blue-green': {
    type: 'blue-green',
    previewListen: null,
    autoPromotionMs: 0,
    prePromotionAnalysis: null,
    scaleDownDelayMs: 0,
  },
};

/** The proxy's numbers: 100 requests a window per revision, 10 of them errors on `bad`. */
class CountingRouter extends FakeRouter {
  bad: number | null = null;

  override stats(): Promise<ServiceStats> {
    const revisions: Record<string, unknown> = {};
    for (const r of ['1', '2'])
      revisions[r] = {
        windowRequests: 100,
        windowErrors: Number(r) === this.bad ? 10 : 0,
        samples: [],
      };
    return Promise.resolve({ revisions } as unknown as ServiceStats);
  }
}

function spec(strategy: StrategySpec, image: string): ServiceSpec {
  const base = sampleService();
  return sampleService({
    image,
    replicas: 2,
    strategy: { ...strategy, postPromotion: { windowMs: 400, intervalMs: 100 } },
    health: { ...base.health, intervalMs: 5, deadlineMs: 2000 },
    drain: { ...base.drain, timeoutMs: 0 },
    analysis: { ...base.analysis, errorRate: { maxAbsolute: 0.02, alpha: 0.05 } },
    keepPreviousMs: 60_000,
  });
}

const world = new FakeWorld();
before(() => world.open());
after(() => world.close());

async function watched(strategy: StrategySpec, bad: boolean) {
  world.containers.clear();
  world.routes = { version: 1, services: {} };
  world.images.add('img:v1').add('img:v2');
  const store = Store.open(join(mkdtempSync(join(tmpdir(), 'hotswap-watch-s-')), 'hotswap.db'));
  const v = world.view();
  const router = new CountingRouter(world, () => true);
  const c = new Controller(v.runtime, router, store, { reconcileIntervalMs: 50 });
  c.start();
  try {
    for (const image of ['img:v1', 'img:v2']) {
      const [r] = await c.apply(
        { file: 't', services: [spec(strategy, image)] },
        undefined,
        silentReporter,
      );
      assert.equal(r?.outcome, 'succeeded');
    }
    router.bad = bad ? 2 : null;
    const id = store.rollouts.list('web').find((r) => r.toRevision === 2)!.id;
    const ended = /^watch\.(passed|inconclusive|rolledback|cancelled)$/;
    for (let i = 0; i < 300; i++) {
      if (store.journal.list({ rolloutId: id }).some((e) => ended.test(e.event))) break;
      await sleep(10);
    }
    return { store, id, events: store.journal.list({ rolloutId: id }) };
  } finally {
    c.close({ abortRollouts: true });
  }
}

for (const [name, strategy] of Object.entries(STRATEGIES)) {
  test(`${name}: a healthy revision's watch passes`, async () => {
    const { events } = await watched(strategy, false);
    const names = events.map((e) => e.event).filter((e) => e.startsWith('watch.'));
    assert.equal(names[0], 'watch.baseline');
    assert.equal(names[1], 'watch.started');
    assert.equal(names.at(-1), 'watch.passed', names.join());
    assert.ok(names.filter((e) => e === 'watch.verdict').length >= 3, names.join());
  });

  test(`${name}: an erring revision is flipped back to the warm previous one`, async () => {
    const { store, events, id } = await watched(strategy, true);
    const last = events.at(-1)!;
    assert.equal(last.event, 'watch.rolledback', events.map((e) => e.event).join());
    assert.deepEqual(
      { ...(last.data as object), flipMs: 0 },
      { rolloutId: id + 1, outcome: 'succeeded', instant: true, flipMs: 0, reason: null },
    );
    assert.equal(store.services.get('web')?.stableRevision, 1);
    assert.equal(store.rollouts.get(id)?.status, 'rolled-back');
  });
}
