import assert from 'node:assert/strict';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, test } from 'node:test';
import type { Router } from '../proxy/types.js';
import { sampleService } from '../spec/sample.js';
import type { Store } from '../store/index.js';
import { HealthMonitor } from './health-monitor.js';

const servers: http.Server[] = [];
after(() => servers.forEach((s) => s.close()));

async function app(): Promise<{ address: string; setHealthy(ok: boolean): void }> {
  let ok = true;
  const server = http.createServer((_q, r) => r.writeHead(ok ? 200 : 503).end());
  servers.push(server);
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return {
    address: `127.0.0.1:${(server.address() as AddressInfo).port}`,
    setHealthy: (v) => (ok = v),
  };
}

test('an instance failing unhealthyThreshold probes leaves the balancer and comes back when healthy', async () => {
  const [a, b] = [await app(), await app()];
  const backends = [
    { id: 'a', revision: 1, address: a.address, state: 'active' as const },
    { id: 'b', revision: 1, address: b.address, state: 'active' as const },
  ];
  const calls = [] as string[];
  const router = {
    table: () => Promise.resolve({ version: 1, services: { web: { backends } } }),
    drain: (_s: string, id: string) => {
      calls.push(`drain ${id}`);
      backends.splice(
        backends.findIndex((x) => x.id === id),
        1,
      );
      return Promise.resolve({});
    },
    addBackend: (_s: string, x: { id: string; revision: number; address: string }) => {
      calls.push(`add ${x.id}`);
      backends.push({ ...x, state: 'active' });
      return Promise.resolve();
    },
  } as unknown as Router;
  const spec = sampleService({
    health: {
      ...sampleService().health,
      intervalMs: 10,
      unhealthyThreshold: 2,
      healthyThreshold: 2,
    },
  });
  const events: string[] = [];
  const store = {
    services: { list: () => [{ name: 'web', spec }] },
    journal: { append: (e: { event: string }) => events.push(e.event) },
  } as unknown as Store;
  const monitor = new HealthMonitor({
    router,
    store,
    runtime: { inspectInstance: () => Promise.resolve(null) },
    busy: () => false,
    exists: () => Promise.resolve(true),
  });
  let now = 0;
  const tick = async () => monitor.tick((now += 20));

  await tick();
  assert.deepEqual(calls, []);
  b.setHealthy(false);
  a.setHealthy(false);
  await tick();
  await tick();
  assert.equal(calls.length, 1, 'only one of two leaves: the last serving instance stays');
  await tick();
  assert.equal(calls.length, 1);
  const ejected = String(calls[0]).slice('drain '.length);
  (ejected === 'a' ? a : b).setHealthy(true);
  await tick();
  await tick();
  assert.deepEqual(calls, [`drain ${ejected}`, `add ${ejected}`]);
  assert.deepEqual(events, ['instance.unhealthy', 'instance.recovered']);
});

test('a busy service is left to its rollout', async () => {
  const a = await app();
  a.setHealthy(false);
  let drained = 0;
  const router = {
    table: () =>
      Promise.resolve({
        version: 1,
        services: {
          web: {
            backends: [
              { id: 'a', revision: 1, address: a.address, state: 'active' },
              { id: 'b', revision: 1, address: a.address, state: 'active' },
            ],
          },
        },
      }),
    drain: () => Promise.resolve(drained++),
  } as unknown as Router;
  const spec = sampleService({
    health: { ...sampleService().health, intervalMs: 1, unhealthyThreshold: 1 },
  });
  const store = {
    services: { list: () => [{ name: 'web', spec }] },
    journal: { append: () => undefined },
  } as unknown as Store;
  const monitor = new HealthMonitor({
    router,
    store,
    runtime: { inspectInstance: () => Promise.resolve(null) },
    busy: () => true,
    exists: () => Promise.resolve(true),
  });
  await monitor.tick(10);
  await monitor.tick(20);
  assert.equal(drained, 0);
});
