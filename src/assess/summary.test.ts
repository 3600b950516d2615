import assert from 'node:assert/strict';
import http from 'node:http';
import { test } from 'node:test';
import type { AddressInfo } from 'node:net';
import { LoadGenerator } from './loadgen.js';
import { percentile, summarize } from './summary.js';

test('percentile uses nearest rank', () => {
  const xs = Array.from({ length: 100 }, (_, i) => i + 1);
  assert.equal(percentile(xs, 50), 50);
  assert.equal(percentile(xs, 99), 99);
  assert.equal(percentile([7], 99), 7);
  assert.equal(percentile([], 50), 0);
});

test('summarize counts failures, error kinds and versions inside the window', () => {
  const base = { keepAlive: true, latencyMs: 1 };
  const s = summarize(
    [
      { ...base, at: 0, ok: true, status: 200, error: null, version: 'v1' },
      { ...base, at: 10, ok: false, status: 503, error: null, version: null },
      { ...base, at: 20, ok: false, status: null, error: 'ECONNRESET', version: null },
      { ...base, at: 30, ok: true, status: 200, error: null, version: 'v2' },
    ],
    5,
    31,
  );
  assert.equal(s.sent, 3);
  assert.equal(s.failed, 2);
  assert.deepEqual(s.errors, { 'HTTP 503': 1, ECONNRESET: 1 });
  assert.deepEqual(s.versions, { v2: 1 });
});

test('the load generator keeps its rate over both connection kinds', async () => {
  const server = http.createServer((_q, r) => r.writeHead(200, { 'x-version': 'v9' }).end('ok'));
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const port = (server.address() as AddressInfo).port;
  const load = new LoadGenerator({
    url: `http://127.0.0.1:${port}/`,
    ratePerSec: 200,
    connections: 'mixed',
  });
  load.start();
  await new Promise((r) => setTimeout(r, 1000));
  const samples = await load.stop();
  server.close();
  const sum = summarize(samples);
  assert.ok(sum.sent >= 180 && sum.sent <= 210, `sent ${sum.sent}`);
  assert.equal(sum.failed, 0);
  assert.deepEqual(Object.keys(sum.versions), ['v9']);
  assert.ok(samples.some((x) => x.keepAlive) && samples.some((x) => !x.keepAlive));
  assert.throws(
    () => new LoadGenerator({ url: 'http://10.0.0.1/', ratePerSec: 1, connections: 'new' }),
    /loopback/,
  );
});

test('keepAliveShare spreads kept-alive requests evenly', async () => {
  const server = http.createServer((_q, r) => r.end('ok'));
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const port = (server.address() as AddressInfo).port;
  const load = new LoadGenerator({
    url: `http://127.0.0.1:${port}/`,
    ratePerSec: 200,
    connections: 'new',
    keepAliveShare: 0.25,
    maxRequests: 100,
  });
  load.start();
  await new Promise((r) => setTimeout(r, 700));
  const samples = await load.stop();
  server.close();
  assert.equal(samples.length, 100);
  assert.equal(samples.filter((s) => s.keepAlive).length, 25);
});
