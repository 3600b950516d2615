// The verify polls until the instance shows its new files, or fails at the timeout with why.
import assert from 'node:assert/strict';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, test } from 'node:test';
import { sampleService } from '../spec/sample.js';
import { verify } from './verify.js';
import type { ProbeTarget } from '../health/index.js';

let body = 'old';
let healthy = true;
let address = '';
const server = http.createServer((req, res) => {
  if (req.url === '/healthz') res.statusCode = healthy ? 200 : 503;
  res.end(body);
});
before(async () => {
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  address = `127.0.0.1:${(server.address() as AddressInfo).port}`;
});
after(() => server.close());

/** A probe target at an address (http and tcp probes need nothing else). */
const at = (address: string): ProbeTarget => ({
  instanceId: 'i1',
  address,
  runtime: { inspectInstance: () => Promise.resolve(null) },
});

const health = {
  ...sampleService().health,
  check: { type: 'http' as const, path: '/healthz' },
};

test('http: waits for the expected body, which may come a little after the trigger', async () => {
  body = 'old';
  setTimeout(() => (body = 'new config'), 150);
  await verify(at(address), { type: 'http', path: '/', status: 200, body: 'new' }, health, 2000);
});

test('http: fails at the timeout, saying what it saw', async () => {
  body = 'old';
  await assert.rejects(
    verify(at(address), { type: 'http', path: '/', status: 200, body: 'new' }, health, 300),
    /reload verify failed for 300 ms: GET \/ answered without "new"/,
  );
});

test('probe: the service health check must pass', async () => {
  healthy = true;
  await verify(at(address), { type: 'probe' }, health, 500);
  healthy = false;
  await assert.rejects(verify(at(address), { type: 'probe' }, health, 300), /health probe/);
  healthy = true;
});

test('no verify: nothing to wait for', async () => {
  await verify(at('127.0.0.1:1'), null, health, 100);
});
