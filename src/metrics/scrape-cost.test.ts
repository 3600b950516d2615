// Issue 15 target "metrics scrape < 50 ms with 50 services": a real proxy (control socket, route
// table, counters with traffic in them) holding 50 services of 2 revisions and 2 backends each,
// and the daemon's registry, scraped the way GET /metrics does it. Prints the figures; the only
// assertions are on the content (a timed assertion would fail on a loaded machine, not on a bug).
// The daemon's `hotswap_instances` reads Docker at scrape time; here it gets a fixed list, so the
// figure leaves out the engine's answer to one container listing.
import assert from 'node:assert/strict';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { performance } from 'node:perf_hooks';
import type { Instance } from '../runtime/types.js';
import { Store } from '../store/index.js';
import { freePort, request, startProxy, startUpstream } from '../proxy/test-support.js';
import { DaemonMetrics } from './daemon-metrics.js';
import { scrape } from './server.js';

const SERVICES = 50;
const SCRAPES = 30;

test(`one scrape with ${SERVICES} services (prints the time)`, async () => {
  const p = await startProxy();
  const up = await startUpstream('app');
  const store = Store.open(join(mkdtempSync(join(tmpdir(), 'hotswap-scrape-')), 'hotswap.db'));
  after(async () => {
    await p.proxy.close();
    await up.close();
    store.close();
  });
  const instances: Partial<Instance>[] = [];
  for (let s = 0; s < SERVICES; s++) {
    const name = `svc${s}`;
    const port = await freePort();
    await p.client.ensureService(name, { listen: `127.0.0.1:${port}` });
    for (const revision of [1, 2]) {
      for (const k of [0, 1]) {
        await p.client.addBackend(name, {
          id: `${name}-r${revision}-${k}`,
          revision,
          address: up.address,
        });
        instances.push({ service: name, state: 'running' });
      }
    }
    await p.client.setWeights(name, { '1': 80, '2': 20 });
    for (let i = 0; i < 10; i++) await request(port);
    store.journal.append({ service: name, event: 'step.started', data: { kind: 'setWeight' } });
  }
  const daemon = new DaemonMetrics({
    store,
    listInstances: () => Promise.resolve(instances as Instance[]),
  });
  const sources = { daemon, proxyText: () => p.client.metricsText() };
  await scrape(sources); // warm-up: the first call compiles the code paths
  const ms: number[] = [];
  let text = '';
  for (let i = 0; i < SCRAPES; i++) {
    const t0 = performance.now();
    text = await scrape(sources);
    ms.push(performance.now() - t0);
  }
  ms.sort((a, b) => a - b);
  const at = (q: number) => ms[Math.min(ms.length - 1, Math.floor(q * ms.length))]!.toFixed(2);
  const lines = text.split('\n').filter((l) => l !== '' && !l.startsWith('#')).length;
  console.log(
    `metrics scrape, ${SERVICES} services × 2 revisions: median ${at(0.5)} ms, p90 ${at(0.9)} ms, max ${at(1)} ms over ${SCRAPES} scrapes; ${lines} samples, ${Buffer.byteLength(text)} bytes`,
  );
  assert.match(text, /\nhotswap_proxy_up 1\n/);
  for (const s of [0, SERVICES - 1]) {
    assert.ok(
      text.includes(`hotswap_proxy_requests_total{service="svc${s}",revision="1",code="2xx"}`),
    );
    assert.ok(
      text.includes(`hotswap_proxy_backends{service="svc${s}",revision="2",state="active"} 2`),
    );
  }
  const requests = [...text.matchAll(/^hotswap_proxy_requests_total\{[^}]*code="2xx"\} (\d+)$/gm)];
  assert.equal(
    requests.reduce((n, m) => n + Number(m[1]), 0),
    SERVICES * 10,
  );
});
