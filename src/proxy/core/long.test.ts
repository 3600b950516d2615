// Long connections (WebSocket, SSE) on a drain: `keep` lets them run until their budget ends,
// `close` cuts them at once; a cut WebSocket gets a 1001 close frame with the reason, never in
// the middle of one of the app's frames.
import assert from 'node:assert/strict';
import http from 'node:http';
import { test } from 'node:test';
import { FrameTracker } from './long.js';
import {
  encodeFrame,
  freePort,
  sleep,
  startProxy,
  startUpstream,
  startWsUpstream,
  wsConnect,
  type TestProxy,
  type WsFrame,
  cleanupAfterAll,
} from '../test-support.js';

const cleanup = cleanupAfterAll();

async function wsService(
  longConnections?: { policy: 'keep' | 'close'; timeoutMs: number },
  onPeer?: Parameters<typeof startWsUpstream>[1],
): Promise<TestProxy & { port: number }> {
  const p = await startProxy();
  cleanup(() => p.proxy.close());
  const up = await startWsUpstream('a', onPeer);
  cleanup(() => up.close());
  const port = await freePort();
  await p.client.ensureService('web', { listen: `127.0.0.1:${port}`, longConnections });
  await p.client.addBackend('web', { id: 'a', revision: 1, address: up.address });
  return { ...p, port };
}

function closeInfo(frame: WsFrame | undefined): { code: number; reason: string } {
  assert.ok(frame, 'a close frame arrives');
  assert.equal(frame.opcode, 8);
  return { code: frame.payload.readUInt16BE(0), reason: frame.payload.subarray(2).toString() };
}

test('keep: a drained backend keeps its WebSockets until the budget, then cuts them with 1001', async () => {
  const p = await wsService();
  const stays = await wsConnect(p.port);
  const leaves = await wsConnect(p.port);
  stays.send('one');
  assert.equal(await stays.text(), 'a:one');

  const started = Date.now();
  const draining = p.client.drain('web', 'a', 1000, {
    longConnections: { policy: 'keep', timeoutMs: 500 },
  });
  await sleep(100);
  leaves.close(1000, 'done');
  assert.equal(closeInfo(await leaves.next()).code, 1000);
  await sleep(100);
  // Still open and working while the budget runs.
  stays.send('two');
  assert.equal(await stays.text(), 'a:two');
  assert.equal((await p.client.stats('web')).long.open, 1);

  const close = closeInfo(await stays.next(2000));
  const cutAfter = Date.now() - started;
  assert.equal(close.code, 1001);
  assert.equal(close.reason, 'hotswap: instance drained');
  await stays.waitClosed();
  const result = await draining;
  assert.ok(cutAfter >= 450 && cutAfter < 1500, `cut after ${cutAfter} ms`);
  assert.equal(result.drained, true);
  assert.deepEqual(result.long, { atStart: 2, closedByPeer: 1, cut: 1 });
  assert.ok(result.waitedMs >= 450, `waited ${result.waitedMs}`);
  const stats = await p.client.stats('web');
  assert.equal(stats.long.open, 0);
  assert.equal(stats.long.cut, 1);
  assert.deepEqual((await p.client.table()).services.web!.backends, []);
});

test("close (the service's own policy): WebSockets are cut at once", async () => {
  const p = await wsService({ policy: 'close', timeoutMs: 0 });
  const ws = await wsConnect(p.port);
  ws.send('hi');
  assert.equal(await ws.text(), 'a:hi');
  const started = Date.now();
  const result = await p.client.drain('web', 'a', 5000);
  const close = closeInfo(await ws.next());
  assert.equal(close.code, 1001);
  assert.ok(Date.now() - started < 500);
  assert.deepEqual(result.long, { atStart: 1, closedByPeer: 0, cut: 1 });
  assert.ok(result.waitedMs < 300, `waited ${result.waitedMs}`);
  await ws.waitClosed();
});

test('a cut waits for the end of the frame the app is sending', async () => {
  const size = 100_000;
  const p = await wsService(undefined, (peer) => {
    void peer.next(5000).then(() => {
      // A frame in two parts, 300 ms apart: the cut comes in between.
      const frame = encodeFrame(Buffer.alloc(size, 0x61), 2, false);
      peer.socket.write(frame.subarray(0, 1000));
      setTimeout(() => peer.socket.write(frame.subarray(1000)), 300);
    });
  });
  const ws = await wsConnect(p.port);
  ws.send('go');
  await sleep(100);
  const result = await p.client.drain('web', 'a', 1000, {
    longConnections: { policy: 'close', timeoutMs: 0 },
  });
  assert.equal(result.long.cut, 1);
  const data = await ws.next();
  assert.equal(data?.opcode, 2);
  assert.equal(data?.payload.length, size);
  assert.equal(closeInfo(await ws.next()).code, 1001);
});

test('keep: an SSE stream on a drained backend ends cleanly at the budget', async () => {
  const p = await startProxy();
  cleanup(() => p.proxy.close());
  const up = await startUpstream('a', (_req, res) => {
    res.writeHead(200, { 'content-type': 'text/event-stream' });
    const timer = setInterval(() => res.write('data: tick\n\n'), 50);
    res.on('close', () => clearInterval(timer));
  });
  cleanup(() => up.close());
  const port = await freePort();
  await p.client.ensureService('web', { listen: `127.0.0.1:${port}` });
  await p.client.addBackend('web', { id: 'a', revision: 1, address: up.address });
  let events = 0;
  const ended = new Promise<{ complete: boolean; at: number }>((resolve, reject) => {
    http
      .get({ host: '127.0.0.1', port, agent: false }, (res) => {
        res.on('data', () => events++);
        res.on('end', () => resolve({ complete: res.complete, at: Date.now() }));
        res.on('error', reject);
      })
      .on('error', reject);
  });
  await sleep(100);
  const started = Date.now();
  const result = await p.client.drain('web', 'a', 1000, {
    longConnections: { policy: 'keep', timeoutMs: 300 },
  });
  const end = await ended;
  assert.equal(end.complete, true, 'the stream ends, it is not reset');
  assert.ok(end.at - started >= 250, `ended after ${end.at - started} ms`);
  assert.ok(events >= 6, `${events} events`);
  assert.deepEqual(result.long, { atStart: 1, closedByPeer: 0, cut: 1 });
  const stats = await p.client.stats('web');
  assert.equal(stats.revisions['1']!.errors, 0);
});

test('FrameTracker finds frame boundaries across chunks', () => {
  const frames = [
    encodeFrame(Buffer.alloc(10, 1), 1, false),
    encodeFrame(Buffer.alloc(300, 2), 2, false),
    encodeFrame(Buffer.alloc(70_000, 3), 2, true),
    encodeFrame(Buffer.alloc(0), 9, false),
  ];
  const stream = Buffer.concat(frames);
  const boundaries = new Set<number>([0]);
  let at = 0;
  for (const f of frames) boundaries.add((at += f.length));
  // Every chunking of the stream sees the same boundaries.
  for (const step of [1, 3, 7, 1000, stream.length]) {
    const t = new FrameTracker();
    for (let i = 0; i < stream.length; i += step) {
      const chunk = stream.subarray(i, Math.min(i + step, stream.length));
      t.feed(chunk, false);
      assert.equal(t.atBoundary(), boundaries.has(i + chunk.length), `step ${step} at ${i}`);
    }
  }
  const t = new FrameTracker();
  assert.equal(t.feed(stream.subarray(5, 20), true), 0, 'already at a boundary');
  const u = new FrameTracker();
  u.feed(stream.subarray(0, 1), false);
  assert.equal(u.feed(stream.subarray(1), true), frames[0]!.length - 1);
  assert.equal(u.atBoundary(), true);
});

test('closing the proxy cuts WebSockets with 1001 and does not wait for them', async () => {
  const p = await startProxy();
  const up = await startWsUpstream('a');
  cleanup(() => up.close());
  const port = await freePort();
  await p.client.ensureService('web', { listen: `127.0.0.1:${port}` });
  await p.client.addBackend('web', { id: 'a', revision: 1, address: up.address });
  const ws = await wsConnect(port);
  ws.send('x');
  assert.equal(await ws.text(), 'a:x');
  const started = Date.now();
  await p.proxy.close();
  assert.ok(Date.now() - started < 1500, `closed in ${Date.now() - started} ms`);
  const close = closeInfo(await ws.next());
  assert.equal(close.code, 1001);
  assert.equal(close.reason, 'hotswap: proxy shutting down');
});
