import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import type { RouteTable, ServiceStats } from '../proxy/types.js';
import { parseSpec } from '../spec/index.js';
import { Store } from '../store/index.js';
import { AlertEvaluator } from './evaluator.js';

// The proxy's numbers are a fixture here (pure logic of the loop); test/e2e/alerts.test.ts runs
// it on the real proxy and engine.
function statsOf(requests: number, errors: number, latencyMs = 5): ServiceStats {
  return {
    revisions: {
      '1': {
        requests,
        statuses: {},
        errors: 0,
        errorsByKind: {} as never,
        inFlight: 0,
        latencyMs: {} as never,
        windowRequests: requests,
        windowErrors: errors,
        samples: Array.from({ length: Math.min(requests, 100) }, () => latencyMs),
      },
    },
    instances: {},
    unavailable: 0,
    long: {} as never,
  };
}

function setup(alerts: string[]) {
  const dir = mkdtempSync(join(tmpdir(), 'hotswap-alerts-'));
  const file = join(dir, 'hotswap.db');
  const store = Store.open(file);
  const spec = parseSpec(
    [
      'services:',
      '  web:',
      '    image: web:v1',
      '    port: 8080',
      '    listen: 127.0.0.1:9000',
      '    alerts:',
      ...alerts.map((a) => `      - ${a}`),
    ].join('\n'),
    'hotswap.yaml',
  ).services[0]!;
  store.services.upsert(spec);
  let current = statsOf(100, 0);
  const router = {
    table: (): Promise<RouteTable> =>
      Promise.resolve({ version: 1, services: { web: {} as never } }),
    stats: (): Promise<ServiceStats> => Promise.resolve(current),
  };
  const evaluator = (): AlertEvaluator => new AlertEvaluator({ store, router, intervalMs: 1000 });
  return {
    store,
    file,
    evaluator,
    set: (s: ServiceStats) => (current = s),
    close: () => {
      store.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

test('a threshold rule goes pending, fires after `for`, resolves; each stored and journaled', async () => {
  const env = setup(['{ name: errors, when: "errorRate > 2%", for: 2s, window: 5s }']);
  try {
    const ev = env.evaluator();
    await ev.tick(10_000);
    assert.equal(ev.rules()[0]?.status, 'ok');
    env.set(statsOf(100, 10));
    await ev.tick(11_000);
    assert.equal(ev.rules()[0]?.status, 'pending');
    await ev.tick(12_000);
    assert.equal(env.store.alerts.firing().length, 0);
    await ev.tick(13_000);
    assert.equal(ev.rules()[0]?.status, 'firing');
    const firing = env.store.alerts.firing();
    assert.equal(firing.length, 1);
    assert.equal(firing[0]!.value, 0.1);
    assert.match(
      firing[0]!.message,
      /alert errors firing: errorRate 10% \(errorRate > 2% over 5s\)/,
    );
    env.set(statsOf(100, 1));
    await ev.tick(14_000);
    assert.equal(env.store.alerts.firing().length, 0);
    const events = env.store.journal.list({ service: 'web' }).map((e) => e.event);
    assert.deepEqual(events, ['alert.firing', 'alert.resolved']);
    assert.ok(env.store.alerts.history()[0]!.resolvedAt);
    // The minutes were counted: 5 ticks of 100 requests.
    const minutes = env.store.alerts.minutes('web', 0);
    assert.equal(
      minutes.reduce((n, m) => n + m.requests, 0),
      500,
    );
    assert.equal(
      minutes.reduce((n, m) => n + m.failed, 0),
      31,
    );
  } finally {
    env.close();
  }
});

test('a firing alert outlives the daemon, and the next one resolves it', async () => {
  const env = setup(['{ name: slow, when: "p99 > 100ms", for: 0s }']);
  try {
    env.set(statsOf(100, 0, 300));
    await env.evaluator().tick(1000);
    assert.equal(env.store.alerts.firing().length, 1);
    const next = env.evaluator(); // a new daemon
    assert.equal(next.rules()[0]?.status, 'firing');
    env.set(statsOf(100, 0, 5));
    await next.tick(2000);
    assert.equal(env.store.alerts.firing().length, 0);
  } finally {
    env.close();
  }
});

test('no traffic is no data: an error-rate rule does not hold', async () => {
  const env = setup(['{ name: errors, when: "errorRate > 2%", for: 0s }']);
  try {
    env.set(statsOf(0, 0));
    const ev = env.evaluator();
    await ev.tick(1000);
    assert.equal(ev.rules()[0]?.status, 'ok');
    assert.equal(ev.rules()[0]?.value, null);
  } finally {
    env.close();
  }
});

test('an anomaly rule learns, then fires on a jump in the error rate', async () => {
  const env = setup(['{ name: odd, when: anomaly(errorRate), for: 0s }']);
  try {
    const ev = env.evaluator();
    for (let i = 0; i < 12; i++) await ev.tick(1000 * (i + 1));
    assert.equal(ev.rules()[0]?.status, 'ok');
    env.set(statsOf(100, 40));
    await ev.tick(13_000);
    assert.equal(ev.rules()[0]?.status, 'firing');
    assert.match(
      env.store.alerts.firing()[0]!.message,
      /errorRate 40% on r1 is \d+\.\dσ from its baseline 0%/,
    );
  } finally {
    env.close();
  }
});
