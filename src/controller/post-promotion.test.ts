import assert from 'node:assert/strict';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { test } from 'node:test';
import type { Router, ServiceStats } from '../proxy/types.js';
import { parseSpec } from '../spec/index.js';
import { Store } from '../store/index.js';
import { PostPromotionWatches, type RollbackResult, type WatchStart } from './post-promotion.js';

const SPEC = `services:
  web:
    image: web:v1
    port: 8080
    listen: 127.0.0.1:8080
    analysis: { minRequests: 20, errorRate: { max: 2% }, latency: null }
`;

/** A store with r1 → r2 succeeded (rollout #1), r2 stable, and the watch of it begun. */
function setup(watch: Partial<WatchStart> = {}) {
  const store = Store.open(join(mkdtempSync(join(tmpdir(), 'hotswap-watch-')), 'hotswap.db'));
  const spec = parseSpec(SPEC, 'hotswap.yaml').services[0]!;
  store.services.upsert(spec);
  for (const n of [1, 2])
    store.revisions.create({
      service: 'web',
      image: `web:v${n}`,
      imageId: `sha256:${n}`,
      repoDigest: null,
      configHash: `h${n}`,
      spec,
    });
  store.services.setStable('web', 2);
  const rollout = store.rollouts.start({
    service: 'web',
    kind: 'update',
    from: 1,
    to: 2,
    strategy: 'rolling',
  });
  const note = (event: string, data: unknown) =>
    store.journal.append({ service: 'web', rolloutId: rollout.id, event, data });
  note('watch.baseline', {
    revisions: [1],
    windowMs: 1000,
    requests: 1000,
    errors: 0,
    latenciesMs: [],
  });
  note('watch.started', {
    revision: 2,
    previous: 1,
    windowMs: 150,
    intervalMs: 50,
    endsAt: new Date(Date.now() + 150).toISOString(),
    ...watch,
  } satisfies WatchStart);
  store.rollouts.finish(rollout.id, 'succeeded', null);
  return { store, rollout, note };
}

/** The proxy's numbers of r2 in any window: `errors` of 100 requests. */
function router(errors: () => number): Router {
  return {
    stats: (): Promise<ServiceStats> =>
      Promise.resolve({
        revisions: { '2': { windowRequests: 100, windowErrors: errors(), samples: [] } },
      } as unknown as ServiceStats),
  } as unknown as Router;
}

function harness(store: Store, errors: () => number) {
  const rollbacks: Array<[string, number]> = [];
  const watches = new PostPromotionWatches({
    router: router(errors),
    store,
    rollback: (service, to): Promise<RollbackResult> => {
      rollbacks.push([service, to]);
      store.services.setStable(service, to);
      return Promise.resolve({ rolloutId: 9, outcome: 'succeeded', reason: null, flipMs: 12 });
    },
  });
  return { watches, rollbacks };
}

const events = (store: Store, rolloutId: number): string[] =>
  store.journal.list({ rolloutId }).map((e) => e.event);

async function until(what: string, ok: () => boolean): Promise<void> {
  for (let i = 0; i < 500 && !ok(); i++) await sleep(10);
  assert.ok(ok(), what);
}

test('a healthy revision: three judgements, then watch.passed; nothing rolled back', async () => {
  const { store, rollout } = setup();
  const { watches, rollbacks } = harness(store, () => 0);
  watches.scan();
  watches.scan(); // a second pass does not start it twice
  assert.deepEqual(watches.active(), [rollout.id]);
  await until('the watch ends', () => events(store, rollout.id).includes('watch.passed'));
  // Three 50 ms intervals in a 150 ms window (two when the machine was slow to start it).
  const verdicts = store.journal
    .list({ rolloutId: rollout.id })
    .filter((e) => e.event === 'watch.verdict');
  assert.ok(verdicts.length >= 2 && verdicts.length <= 3, String(verdicts.length));
  assert.ok(verdicts.every((v) => (v.data as { result: string }).result === 'pass'));
  assert.deepEqual(rollbacks, []);
  watches.scan();
  assert.deepEqual(watches.active(), [], 'an ended watch is not started again');
});

test('a breach is journaled with its numbers and rolls back to the previous revision', async () => {
  const { store, rollout } = setup();
  const { watches, rollbacks } = harness(store, () => 10);
  watches.scan();
  await until('rolled back', () => events(store, rollout.id).includes('watch.rolledback'));
  assert.deepEqual(rollbacks, [['web', 1]]);
  const failed = store.journal
    .list({ rolloutId: rollout.id })
    .find((e) => e.event === 'watch.failed')!;
  const data = failed.data as {
    reason: string;
    verdict: { metrics: { errorRate: { canaryErrors: number } } };
  };
  assert.match(data.reason, /error rate 10\.0% \(10\/100\)/);
  assert.equal(data.verdict.metrics.errorRate.canaryErrors, 10);
  const rolled = store.journal
    .list({ rolloutId: rollout.id })
    .find((e) => e.event === 'watch.rolledback')!;
  const record = store.rollouts.get(rollout.id)!;
  assert.equal(record.status, 'rolled-back');
  assert.match(record.reason ?? '', /^watch after promotion: error rate/);
  assert.deepEqual(rolled.data, {
    rolloutId: 9,
    outcome: 'succeeded',
    instant: true,
    flipMs: 12,
    reason: null,
  });
});

test('level-triggered: a breach a crash left without its rollback is rolled back by the next daemon', async () => {
  const { store, rollout, note } = setup();
  note('watch.failed', { reason: 'watch after promotion: error rate …', previous: 1 });
  const { watches, rollbacks } = harness(store, () => 0);
  watches.scan();
  await until('rolled back', () => rollbacks.length === 1);
  await until('journaled', () => events(store, rollout.id).includes('watch.rolledback'));
});

test('a window that ended while no daemon ran ends as passed without judging', async () => {
  const { store, rollout } = setup({ endsAt: new Date(Date.now() - 1000).toISOString() });
  const { watches } = harness(store, () => 50);
  watches.scan();
  await until('passed', () => events(store, rollout.id).includes('watch.passed'));
  assert.ok(!events(store, rollout.id).includes('watch.verdict'));
});

test('a stopping daemon leaves the watch for the next one; a newer rollout cancels it', async () => {
  const { store, rollout } = setup({
    windowMs: 400,
    endsAt: new Date(Date.now() + 400).toISOString(),
  });
  const first = harness(store, () => 0);
  first.watches.scan();
  first.watches.stop();
  await until('stopped', () => first.watches.active().length === 0);
  assert.deepEqual(events(store, rollout.id), ['watch.baseline', 'watch.started']);
  const second = harness(store, () => 0);
  second.watches.scan();
  assert.deepEqual(second.watches.active(), [rollout.id], 'resumed');
  store.rollouts.start({ service: 'web', kind: 'update', from: 2, to: 1, strategy: 'rolling' });
  second.watches.scan();
  await until('cancelled', () => events(store, rollout.id).includes('watch.cancelled'));
  const cancelled = store.journal.list({ rolloutId: rollout.id }).at(-1)!;
  assert.match((cancelled.data as { reason: string }).reason, /superseded by rollout #2/);
});
