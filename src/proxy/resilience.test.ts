// Resilience: passive ejection, body limit, header timeout, error kinds and the stats window.
import assert from 'node:assert/strict';
import http from 'node:http';
import net from 'node:net';
import { test } from 'node:test';
import { LATENCY_BOUNDS_MS } from './core/stats.js';
import {
  freePort,
  json,
  request,
  sleep,
  startProxy,
  startUpstream,
  type EchoReply,
  type TestProxy,
  cleanupAfterAll,
} from './test-support.js';
import type { ProxyOptions } from './main.js';

const cleanup = cleanupAfterAll();

async function service(
  extra: Partial<ProxyOptions> = {},
  config: { maxBodyBytes?: number } = {},
): Promise<TestProxy & { port: number }> {
  const p = await startProxy(undefined, extra);
  cleanup(() => p.proxy.close());
  const port = await freePort();
  await p.client.ensureService('web', { listen: `127.0.0.1:${port}`, ...config });
  return { ...p, port };
}

async function upstream(name: string, handler?: http.RequestListener) {
  const up = await startUpstream(name, handler);
  cleanup(() => up.close());
  return up;
}

test('passive ejection: 3 failed connects eject a backend; after the pause one trial request', async () => {
  const p = await service({ ejectMs: 300 });
  const good = await upstream('good');
  const deadPort = await freePort();
  await p.client.addBackend('web', { id: 'dead', revision: 1, address: `127.0.0.1:${deadPort}` });
  await p.client.addBackend('web', { id: 'good', revision: 1, address: good.address });
  for (let i = 0; i < 10; i++) assert.equal((await request(p.port)).status, 200);
  let stats = await p.client.stats('web');
  assert.equal(stats.instances['dead']!.errorsByKind.connect, 3);
  assert.equal(stats.instances['dead']!.ejected, true);
  assert.equal(stats.instances['dead']!.ejections, 1);
  assert.equal(stats.revisions['1']!.errors, 0, 'every failed connect was retried');

  // The pause ends: one trial, which fails again → ejected again at once.
  await sleep(350);
  for (let i = 0; i < 4; i++) assert.equal((await request(p.port)).status, 200);
  stats = await p.client.stats('web');
  assert.equal(stats.instances['dead']!.errorsByKind.connect, 4);
  assert.equal(stats.instances['dead']!.ejections, 2);

  // The backend comes back: its next trial succeeds and it takes traffic again.
  const revived = await startUpstream('revived');
  revived.server.close();
  await new Promise<void>((resolve) => revived.server.listen(deadPort, '127.0.0.1', resolve));
  cleanup(() => revived.close());
  await sleep(350);
  const names = new Set<string>();
  for (let i = 0; i < 10; i++) names.add(json<EchoReply>(await request(p.port)).name);
  assert.deepEqual([...names].sort(), ['good', 'revived']);
  stats = await p.client.stats('web');
  assert.equal(stats.instances['dead']!.ejected, false);
});

test('ejection never removes the last backend', async () => {
  const p = await service({ ejectMs: 300 });
  const dead = await freePort();
  await p.client.addBackend('web', { id: 'dead', revision: 1, address: `127.0.0.1:${dead}` });
  for (let i = 0; i < 5; i++) assert.equal((await request(p.port)).status, 502);
  const stats = await p.client.stats('web');
  assert.equal(stats.instances['dead']!.ejected, false);
  assert.equal(stats.revisions['1']!.errorsByKind.connect, 5);
  assert.equal(stats.unavailable, 0);
});

test('413 above maxBodyBytes, by content-length or while a chunked body streams', async () => {
  const p = await service({}, { maxBodyBytes: 1000 });
  const up = await upstream('a');
  await p.client.addBackend('web', { id: 'a', revision: 1, address: up.address });
  const small = await request(p.port, { method: 'POST', body: 'x'.repeat(1000) });
  assert.equal(small.status, 200);
  const big = await request(p.port, { method: 'POST', body: 'x'.repeat(2000) });
  assert.equal(big.status, 413);
  assert.match(big.body.toString(), /^hotswap: request body larger than 1000 bytes/);
  assert.equal(up.hits, 1, 'a body known to be too large never reaches the app');

  const chunked = await new Promise<number>((resolve, reject) => {
    const req = http.request({ host: '127.0.0.1', port: p.port, method: 'POST', agent: false });
    req.on('response', (res) => {
      res.resume();
      resolve(res.statusCode ?? 0);
    });
    req.on('error', reject);
    req.write('y'.repeat(600));
    setTimeout(() => req.write('y'.repeat(600)), 30);
  });
  assert.equal(chunked, 413);
  const stats = await p.client.stats('web');
  assert.equal(stats.revisions['1']!.statuses['4xx'], 1, 'the streamed one reached a backend');
  assert.equal(stats.revisions['1']!.errors, 0);
});

test('504 when the upstream sends no headers in time; errors counted by kind', async () => {
  const p = await service({ upstreamTimeoutMs: 200 });
  const up = await upstream('a', (req, res) => {
    if (req.url === '/silent') return;
    if (req.url === '/reset') {
      res.writeHead(200, { 'content-length': 100 });
      res.write('partial');
      setTimeout(() => req.socket.destroy(), 20);
      return;
    }
    res.end('ok');
  });
  await p.client.addBackend('web', { id: 'a', revision: 1, address: up.address });
  const started = Date.now();
  const slow = await request(p.port, { path: '/silent' });
  assert.equal(slow.status, 504);
  assert.ok(Date.now() - started >= 190);
  assert.match(slow.body.toString(), /^hotswap: upstream timed out/);
  await assert.rejects(request(p.port, { path: '/reset' }));
  await sleep(20);
  const stats = await p.client.stats('web');
  assert.equal(stats.revisions['1']!.errorsByKind.timeout, 1);
  assert.equal(stats.revisions['1']!.errorsByKind.reset, 1);
  assert.equal(stats.instances['a']!.errorsByKind.timeout, 1);
  assert.equal(stats.instances['a']!.errors, 2);
});

test('stats: log buckets, status classes and the sliding window of raw samples', async () => {
  const p = await service();
  const up = await upstream('a', (req, res) => {
    const delay = req.url === '/slow' ? 30 : 0;
    setTimeout(() => {
      res.statusCode = req.url === '/fail' ? 500 : 200;
      res.end('x');
    }, delay);
  });
  await p.client.addBackend('web', { id: 'a', revision: 1, address: up.address });
  for (let i = 0; i < 6; i++) await request(p.port);
  for (let i = 0; i < 2; i++) await request(p.port, { path: '/fail' });
  for (let i = 0; i < 2; i++) await request(p.port, { path: '/slow' });
  const stats = await p.client.stats('web', { windowMs: 60_000 });
  const rev = stats.revisions['1']!;
  assert.equal(rev.requests, 10);
  assert.deepEqual(rev.statuses, { '2xx': 8, '5xx': 2 });
  assert.equal(rev.errors, 0, 'an app 5xx is not a proxy failure');
  assert.equal(rev.windowMs, 60_000);
  assert.equal(rev.windowRequests, 10);
  assert.equal(rev.windowErrors, 2, '5xx count in the window');
  assert.equal(rev.samples!.length, 10);
  assert.ok(rev.samples!.filter((x) => x >= 29).length === 2, JSON.stringify(rev.samples));
  assert.equal(rev.inFlight, 0);
  const h = rev.latencyMs;
  assert.deepEqual(h.bounds, LATENCY_BOUNDS_MS);
  for (let i = 1; i < h.bounds.length; i++) {
    const ratio = h.bounds[i]! / h.bounds[i - 1]!;
    assert.ok(Math.abs(ratio - Math.SQRT2) < 0.01, `bucket ${i} ratio ${ratio}`);
  }
  assert.equal(
    h.counts.reduce((a, b) => a + b, 0),
    10,
  );
  // Without windowMs the window fields are left out; a short window holds nothing yet.
  const plain = await p.client.stats('web');
  assert.equal(plain.revisions['1']!.samples, undefined);
  await sleep(30);
  const empty = await p.client.stats('web', { windowMs: 10 });
  assert.equal(empty.revisions['1']!.windowRequests, 0);
  assert.deepEqual(empty.revisions['1']!.samples, []);
});

test('the client connection is closed when it idles mid-request', async () => {
  const p = await service({ clientIdleTimeoutMs: 200 });
  const up = await upstream('a');
  await p.client.addBackend('web', { id: 'a', revision: 1, address: up.address });
  const socket = net.connect({ host: '127.0.0.1', port: p.port });
  socket.on('error', () => undefined);
  socket.write('POST / HTTP/1.1\r\nhost: x\r\ncontent-length: 10\r\n\r\nabc');
  const started = Date.now();
  await new Promise<void>((resolve) => socket.on('close', () => resolve()));
  const elapsed = Date.now() - started;
  assert.ok(elapsed >= 150 && elapsed < 2000, `closed after ${elapsed} ms`);
});

test('a request head that trickles in is cut at the headers timeout, counted from its first byte', async () => {
  const p = await service({ headersTimeoutMs: 300 });
  const up = await upstream('a');
  await p.client.addBackend('web', { id: 'a', revision: 1, address: up.address });
  const socket = net.connect({ host: '127.0.0.1', port: p.port });
  socket.on('error', () => undefined);
  socket.write('GET / HTTP/1.1\r\nhost: x\r\n');
  // A byte every 40 ms: never silent, never done.
  const drip = setInterval(() => socket.write('x'), 40);
  const started = Date.now();
  await new Promise<void>((resolve) => socket.on('close', () => resolve()));
  clearInterval(drip);
  const elapsed = Date.now() - started;
  assert.ok(elapsed >= 250 && elapsed < 2000, `closed after ${elapsed} ms`);
  assert.equal(up.hits, 0);
});
