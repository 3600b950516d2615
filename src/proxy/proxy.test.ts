// End to end through runProxy: a real proxy process-in-a-test, real sockets, small upstream apps.
import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import http from 'node:http';
import { test } from 'node:test';
import { HotswapError } from '../errors.js';
import {
  echo,
  freePort,
  json,
  request,
  sleep,
  startProxy,
  startUpstream,
  type EchoReply,
  type TestProxy,
  type Upstream,
  cleanupAfterAll,
} from './test-support.js';

const cleanup = cleanupAfterAll();

async function proxyWithService(service = 'web'): Promise<TestProxy & { port: number }> {
  const p = await startProxy();
  cleanup(() => p.proxy.close());
  const port = await freePort();
  await p.client.ensureService(service, { listen: `127.0.0.1:${port}` });
  return { ...p, port };
}

async function upstream(name: string, handler?: http.RequestListener): Promise<Upstream> {
  const up = await startUpstream(name, handler);
  cleanup(() => up.close());
  return up;
}

async function served(port: number, n: number): Promise<Map<string, number>> {
  const counts = new Map<string, number>();
  for (let i = 0; i < n; i++) {
    const reply = await request(port);
    assert.equal(reply.status, 200);
    const name = json<EchoReply>(reply).name;
    counts.set(name, (counts.get(name) ?? 0) + 1);
  }
  return counts;
}

test('weights route traffic: 100:0 → all to revision 1, 50:50 → both', async () => {
  const p = await proxyWithService();
  const [a, b] = [await upstream('a'), await upstream('b')];
  await p.client.addBackend('web', { id: 'a', revision: 1, address: a.address });
  await p.client.addBackend('web', { id: 'a', revision: 1, address: a.address }); // idempotent
  await p.client.addBackend('web', { id: 'b', revision: 2, address: b.address });
  await p.client.setWeights('web', { '1': 100, '2': 0 });
  assert.deepEqual([...(await served(p.port, 20))], [['a', 20]]);
  await p.client.setWeights('web', { '1': 50, '2': 50 });
  const counts = await served(p.port, 40);
  assert.equal(counts.get('a'), 20);
  assert.equal(counts.get('b'), 20);

  const stats = await p.client.stats('web');
  assert.equal(stats.revisions['1']!.requests, 40);
  assert.equal(stats.revisions['1']!.statuses['2xx'], 40);
  assert.equal(stats.revisions['2']!.requests, 20);
  assert.equal(stats.instances['a']!.inFlight, 0);
  const hist = stats.revisions['1']!.latencyMs;
  assert.equal(
    hist.counts.reduce((x, y) => x + y, 0),
    40,
  );
  const table = await p.client.table();
  assert.deepEqual(
    table.services.web!.backends.map((x) => x.id),
    ['a', 'b'],
  );
});

test('streams a 5 MB POST body and a chunked response; adds X-Forwarded-*', async () => {
  const p = await proxyWithService();
  const chunked = await upstream('chunked', (req, res) => {
    if (req.url === '/echo') return echo('chunked')(req, res);
    res.writeHead(200, { 'content-type': 'application/octet-stream' });
    let i = 0;
    const timer = setInterval(() => {
      res.write(Buffer.alloc(10_000, i % 256));
      if (++i === 50) {
        clearInterval(timer);
        res.end();
      }
    }, 2);
  });
  await p.client.addBackend('web', { id: 'c', revision: 1, address: chunked.address });
  await p.client.setWeights('web', { '1': 1 });

  const body = randomBytes(5 * 1024 * 1024);
  const reply = await request(p.port, {
    method: 'POST',
    path: '/echo',
    body,
    headers: {
      'content-length': body.length,
      host: 'example.test',
      connection: 'keep-alive, x-secret',
      'x-secret': 'hop',
      'x-forwarded-for': '10.1.2.3',
    },
  });
  assert.equal(reply.status, 200);
  const e = json<EchoReply>(reply);
  assert.equal(e.bytes, body.length);
  assert.equal(e.sha256, createHash('sha256').update(body).digest('hex'));
  assert.equal(e.headers['x-forwarded-for'], '10.1.2.3, 127.0.0.1');
  assert.equal(e.headers['x-forwarded-proto'], 'http');
  assert.equal(e.headers['x-forwarded-host'], 'example.test');
  assert.equal(e.headers.host, 'example.test');
  assert.match(String(e.headers['x-request-id']), /^[0-9a-f-]{36}$/);
  assert.equal(e.headers['x-secret'], undefined, 'headers named in Connection are hop-by-hop');

  // A chunked request body (no content-length) arrives whole too, and x-request-id is kept.
  const chunkedBody = await new Promise<EchoReply>((resolve, reject) => {
    const req = http.request(
      {
        host: '127.0.0.1',
        port: p.port,
        method: 'PUT',
        path: '/echo',
        agent: false,
        headers: { 'x-request-id': 'r-1' },
      },
      (res) => {
        const parts: Buffer[] = [];
        res.on('data', (c: Buffer) => parts.push(c));
        res.on('end', () => resolve(JSON.parse(Buffer.concat(parts).toString()) as EchoReply));
      },
    );
    req.on('error', reject);
    req.write(body.subarray(0, 100_000));
    setTimeout(() => req.end(body.subarray(100_000, 300_000)), 20);
  });
  assert.equal(chunkedBody.bytes, 300_000);
  assert.equal(chunkedBody.headers['transfer-encoding'], 'chunked');
  assert.equal(chunkedBody.headers['x-request-id'], 'r-1');

  const stream = await request(p.port, { path: '/stream' });
  assert.equal(stream.status, 200);
  assert.equal(stream.headers['transfer-encoding'], 'chunked');
  assert.equal(stream.body.length, 500_000);
  assert.equal(stream.body[499_999], 49);
});

test('drain waits for an in-flight request, then the backend is gone', async () => {
  const p = await proxyWithService();
  const slow = await upstream('slow', (_req, res) => {
    setTimeout(() => res.end('done'), 300);
  });
  await p.client.addBackend('web', { id: 's', revision: 1, address: slow.address });
  const inFlight = request(p.port);
  await sleep(50);
  const started = Date.now();
  const result = await p.client.drain('web', 's', 5000);
  assert.equal(result.drained, true);
  assert.equal(result.inFlight, 0);
  assert.ok(result.waitedMs >= 200 && Date.now() - started < 2000, `waited ${result.waitedMs} ms`);
  assert.equal((await inFlight).body.toString(), 'done');
  assert.deepEqual((await p.client.table()).services.web!.backends, []);
  assert.equal((await request(p.port)).status, 503);
  // The drained backend's numbers stay with its revision.
  assert.equal((await p.client.stats('web')).revisions['1']!.requests, 1);
});

test('drain times out with the count of requests still in flight', async () => {
  const p = await proxyWithService();
  const stuck = await upstream('stuck', (_req, res) => {
    setTimeout(() => res.end('late'), 3000);
  });
  await p.client.addBackend('web', { id: 's', revision: 1, address: stuck.address });
  const inFlight = request(p.port);
  await sleep(50);
  const result = await p.client.drain('web', 's', 200);
  assert.equal(result.drained, false);
  assert.equal(result.inFlight, 1);
  assert.ok(result.waitedMs >= 190 && result.waitedMs < 1000, `waited ${result.waitedMs} ms`);
  assert.deepEqual((await p.client.table()).services.web!.backends, []);
  // Past its budget the request is cut; with no other backend to move to, the client gets a 502.
  const cut = await inFlight;
  assert.equal(cut.status, 502);
  assert.match(cut.body.toString(), /drained: no answer within the drain's 200 ms/);
  await assert.rejects(
    p.client.drain('web', 's', 100),
    (e: HotswapError) => e.code === 'NOT_FOUND',
  );
});

test('a backend that refuses connections is retried on another; the POST body arrives intact', async () => {
  const p = await proxyWithService();
  const good = await upstream('good');
  const dead = await freePort();
  await p.client.addBackend('web', { id: 'dead', revision: 1, address: `127.0.0.1:${dead}` });
  await p.client.addBackend('web', { id: 'good', revision: 1, address: good.address });
  const body = randomBytes(256 * 1024);
  const sum = createHash('sha256').update(body).digest('hex');
  for (let i = 0; i < 6; i++) {
    const reply = await request(p.port, {
      method: 'POST',
      body,
      headers: { 'content-length': body.length },
    });
    assert.equal(reply.status, 200);
    assert.equal(json<EchoReply>(reply).sha256, sum);
  }
  const stats = await p.client.stats('web');
  assert.ok(stats.instances['dead']!.errors >= 3);
  assert.equal(stats.revisions['1']!.errors, 0);
  assert.equal(stats.instances['dead']!.inFlight, 0);

  // With no other backend the failure is a 502 naming hotswap.
  await p.client.drain('web', 'good', 1000);
  const reply = await request(p.port);
  assert.equal(reply.status, 502);
  assert.match(reply.body.toString(), /^hotswap: upstream connection failed \(ECONNREFUSED\)/);
});

test('keep-alive race: an idempotent GET reset on a reused socket is retried, a POST is not', async () => {
  const p = await proxyWithService();
  // Serves the first request of each connection, then drops the connection on the next one.
  const flaky = await upstream('flaky', (req, res) => {
    const socket = req.socket as typeof req.socket & { served?: number };
    socket.served = (socket.served ?? 0) + 1;
    if (socket.served > 1) {
      req.resume();
      socket.destroy();
      return;
    }
    res.end(JSON.stringify({ name: 'flaky' }));
  });
  const good = await upstream('good');
  await p.client.addBackend('web', { id: 'flaky', revision: 1, address: flaky.address });
  await p.client.addBackend('web', { id: 'good', revision: 1, address: good.address });
  await p.client.setWeights('web', { '1': 1 });
  const names: string[] = [];
  for (let i = 0; i < 6; i++) {
    const reply = await request(p.port);
    assert.equal(reply.status, 200);
    names.push(json<EchoReply>(reply).name);
  }
  // flaky, good, flaky (reset → good), flaky (new socket), good, flaky (reset → good)
  assert.deepEqual(names, ['flaky', 'good', 'good', 'flaky', 'good', 'good']);
  assert.equal(flaky.hits, 4);
  // Reuse the pooled socket to flaky with a POST: it fails once and is not replayed.
  await p.client.drain('web', 'good', 1000);
  const warm = await request(p.port); // fresh socket: served
  assert.equal(warm.status, 200);
  const post = await request(p.port, {
    method: 'POST',
    body: 'x',
    headers: { 'content-length': 1 },
  });
  assert.equal(post.status, 502);
  assert.equal(flaky.hits, 6);
});

test('503 without backends, 504 on upstream timeout (requests and upgrades)', async () => {
  const p = await startProxy(undefined, { upstreamTimeoutMs: 200 });
  cleanup(() => p.proxy.close());
  const port = await freePort();
  await p.client.ensureService('web', { listen: `127.0.0.1:${port}` });
  const none = await request(port);
  assert.equal(none.status, 503);
  assert.equal(none.headers['content-type'], 'text/plain; charset=utf-8');
  assert.match(none.body.toString(), /^hotswap: no backend available/);
  assert.equal((await p.client.stats('web')).unavailable, 1);

  const silent = await upstream('silent', () => undefined);
  await p.client.addBackend('web', { id: 'q', revision: 1, address: silent.address });
  const timedOut = await request(port);
  assert.equal(timedOut.status, 504);
  assert.match(timedOut.body.toString(), /hotswap: upstream timed out/);
  const stats = await p.client.stats('web');
  assert.equal(stats.revisions['1']!.errors, 1);
  assert.equal(stats.revisions['1']!.statuses['5xx'], 1);
  assert.equal(stats.instances['q']!.inFlight, 0);

  const upgrade = await request(port, { headers: { connection: 'upgrade', upgrade: 'websocket' } });
  assert.equal(upgrade.status, 504);
  assert.match(upgrade.body.toString(), /^hotswap: upstream timed out/);
});

test('a client that disconnects mid-request releases its backend', async () => {
  const p = await proxyWithService();
  let cancelled = false;
  const slow = await upstream('slow', (req, res) => {
    res.on('close', () => (cancelled = !res.writableFinished));
    setTimeout(() => res.end('late'), 2000);
  });
  await p.client.addBackend('web', { id: 's', revision: 1, address: slow.address });
  const req = http.request({ host: '127.0.0.1', port: p.port, agent: false });
  req.on('error', () => undefined);
  req.end();
  await sleep(100);
  assert.equal((await p.client.stats('web')).instances['s']!.inFlight, 1);
  req.destroy();
  await sleep(100);
  assert.equal((await p.client.stats('web')).instances['s']!.inFlight, 0);
  assert.equal(cancelled, true, 'the upstream request is cancelled too');
});

test('the route table is persisted and restored by a second runProxy', async () => {
  const first = await startProxy();
  const a = await upstream('a');
  const port = await freePort();
  await first.client.ensureService('web', { listen: `127.0.0.1:${port}` });
  await first.client.addBackend('web', { id: 'a', revision: 3, address: a.address });
  await first.client.setWeights('web', { '3': 7 });
  const before = await first.client.table();
  await first.client.shutdown();
  await first.proxy.closed;
  await assert.rejects(first.client.health(), (e: HotswapError) => e.code === 'PROXY_UNAVAILABLE');
  await assert.rejects(request(port));

  const second = await startProxy(first.dir);
  cleanup(() => second.proxy.close());
  assert.deepEqual(await second.client.table(), before);
  assert.equal(json<EchoReply>(await request(port)).name, 'a');
  const health = await second.client.health();
  assert.equal(health.ok, true);
  assert.equal(health.pid, process.pid);
});

test('listen changes rebind; removing a service closes its listener', async () => {
  const p = await proxyWithService();
  const a = await upstream('a');
  await p.client.addBackend('web', { id: 'a', revision: 1, address: a.address });
  const port2 = await freePort();
  await p.client.ensureService('web', { listen: `127.0.0.1:${port2}` });
  assert.equal((await request(port2)).status, 200);
  await assert.rejects(request(p.port));
  const other = await freePort();
  await p.client.ensureService('api', { listen: `127.0.0.1:${other}` });
  await assert.rejects(
    p.client.ensureService('api', { listen: `127.0.0.1:${port2}` }),
    (e: HotswapError) => e.code === 'CONFLICT' && /listen/.test(e.message),
  );
  await p.client.removeService('web');
  await assert.rejects(request(port2));
  assert.deepEqual(Object.keys((await p.client.table()).services), ['api']);
});

test('control errors name the bad field', async () => {
  const p = await proxyWithService();
  const reject =
    (field: string, code = 'PROXY_REJECTED') =>
    (e: unknown) => {
      assert.ok(e instanceof HotswapError);
      assert.equal(e.code, code);
      assert.ok(e.message.startsWith(`${field}:`), e.message);
      return true;
    };
  const addr = '127.0.0.1:3000';
  await assert.rejects(p.client.ensureService('web', { listen: 'nope' }), reject('listen'));
  await assert.rejects(
    p.client.ensureService('bad name', { listen: '127.0.0.1:1' }),
    reject('service'),
  );
  await assert.rejects(
    p.client.addBackend('web', { id: '', revision: 1, address: addr }),
    reject('id'),
  );
  await assert.rejects(
    p.client.addBackend('web', { id: 'x', revision: 0, address: addr }),
    reject('revision'),
  );
  await assert.rejects(
    p.client.addBackend('web', { id: 'x', revision: 1, address: '10.0.0.5:80' }),
    reject('address'),
  );
  await p.client.addBackend('web', { id: 'x', revision: 1, address: addr });
  await assert.rejects(
    p.client.addBackend('web', { id: 'x', revision: 2, address: addr }),
    reject('revision', 'CONFLICT'),
  );
  await assert.rejects(p.client.setWeights('web', { '1': -1 }), reject('weights.1'));
  await assert.rejects(p.client.setWeights('web', { latest: 1 }), reject('weights.latest'));
  await assert.rejects(p.client.drain('web', 'x', -5), reject('timeoutMs'));
  await assert.rejects(
    p.client.setWeights('nope', { '1': 1 }),
    (e: HotswapError) => e.code === 'NOT_FOUND',
  );

  // The raw API: status codes and JSON bodies.
  const raw = await new Promise<{ status: number; body: { code: string; message: string } }>(
    (resolve) => {
      const req = http.request(
        {
          socketPath: p.socketPath,
          method: 'PUT',
          path: '/services/web/weights',
          headers: { 'content-type': 'application/json' },
        },
        (res) => {
          let text = '';
          res.on('data', (c: Buffer) => (text += c.toString()));
          res.on('end', () =>
            resolve({
              status: res.statusCode ?? 0,
              body: JSON.parse(text) as { code: string; message: string },
            }),
          );
        },
      );
      req.end('{"weights": {"1": 1.5}}');
    },
  );
  assert.equal(raw.status, 400);
  assert.equal(raw.body.code, 'PROXY_REJECTED');
  assert.match(raw.body.message, /^weights\.1: /);
});

test('verifyWeights compares the live weights, missing ones as 0', async () => {
  const p = await proxyWithService();
  await p.client.setWeights('web', { '1': 100, '2': 0 });
  assert.equal(await p.client.verifyWeights('web', { '1': 100 }), true);
  assert.equal(await p.client.verifyWeights('web', { '1': 100, '2': 0, '3': 0 }), true);
  assert.equal(await p.client.verifyWeights('web', { '1': 50, '2': 50 }), false);
  assert.equal(await p.client.verifyWeights('web', { '2': 0 }), false);
});

test('a second proxy does not take over a live control socket', async () => {
  const p = await proxyWithService();
  await assert.rejects(
    startProxy(p.dir),
    (e: HotswapError) => e.code === 'CONFLICT' && /controlSocket/.test(e.message),
  );
  assert.equal((await p.client.health()).ok, true);
});

test('response headers: hop-by-hop and Connection-listed lines dropped, repeated lines all relayed', async () => {
  const p = await proxyWithService();
  const app = await upstream('h', (_req, res) => {
    // A flat list keeps the names' case and the repeated lines as the app wrote them.
    res.writeHead(200, [
      'Content-Type',
      'text/plain',
      'Connection',
      'keep-alive, X-Internal',
      'X-Internal',
      'secret',
      'Keep-Alive',
      'timeout=5',
      'X-Multi',
      'a',
      'X-Multi',
      'b',
      'Set-Cookie',
      'c1=1',
      'Set-Cookie',
      'c2=2',
    ]);
    res.end('ok');
  });
  await p.client.addBackend('web', { id: 'h', revision: 1, address: app.address });
  await p.client.setWeights('web', { '1': 1 });
  const reply = await request(p.port);
  assert.equal(reply.status, 200);
  assert.equal(reply.body.toString(), 'ok');
  assert.equal(reply.headers['content-type'], 'text/plain');
  assert.equal(reply.headers['x-internal'], undefined, 'named in Connection: hop-by-hop');
  assert.equal(reply.headers['keep-alive'], undefined);
  assert.equal(reply.headers['x-multi'], 'a, b');
  assert.deepEqual(reply.headers['set-cookie'], ['c1=1', 'c2=2']);
});
