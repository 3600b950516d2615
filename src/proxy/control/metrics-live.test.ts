// GET /metrics on a running proxy: retries, ejections and drains counted where they happen, and
// a revision that lost its backends and its weight is no longer rendered.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { cleanupAfterAll, freePort, request, startProxy, startUpstream } from '../test-support.js';

const cleanup = cleanupAfterAll();

function value(text: string, sample: string): number {
  const line = text.split('\n').find((l) => l.startsWith(`${sample} `));
  assert.ok(line, `no ${sample} in:\n${text}`);
  return Number(line.slice(sample.length + 1));
}

test('retries, ejections, drains and the live revisions, through the control socket', async () => {
  const p = await startProxy();
  cleanup(() => p.proxy.close());
  const good = await startUpstream('good');
  cleanup(() => good.close());
  const port = await freePort();
  await p.client.ensureService('web', { listen: `127.0.0.1:${port}` });
  const dead = `127.0.0.1:${await freePort()}`;
  await p.client.addBackend('web', { id: 'dead', revision: 1, address: dead });
  await p.client.addBackend('web', { id: 'good', revision: 1, address: good.address });
  for (let i = 0; i < 10; i++) assert.equal((await request(port)).status, 200);

  let text = await p.client.metricsText();
  const web = 'service="web"';
  assert.equal(value(text, `hotswap_proxy_retries_total{${web}}`), 3);
  assert.equal(value(text, `hotswap_proxy_ejections_total{${web}}`), 1);
  assert.equal(value(text, `hotswap_proxy_requests_total{${web},revision="1",code="2xx"}`), 10);
  assert.equal(value(text, `hotswap_proxy_backends{${web},revision="1",state="ejected"}`), 1);
  assert.equal(value(text, `hotswap_proxy_backends{${web},revision="1",state="active"}`), 1);

  // Revision 2 takes over; revision 1's backends are drained: it leaves the exposition.
  await p.client.addBackend('web', { id: 'next', revision: 2, address: good.address });
  await p.client.setWeights('web', { '2': 1 });
  await p.client.drain('web', 'dead', 1000);
  await p.client.drain('web', 'good', 1000);
  assert.equal((await request(port)).status, 200);
  text = await p.client.metricsText();
  assert.equal(value(text, `hotswap_proxy_drains_total{${web}}`), 2);
  assert.equal(value(text, `hotswap_proxy_requests_total{${web},revision="2",code="2xx"}`), 1);
  assert.doesNotMatch(text, /revision="1"/);
});
