// Scaling for every strategy, against in-memory fakes: `scale` and a replicas-only `up` reach the
// new count (a scale-down under canary or blue-green used to do nothing and report success),
// extra instances drain before they stop, the stable revision keeps all traffic throughout, and
// the reconcile loop then agrees with the new count instead of undoing it.
import assert from 'node:assert/strict';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { sampleService } from '../spec/sample.js';
import type { StrategySpec } from '../spec/types.js';
import { Store } from '../store/index.js';
import { Controller } from './controller.js';
import { silentReporter } from './progress.js';
import { FakeWorld } from './test-support.js';
import { sameWeights } from './world.js';

const STRATEGIES: StrategySpec[] = [
  { type: 'rolling', maxSurge: 1, maxUnavailable: 0, analysis: null },
  { type: 'recreate' },
  {
    type: 'canary',
    steps: [{ setWeight: 34 }, { pause: { durationMs: null } }],
    canaryReplicas: 'follow',
  },
  {
    type: 'blue-green',
    previewListen: null,
    autoPromotionMs: null,
    prePromotionAnalysis: null,
    scaleDownDelayMs: 60_000,
  },
];

const world = new FakeWorld();
before(() => world.open());
after(() => world.close());

for (const strategy of STRATEGIES) {
  void describe(`scaling under ${strategy.type}`, () => {
    test('down drains first, up starts health-gated, traffic never leaves the stable revision', async () => {
      world.containers.clear();
      world.routes = { version: 1, services: {} };
      world.images.add('img:v1');
      const store = Store.open(join(mkdtempSync(join(tmpdir(), 'hotswap-scale-')), 'hotswap.db'));
      const v = world.view();
      const c = new Controller(v.runtime, v.router, store, { reconcileIntervalMs: 60_000 });
      const base = sampleService();
      const spec = sampleService({
        image: 'img:v1',
        replicas: 3,
        strategy,
        health: { ...base.health, intervalMs: 5, deadlineMs: 1000 },
        drain: { ...base.drain, timeoutMs: 0 },
      });
      try {
        await c.apply({ file: 't', services: [spec] }, undefined, silentReporter);
        const backends = () => world.routes.services.web?.backends ?? [];
        assert.equal(backends().length, 3);
        const seqBefore = store.journal.list({ limit: 10_000 }).length;

        const down = await c.scale('web', 1, silentReporter);
        assert.equal(down.outcome, 'succeeded', down.reason ?? '');
        assert.equal(world.running('web').length, 1, 'extra instances stopped, not kept warm');
        assert.equal(backends().filter((b) => b.state === 'active').length, 1);
        assert.deepEqual(Object.keys(world.routes.services.web?.weights ?? {}), ['1']);
        const after = store.journal.list({ limit: 10_000 }).slice(seqBefore);
        assert.equal(after.filter((e) => e.event === 'instance.drained').length, 2);
        // Every weight set during the scale gives the stable revision traffic.
        for (const e of after.filter((x) => x.event === 'weights.set'))
          assert.ok((e.data as { weights: Record<string, number> }).weights['1']! > 0);

        const up = await c.scale('web', 4, silentReporter);
        assert.equal(up.outcome, 'succeeded', up.reason ?? '');
        assert.equal(world.running('web').length, 4);
        assert.ok(sameWeights(world.routes.services.web?.weights ?? {}, { 1: 1 }));
        assert.equal(store.services.get('web')?.spec.replicas, 4, 'the desired state');
        for (const e of store.journal.list({ limit: 10_000 }).slice(seqBefore))
          if (e.event === 'weights.set')
            assert.ok((e.data as { weights: Record<string, number> }).weights['1']! > 0);

        // The reconcile loop reads the same desired state: it keeps 4.
        await c.reconcileNow('test');
        assert.equal(world.running('web').length, 4);

        // A replicas-only `up` goes the same way.
        const again = await c.apply(
          { file: 't', services: [{ ...spec, replicas: 2 }] },
          undefined,
          silentReporter,
        );
        assert.equal(again[0]!.outcome, 'succeeded');
        assert.equal(world.running('web').length, 2);
        assert.equal(store.revisions.list('web').length, 1, 'no new revision');
      } finally {
        c.close({ abortRollouts: true });
      }
    });
  });
}

void test('an autoscaled service is not scaled by hand outside its min..max', async () => {
  world.containers.clear();
  world.routes = { version: 1, services: {} };
  world.images.add('img:v1');
  const store = Store.open(join(mkdtempSync(join(tmpdir(), 'hotswap-scale-')), 'hotswap.db'));
  const v = world.view();
  const c = new Controller(v.runtime, v.router, store, { reconcileIntervalMs: 60_000 });
  const base = sampleService();
  const autoscale = { min: 1, max: 2, targetRps: 10, targetCpu: null, cooldownMs: 1000 };
  const spec = sampleService({
    image: 'img:v1',
    replicas: 1,
    autoscale,
    health: { ...base.health, intervalMs: 5, deadlineMs: 1000 },
  });
  try {
    await c.apply({ file: 't', services: [spec] }, undefined, silentReporter);
    await assert.rejects(
      c.scale('web', 5, silentReporter),
      /web is autoscaled between 1 and 2 instances; 5 is outside/,
    );
    assert.equal((await c.scale('web', 2, silentReporter)).outcome, 'succeeded');
    // `up` keeps the autoscaled count rather than the file's replicas.
    await c.apply({ file: 't', services: [spec] }, undefined, silentReporter);
    assert.equal(world.running('web').length, 2);
  } finally {
    c.close({ abortRollouts: true });
  }
});
