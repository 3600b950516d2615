// The autoscale loop against fakes: the request rate per instance comes from the proxy's window,
// CPU % from two Docker samples a tick apart; a scale goes through `scale`, and holds are
// journaled once per reason, not once per tick.
import assert from 'node:assert/strict';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import type { Router, ServiceStats } from '../proxy/types.js';
import type { Runtime } from '../runtime/types.js';
import { sampleService } from '../spec/sample.js';
import { Store } from '../store/index.js';
import { Autoscaler } from './autoscaler.js';

function setup(autoscale: { targetRps: number | null; targetCpu: number | null }) {
  const store = Store.open(join(mkdtempSync(join(tmpdir(), 'hotswap-as-')), 'hotswap.db'));
  store.services.upsert(
    sampleService({
      replicas: 2,
      autoscale: { min: 1, max: 6, cooldownMs: 60_000, ...autoscale },
    }),
  );
  store.services.setStable('web', 1);
  const backends = ['a', 'b'].map((id) => ({
    id,
    revision: 1,
    address: '127.0.0.1:1',
    state: 'active' as const,
  }));
  let windowRequests = 0;
  const router = {
    table: () => Promise.resolve({ version: 1, services: { web: { backends, weights: {} } } }),
    stats: () =>
      Promise.resolve({
        revisions: { '1': { windowRequests } },
        instances: {},
      } as unknown as ServiceStats),
  } as unknown as Router;
  let cpuNs = 0;
  let atMs = 0;
  const runtime = {
    cpuSample: () => Promise.resolve({ cpuNs, atMs }),
  } as unknown as Runtime;
  const scaled: number[] = [];
  const autoscaler = new Autoscaler({
    store,
    router,
    runtime,
    busy: () => false,
    scale: (_s, n) => {
      scaled.push(n);
      return Promise.resolve({ outcome: 'succeeded', reason: null });
    },
  });
  const events = () => store.journal.list({ service: 'web' }).map((e) => e.event);
  return {
    autoscaler,
    scaled,
    events,
    setRequests: (n: number) => (windowRequests = n),
    burnCpu: (ns: number, wallMs: number) => {
      cpuNs += ns;
      atMs += wallMs;
    },
  };
}

test('request rate per instance from the proxy window drives a scale-out', async () => {
  const t = setup({ targetRps: 10, targetCpu: null });
  t.setRequests(120); // 120 requests in 3 s over 2 instances = 20 req/s each → 4 instances
  await t.autoscaler.tick(1000);
  assert.deepEqual(t.scaled, [4]);
  assert.deepEqual(t.events(), ['autoscale.scale']);
});

test('CPU % from two samples a tick apart; holds journaled once per reason', async () => {
  const t = setup({ targetRps: null, targetCpu: 50 });
  await t.autoscaler.tick(1000); // first sample: no figure yet
  t.burnCpu(500e6, 1000); // 0.5 s of CPU in 1 s = 50% → on target
  await t.autoscaler.tick(2000);
  t.burnCpu(520e6, 1000); // 52%: within the band again: the same decision, not journaled again
  await t.autoscaler.tick(3000);
  assert.deepEqual(t.scaled, []);
  t.burnCpu(2000e6, 1000); // 200% → ceil(2 × 4) = 8, clamped to 6
  await t.autoscaler.tick(4000);
  assert.deepEqual(t.scaled, [6]);
  // no figures yet, on target (once for two ticks), then the scale
  assert.deepEqual(t.events(), ['autoscale.hold', 'autoscale.hold', 'autoscale.scale']);
});
