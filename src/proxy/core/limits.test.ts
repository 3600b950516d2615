// The per-service limits of an edge proxy, on real sockets: connections per listener, the
// longest a long connection may live, and the idle timeout of TCP mode.
import assert from 'node:assert/strict';
import type http from 'node:http';
import net from 'node:net';
import { test } from 'node:test';
import {
  cleanupAfterAll,
  freePort,
  request,
  startProxy,
  startTcpEcho,
  startUpstream,
} from '../test-support.js';
import type { ServiceConfig } from '../types.js';

const cleanup = cleanupAfterAll();

async function service(config: Partial<ServiceConfig>, handler?: http.RequestListener) {
  const p = await startProxy();
  cleanup(() => p.proxy.close());
  const port = await freePort();
  await p.client.ensureService('web', { listen: `127.0.0.1:${port}`, ...config });
  if (config.mode === 'tcp') {
    const echo = await startTcpEcho('echo');
    cleanup(() => echo.close());
    await p.client.addBackend('web', { id: 'a', revision: 1, address: echo.address });
  } else {
    const up = await startUpstream('a', handler);
    cleanup(() => up.close());
    await p.client.addBackend('web', { id: 'a', revision: 1, address: up.address });
  }
  return { ...p, port };
}

function open(port: number): Promise<net.Socket> {
  return new Promise((resolve, reject) => {
    const s = net.connect({ host: '127.0.0.1', port }, () => resolve(s));
    s.on('error', reject);
    // Flowing, so an end from the proxy closes the socket.
    s.resume();
    cleanup(() => Promise.resolve(void s.destroy()));
  });
}

/** Resolves with the ms until the socket closed, or -1 if it is still open after `ms`. */
function closesWithin(socket: net.Socket, ms: number): Promise<number> {
  const t0 = Date.now();
  return new Promise((resolve) => {
    if (socket.destroyed) return resolve(0);
    const timer = setTimeout(() => resolve(-1), ms);
    socket.once('close', () => {
      clearTimeout(timer);
      resolve(Date.now() - t0);
    });
  });
}

test('maxConnections: connections past the limit are closed at once, the others serve', async () => {
  const p = await service({ maxConnections: 2 });
  const a = await open(p.port);
  const b = await open(p.port);
  const c = await open(p.port);
  assert.ok((await closesWithin(c, 1000)) >= 0, 'the third connection is closed');
  for (const s of [a, b]) {
    s.write('GET / HTTP/1.1\r\nHost: x\r\n\r\n');
    const text = await new Promise<string>((resolve) =>
      s.once('data', (d: Buffer) => resolve(d.toString())),
    );
    assert.match(text, /^HTTP\/1\.1 200 /);
  }
  a.destroy();
  await closesWithin(a, 100);
  await new Promise((r) => setTimeout(r, 50));
  assert.equal((await request(p.port)).status, 200, 'a slot freed serves again');
});

test('maxLongMs: an SSE stream is cut at its maximum duration', async () => {
  const p = await service({ maxLongMs: 300 }, (_req, res) => {
    res.writeHead(200, { 'content-type': 'text/event-stream' });
    res.write('data: hello\n\n');
  });
  const s = await open(p.port);
  const t0 = Date.now();
  let text = '';
  const ended = new Promise<number>((resolve) => {
    s.on('data', (d: Buffer) => {
      text += d.toString();
      if (text.endsWith('0\r\n\r\n')) resolve(Date.now() - t0);
    });
    s.on('close', () => resolve(Date.now() - t0));
  });
  s.write('GET /events HTTP/1.1\r\nHost: x\r\n\r\n');
  const ms = await ended;
  assert.ok(ms >= 250 && ms < 2000, `cut after ${ms} ms`);
  assert.match(text, /data: hello/);
  const stats = await p.client.stats('web');
  assert.equal(stats.long.cut, 1);
});

test('tcpIdleMs: a silent TCP connection is closed; a talking one stays', async () => {
  const p = await service({ mode: 'tcp', tcpIdleMs: 300 });
  const silent = await open(p.port);
  const talking = await open(p.port);
  const ping = setInterval(() => talking.write('ping\n'), 100);
  cleanup(() => Promise.resolve(clearInterval(ping)));
  const silentMs = await closesWithin(silent, 3000);
  assert.ok(silentMs >= 250 && silentMs < 2000, `silent closed after ${silentMs} ms`);
  assert.equal(await closesWithin(talking, 800), -1, 'the talking one is still open');
  clearInterval(ping);
});

test('limits are checked: whole numbers >= 0', async () => {
  const p = await startProxy();
  cleanup(() => p.proxy.close());
  const port = await freePort();
  await assert.rejects(
    p.client.ensureService('web', { listen: `127.0.0.1:${port}`, maxConnections: -1 }),
    /maxConnections: must be an integer >= 0/,
  );
});
