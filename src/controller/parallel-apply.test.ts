// `up` of many services: the bound on how many roll at once, the order of the results, what a
// failure stops, and services sharing an address kept in turn. Pure logic, then the controller
// against the in-memory fakes of the runtime and the router.
import assert from 'node:assert/strict';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { sampleService } from '../spec/sample.js';
import type { ServiceSpec } from '../spec/types.js';
import { Store } from '../store/index.js';
import type { InstanceRequest } from '../runtime/types.js';
import { Controller } from './controller.js';
import { applyChains, runBounded } from './parallel-apply.js';
import { silentReporter } from './progress.js';
import { FakeRuntime, FakeWorld } from './test-support.js';

/** Counts calls in flight at once; each call waits `ms` so that overlapping ones overlap. */
function gauge(ms: number) {
  const g = {
    now: 0,
    max: 0,
    order: [] as string[],
    async run<T>(name: string, fn: () => T | Promise<T>): Promise<T> {
      g.now++;
      g.max = Math.max(g.max, g.now);
      g.order.push(`start ${name}`);
      try {
        await sleep(ms);
        return await fn();
      } finally {
        g.now--;
        g.order.push(`end ${name}`);
      }
    },
  };
  return g;
}

test('runBounded keeps at most `limit` calls in flight and returns results in input order', async () => {
  const g = gauge(10);
  const items = Array.from({ length: 20 }, (_, i) => i);
  const out = await runBounded(items, 4, (i) => g.run(String(i), () => i * 10));
  assert.equal(g.max, 4);
  assert.deepEqual(
    out,
    items.map((i) => i * 10),
  );
});

test('runBounded with a limit of 1 is sequential; a limit above the count starts them all', async () => {
  const one = gauge(1);
  await runBounded([1, 2, 3], 1, (i) => one.run(String(i), () => i));
  assert.equal(one.max, 1);
  assert.deepEqual(one.order, ['start 1', 'end 1', 'start 2', 'end 2', 'start 3', 'end 3']);
  const all = gauge(5);
  await runBounded([1, 2, 3], 64, (i) => all.run(String(i), () => i));
  assert.equal(all.max, 3);
});

test('after a failure runBounded starts nothing new, lets running calls finish, then throws', async () => {
  const g = gauge(10);
  const finished: number[] = [];
  await assert.rejects(
    runBounded([0, 1, 2, 3, 4, 5, 6, 7], 3, (i) =>
      g.run(String(i), () => {
        if (i === 1) throw new Error('boom at 1');
        finished.push(i);
      }),
    ),
    /boom at 1/,
  );
  // 0 and 2 ran alongside 1 and were let finish; 3 took 1's place only if it had started before.
  assert.ok(finished.includes(0) && finished.includes(2), `finished: ${finished.join(',')}`);
  assert.ok(finished.length <= 3, `started after the failure: ${finished.join(',')}`);
  assert.equal(g.now, 0);
});

const svc = (name: string, listen: string, extra: Partial<ServiceSpec> = {}): ServiceSpec =>
  sampleService({ name, listen, ...extra });

test('services sharing an address (listener, preview, redirect) are one chain, in spec order', () => {
  const a = svc('a', '127.0.0.1:1');
  const b = svc('b', '127.0.0.1:2');
  const c = svc('c', '127.0.0.1:1'); // shares a's listener (host routing)
  const d = svc('d', '127.0.0.1:4', {
    strategy: {
      type: 'blue-green',
      previewListen: '127.0.0.1:2', // b's listener
      autoPromotionMs: null,
      prePromotionAnalysis: null,
      scaleDownDelayMs: 0,
    },
  });
  const e = svc('e', '127.0.0.1:5');
  const chains = applyChains([a, b, c, d, e]).map((chain) => chain.map((s) => s.name));
  assert.deepEqual(chains, [['a', 'c'], ['b', 'd'], ['e']]);
  // A service bridging two chains merges them.
  const f = svc('f', '127.0.0.1:1', {
    tls: {
      cert: null,
      key: null,
      acme: null,
      redirect: '127.0.0.1:5',
      hstsMaxAgeS: 0,
      hstsIncludeSubDomains: false,
    },
  });
  const merged = applyChains([a, b, c, d, e, f]).map((chain) => chain.map((s) => s.name));
  assert.deepEqual(merged, [
    ['a', 'c', 'e', 'f'],
    ['b', 'd'],
  ]);
});

// The controller on fakes: each instance start takes 40 ms, so services that roll at the same
// time are seen starting instances at the same time.
const world = new FakeWorld();
before(async () => {
  await world.open();
  world.images.add('img:v1');
});
after(() => world.close());

class SlowRuntime extends FakeRuntime {
  constructor(readonly starts: ReturnType<typeof gauge>) {
    super(world, () => true);
  }
  override startInstance(req: InstanceRequest) {
    return this.starts.run(req.service, () => super.startInstance(req));
  }
}

function services(n: number, listen: (i: number) => string): ServiceSpec[] {
  const base = sampleService();
  return Array.from({ length: n }, (_, i) =>
    sampleService({
      name: `svc${String(i).padStart(2, '0')}`,
      image: 'img:v1',
      replicas: 1,
      listen: listen(i),
      health: { ...base.health, intervalMs: 5, deadlineMs: 2000 },
      drain: { ...base.drain, timeoutMs: 0 },
    }),
  );
}

async function applyWith(specs: ServiceSpec[], parallel: number | undefined) {
  const starts = gauge(40);
  world.containers.clear();
  world.routes = { version: 1, services: {} };
  const store = Store.open(join(mkdtempSync(join(tmpdir(), 'hotswap-parallel-')), 'hotswap.db'));
  const c = new Controller(new SlowRuntime(starts), world.view().router, store, {
    reconcileIntervalMs: 60_000,
  });
  try {
    const results = await c.apply(
      { file: 't', services: specs },
      undefined,
      silentReporter,
      parallel,
    );
    return { starts, results };
  } finally {
    c.close({ abortRollouts: true });
    store.close();
  }
}

test('up of 12 services with --parallel 3 rolls exactly 3 at a time, results in spec order', async () => {
  const specs = services(12, (i) => `127.0.0.1:${20_000 + i}`);
  const { starts, results } = await applyWith(specs, 3);
  assert.equal(starts.max, 3);
  assert.deepEqual(
    results.map((r) => [r.service, r.outcome]),
    specs.map((s) => [s.name, 'succeeded']),
  );
});

test('up with --parallel 1 is one service after another; the default rolls 8 at once', async () => {
  const one = await applyWith(
    services(4, (i) => `127.0.0.1:${21_000 + i}`),
    1,
  );
  assert.equal(one.starts.max, 1);
  const dflt = await applyWith(
    services(12, (i) => `127.0.0.1:${22_000 + i}`),
    undefined,
  );
  assert.equal(dflt.starts.max, 8);
});

test('services on one listener roll in turn even with room to spare', async () => {
  const { starts, results } = await applyWith(
    services(6, () => '127.0.0.1:23000'),
    8,
  );
  assert.equal(starts.max, 1);
  assert.deepEqual(
    starts.order.filter((o) => o.startsWith('start')),
    results.map((r) => `start ${r.service}`),
  );
});
