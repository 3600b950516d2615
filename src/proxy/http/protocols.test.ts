// HTTP/1.1 details through the proxy: 100-continue, trailers, streaming without buffering both
// ways, Server-Sent Events, WebSocket.
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import http from 'node:http';
import { test } from 'node:test';
import {
  freePort,
  sleep,
  startProxy,
  startWsUpstream,
  wsConnect,
  cleanupAfterAll,
  proxyToUpstream,
} from '../test-support.js';

const cleanup = cleanupAfterAll();

const setup = (handler: http.RequestListener) => proxyToUpstream(cleanup, handler);

test('Expect: 100-continue is forwarded and the interim 100 relayed before the body flows', async () => {
  const seen: { expect?: string; continuedAt?: number; bodyAt?: number } = {};
  const p = await setup((req, res) => {
    let body = '';
    req.on('data', (c: Buffer) => {
      seen.bodyAt ??= Date.now();
      body += c.toString();
    });
    req.on('end', () => res.end(`got ${body}`));
  });
  p.up.server.on('checkContinue', (req: http.IncomingMessage, res: http.ServerResponse) => {
    seen.expect = req.headers.expect;
    if (req.url === '/deny') {
      res.writeHead(403, { 'content-type': 'text/plain' });
      res.end('denied');
      return;
    }
    setTimeout(() => {
      seen.continuedAt = Date.now();
      res.writeContinue();
      p.up.server.emit('request', req, res);
    }, 100);
  });

  const send = (path: string) =>
    new Promise<{ status: number; body: string; continued: boolean }>((resolve, reject) => {
      let continued = false;
      const req = http.request({
        host: '127.0.0.1',
        port: p.port,
        method: 'POST',
        path,
        agent: false,
        headers: { expect: '100-continue', 'content-length': 5 },
      });
      req.on('continue', () => {
        continued = true;
        req.end('hello');
      });
      req.on('response', (res) => {
        let body = '';
        res.on('data', (c: Buffer) => (body += c.toString()));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, body, continued }));
      });
      req.on('error', reject);
      req.flushHeaders();
    });

  const ok = await send('/');
  assert.equal(ok.status, 200);
  assert.equal(ok.continued, true);
  assert.equal(ok.body, 'got hello');
  assert.equal(seen.expect, '100-continue');
  assert.ok(seen.bodyAt! >= seen.continuedAt!, 'the body flowed only after the 100');

  // The upstream refuses: the client gets the final answer and never sends its body.
  const denied = await send('/deny');
  assert.equal(denied.status, 403);
  assert.equal(denied.continued, false);
  assert.equal(denied.body, 'denied');
});

test('trailers pass both ways', async () => {
  const p = await setup((req, res) => {
    req.resume();
    req.on('end', () => {
      res.writeHead(200, { trailer: 'x-response-sum', 'content-type': 'text/plain' });
      res.write(`request trailer: ${req.trailers['x-request-sum']}`);
      res.addTrailers({ 'x-response-sum': 'r-42' });
      res.end();
    });
  });
  const reply = await new Promise<{ body: string; trailers: NodeJS.Dict<string> }>(
    (resolve, reject) => {
      const req = http.request({
        host: '127.0.0.1',
        port: p.port,
        method: 'PUT',
        agent: false,
        headers: { trailer: 'x-request-sum', te: 'trailers' },
      });
      req.on('response', (res) => {
        let body = '';
        res.on('data', (c: Buffer) => (body += c.toString()));
        res.on('end', () => resolve({ body, trailers: res.trailers }));
      });
      req.on('error', reject);
      req.write('part one;');
      req.addTrailers({ 'x-request-sum': 'q-7' });
      req.end('part two');
    },
  );
  assert.equal(reply.body, 'request trailer: q-7');
  assert.equal(reply.trailers['x-response-sum'], 'r-42');
});

test('chunked bodies stream both ways without buffering (ping-pong per chunk)', async () => {
  // The app answers each request chunk with a response chunk before the request ends; the
  // client sends its next chunk only after seeing the previous answer. Any buffering on either
  // path would stall this exchange.
  const p = await setup((req, res) => {
    res.writeHead(200, { 'content-type': 'application/octet-stream' });
    req.on('data', (c: Buffer) => res.write(`ack ${c.length};`));
    req.on('end', () => res.end('done'));
  });
  const rounds = 20;
  const result = await new Promise<string>((resolve, reject) => {
    const req = http.request({
      host: '127.0.0.1',
      port: p.port,
      method: 'POST',
      agent: false,
      headers: { 'content-type': 'application/octet-stream' },
    });
    let sent = 1;
    let text = '';
    req.on('response', (res) => {
      res.on('data', (c: Buffer) => {
        text += c.toString();
        const acks = text.split(';').length - 1;
        if (acks === sent && sent < rounds) {
          sent++;
          req.write(randomBytes(100 + sent));
        } else if (acks === rounds && sent === rounds) {
          sent++;
          req.end();
        }
      });
      res.on('end', () => resolve(text));
    });
    req.on('error', reject);
    req.write(randomBytes(101));
  });
  assert.equal(result.split(';').length - 1, rounds);
  assert.ok(result.endsWith('done'));
  assert.match(result, /^ack 101;ack 102;/);
});

test('Server-Sent Events arrive one by one, headers at once; the stream is a long connection', async () => {
  const sentAt: number[] = [];
  const p = await setup((_req, res) => {
    res.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-cache' });
    res.flushHeaders();
    let i = 0;
    const tick = (): void => {
      sentAt.push(Date.now());
      res.write(`id: ${i}\ndata: event ${i}\n\n`);
      if (++i === 5) res.end();
      else setTimeout(tick, 120);
    };
    setTimeout(tick, 200);
  });
  const got: { at: number; text: string }[] = [];
  let headAt = 0;
  let statsDuring: Awaited<ReturnType<typeof p.client.stats>> | undefined;
  await new Promise<void>((resolve, reject) => {
    const req = http.get(
      { host: '127.0.0.1', port: p.port, path: '/events', agent: false },
      (res) => {
        headAt = Date.now();
        assert.equal(res.headers['content-type'], 'text/event-stream');
        void p.client.stats('web').then((s) => (statsDuring = s));
        res.on('data', (c: Buffer) => got.push({ at: Date.now(), text: c.toString() }));
        res.on('end', resolve);
      },
    );
    req.on('error', reject);
  });
  assert.equal(got.length, 5, JSON.stringify(got));
  assert.ok(headAt < sentAt[0]!, 'headers arrive before the first event is written');
  for (let i = 0; i < 5; i++) {
    assert.equal(got[i]!.text, `id: ${i}\ndata: event ${i}\n\n`);
    if (i < 4)
      assert.ok(got[i]!.at < sentAt[i + 1]!, `event ${i} seen before event ${i + 1} was sent`);
  }
  assert.equal(statsDuring?.long.byKind.sse, 1);
  assert.equal(
    statsDuring?.instances['a']!.inFlight,
    0,
    'a stream is not an HTTP request in flight',
  );
  await sleep(20);
  const after = await p.client.stats('web');
  assert.equal(after.long.open, 0);
  assert.equal(after.long.opened, 1);
  assert.equal(after.revisions['1']!.statuses['2xx'], 1);
  // The latency of a stream is its time to the head, not its length.
  assert.ok(
    after.revisions['1']!.latencyMs.sum < 150,
    `latency ${after.revisions['1']!.latencyMs.sum}`,
  );
});

test('WebSocket echo through the proxy, small and large frames; counted as a long connection', async () => {
  const p = await startProxy();
  cleanup(() => p.proxy.close());
  const up = await startWsUpstream('a');
  cleanup(() => up.close());
  const port = await freePort();
  await p.client.ensureService('web', { listen: `127.0.0.1:${port}` });
  await p.client.addBackend('web', { id: 'a', revision: 1, address: up.address });

  const ws = await wsConnect(port, '/chat');
  assert.equal(ws.response.statusCode, 101);
  assert.equal(ws.response.headers['x-served-by'], 'a');
  ws.send('hello');
  assert.equal(await ws.text(), 'a:hello');
  const big = 'x'.repeat(200_000);
  ws.send(big);
  assert.equal(await ws.text(), `a:${big}`);
  const stats = await p.client.stats('web');
  assert.equal(stats.long.open, 1);
  assert.equal(stats.long.byKind.websocket, 1);
  assert.equal(stats.instances['a']!.longOpen, 1);
  assert.equal(stats.instances['a']!.inFlight, 0);
  assert.equal(stats.revisions['1']!.statuses['1xx'], 1);

  ws.close(1000, 'bye');
  const closeFrame = await ws.next();
  assert.equal(closeFrame?.opcode, 8);
  assert.equal(closeFrame?.payload.readUInt16BE(0), 1000);
  await ws.waitClosed();
  await sleep(20);
  assert.equal((await p.client.stats('web')).long.open, 0);
});

test('an upgrade the app refuses is relayed as a plain answer, then the connection closes', async () => {
  const p = await setup((_req, res) => {
    res.writeHead(426, { 'content-type': 'text/plain' });
    res.end('no upgrade here');
  });
  const reply = await new Promise<{ status: number; body: string; connection?: string }>(
    (resolve, reject) => {
      const req = http.request({
        host: '127.0.0.1',
        port: p.port,
        agent: false,
        headers: { connection: 'Upgrade', upgrade: 'websocket', 'sec-websocket-key': 'x' },
      });
      req.on('response', (res) => {
        let body = '';
        res.on('data', (c: Buffer) => (body += c.toString()));
        res.on('end', () =>
          resolve({ status: res.statusCode ?? 0, body, connection: res.headers.connection }),
        );
      });
      req.on('upgrade', () => reject(new Error('upgraded')));
      req.on('error', reject);
      req.end();
    },
  );
  assert.deepEqual(reply, { status: 426, body: 'no upgrade here', connection: 'close' });
});
