// Raw TCP mode: splice, retry of a refused connect, drain policies, listener rules.
import assert from 'node:assert/strict';
import net from 'node:net';
import { test } from 'node:test';
import { HotswapError } from '../../errors.js';
import {
  freePort,
  readUntil,
  sleep,
  startProxy,
  startTcpEcho,
  type TestProxy,
  cleanupAfterAll,
} from '../test-support.js';

const cleanup = cleanupAfterAll();

async function tcpService(longConnections?: {
  policy: 'keep' | 'close';
  timeoutMs: number;
}): Promise<TestProxy & { port: number }> {
  const p = await startProxy();
  cleanup(() => p.proxy.close());
  const port = await freePort();
  await p.client.ensureService('db', { listen: `127.0.0.1:${port}`, mode: 'tcp', longConnections });
  return { ...p, port };
}

async function echo(name: string) {
  const e = await startTcpEcho(name);
  cleanup(() => e.close());
  return e;
}

function connect(port: number): Promise<net.Socket> {
  return new Promise((resolve, reject) => {
    const s = net.connect({ host: '127.0.0.1', port, allowHalfOpen: true }, () => resolve(s));
    s.on('error', reject);
  });
}

test('tcp: bytes flow both ways, half-close passes through', async () => {
  const p = await tcpService();
  const a = await echo('a');
  await p.client.addBackend('db', { id: 'a', revision: 1, address: a.address });
  const s = await connect(p.port);
  const got = readUntil(s, (t) => t.includes('ping pong'));
  s.write('ping ');
  await sleep(20);
  s.write('pong');
  assert.equal(await got, 'a\nping pong');
  const big = Buffer.alloc(2_000_000, 7);
  let received = 0;
  const ended = new Promise<void>((resolve) => {
    s.on('data', (c: Buffer) => (received += c.length));
    s.on('end', resolve);
  });
  s.end(big); // half-close after the data: the echo finishes and closes its side too
  await ended;
  assert.equal(received, big.length);
  const stats = await p.client.stats('db');
  assert.equal(stats.long.opened, 1);
  await sleep(50);
  assert.equal((await p.client.stats('db')).long.open, 0);
  assert.equal((await p.client.stats('db')).revisions['1']!.requests, 1);
});

test('tcp: a refused connect is retried on another backend; repeated failures eject it', async () => {
  const p = await tcpService();
  const good = await echo('good');
  const dead = await freePort();
  await p.client.addBackend('db', { id: 'dead', revision: 1, address: `127.0.0.1:${dead}` });
  await p.client.addBackend('db', { id: 'good', revision: 1, address: good.address });
  for (let i = 0; i < 8; i++) {
    const s = await connect(p.port);
    assert.equal(await readUntil(s, (t) => t.endsWith('\n')), 'good\n');
    s.destroy();
  }
  const stats = await p.client.stats('db');
  assert.equal(stats.instances['dead']!.errorsByKind.connect, 3);
  assert.equal(stats.instances['dead']!.ejected, true);
  assert.equal(stats.revisions['1']!.errors, 0);
});

test('tcp drain: keep until the budget, then cut; close cuts at once', async () => {
  const p = await tcpService();
  const a = await echo('a');
  const b = await echo('b');
  await p.client.addBackend('db', { id: 'a', revision: 1, address: a.address });
  const s = await connect(p.port);
  assert.equal(await readUntil(s, (t) => t.endsWith('\n')), 'a\n');
  const ended = new Promise<number>((resolve) => s.on('end', () => resolve(Date.now())));
  await p.client.addBackend('db', { id: 'b', revision: 2, address: b.address });
  await p.client.setWeights('db', { '2': 1 });
  const started = Date.now();
  const draining = p.client.drain('db', 'a', 1000, {
    longConnections: { policy: 'keep', timeoutMs: 300 },
  });
  await sleep(100);
  const echoed = readUntil(s, (t) => t === 'still here');
  s.write('still here');
  await echoed;
  // New connections go to b meanwhile.
  const s2 = await connect(p.port);
  assert.equal(await readUntil(s2, (t) => t.endsWith('\n')), 'b\n');
  const endAt = await ended;
  const result = await draining;
  assert.ok(endAt - started >= 250, `cut after ${endAt - started} ms`);
  assert.deepEqual(result.long, { atStart: 1, closedByPeer: 0, cut: 1 });

  const cutNow = await p.client.drain('db', 'b', 1000, {
    longConnections: { policy: 'close', timeoutMs: 0 },
  });
  assert.deepEqual(cutNow.long, { atStart: 1, closedByPeer: 0, cut: 1 });
  assert.ok(cutNow.waitedMs < 200);
  await new Promise<void>((resolve) => (s2.readableEnded ? resolve() : s2.on('end', resolve)));
  assert.equal((await p.client.stats('db')).long.cut, 2);
});

test('tcp listeners are not shared; tcp services take no http rules', async () => {
  const p = await tcpService();
  const listen = (await p.client.table()).services.db!.listen;
  await assert.rejects(
    p.client.ensureService('web', { listen, hosts: ['example.com'] }),
    (e: HotswapError) => e.code === 'CONFLICT' && /tcp listener cannot be shared/.test(e.message),
  );
  await assert.rejects(
    p.client.ensureService('db2', { listen: '127.0.0.1:1', mode: 'tcp', pathPrefix: '/x' }),
    (e: HotswapError) => e.code === 'PROXY_REJECTED' && e.message.startsWith('mode:'),
  );
});
