// One conformance suite for the HTTP policy (policy.ts), run against both engines: the fast path
// on raw sockets and the full path on Node's http server. Each rule is checked the same way on
// both: forwarded headers, request ids, hop-by-hop headers, the retry rule, and the proxy's own
// pages (status, wording and X-Hotswap-Error code). Framing has its own suites
// (smuggling.test.ts, response-framing.test.ts).
import assert from 'node:assert/strict';
import http from 'node:http';
import net from 'node:net';
import { test } from 'node:test';
import {
  cleanupAfterAll,
  freePort,
  json,
  request,
  startProxy,
  sleep,
  startBlackhole,
  startUpstream,
  waitUntil,
  type EchoReply,
  type RequestOptions,
} from '../test-support.js';
import type { DrainOptions, DrainResult } from '../types.js';

const cleanup = cleanupAfterAll();

interface Setup {
  port: number;
  ensure(name: string, config: object): Promise<void>;
  backend(service: string, id: string, revision: number, address: string): Promise<void>;
  drain(id: string, timeoutMs: number, options?: DrainOptions): Promise<DrainResult>;
  weights(weights: Record<string, number>): Promise<void>;
}

async function proxy(fastPath: boolean, extra: object = {}): Promise<Setup> {
  const p = await startProxy(undefined, { fastPath, ...extra });
  cleanup(() => p.proxy.close());
  const port = await freePort();
  return {
    port,
    ensure: (name, config) =>
      p.client.ensureService(name, { listen: `127.0.0.1:${port}`, ...config }),
    backend: (service, id, revision, address) =>
      p.client.addBackend(service, { id, revision, address }),
    drain: (id, timeoutMs, options) => p.client.drain('web', id, timeoutMs, options),
    weights: (weights) => p.client.setWeights('web', weights),
  };
}

async function upstream(name: string, handler?: http.RequestListener): Promise<string> {
  const up = await startUpstream(name, handler);
  cleanup(() => up.close());
  return up.address;
}

/** A proxy on the engine with service "web" on one echo backend. */
async function echoed(fastPath: boolean): Promise<(opts?: RequestOptions) => Promise<EchoReply>> {
  const p = await proxy(fastPath);
  await p.ensure('web', {});
  await p.backend('web', 'a', 1, await upstream('a'));
  return async (opts = {}) => {
    const reply = await request(p.port, opts);
    assert.equal(reply.status, 200, reply.body.toString());
    return json<EchoReply>(reply);
  };
}

/** An address nothing listens on. */
async function deadAddress(): Promise<string> {
  return `127.0.0.1:${await freePort()}`;
}

/**
 * Service "web" with a GET and a POST in flight on instance `name`, which holds both unanswered,
 * and a second instance "live" added after they were sent.
 */
async function heldGetAndPost(fastPath: boolean, name: string) {
  const p = await proxy(fastPath);
  await p.ensure('web', {});
  const held: http.ServerResponse[] = [];
  await p.backend('web', name, 1, await upstream(name, (_req, res) => held.push(res)));
  const get = request(p.port, { path: '/held' });
  const post = request(p.port, { method: 'POST', path: '/held', body: 'once' });
  await waitUntil(() => held.length === 2);
  await p.backend('web', 'live', 1, await upstream('live'));
  return { p, held, get, post };
}

/**
 * A raw client of service "web", whose app answers /1 after 200 ms and anything else at once
 * with "<url>:<body>"; `send` writes its pieces 100 ms apart (while /1 runs).
 */
async function slowFirstClient(fastPath: boolean) {
  const p = await proxy(fastPath);
  await p.ensure('web', {});
  const address = await upstream('a', (req, res) => {
    let body = '';
    req.on('data', (c: Buffer) => (body += c.toString()));
    req.on('end', () =>
      setTimeout(() => res.end(`${req.url}:${body}`), req.url === '/1' ? 200 : 0),
    );
  });
  await p.backend('web', 'a', 1, address);
  const socket = net.connect(p.port, '127.0.0.1');
  cleanup(() => Promise.resolve(void socket.destroy()));
  let got = '';
  socket.on('data', (d: Buffer) => (got += d.toString()));
  return {
    got: () => got,
    send: async (pieces: string[]) => {
      for (const [k, piece] of pieces.entries()) {
        if (k > 0) await sleep(100);
        socket.write(piece);
      }
    },
  };
}

for (const fastPath of [true, false]) {
  const engine = fastPath ? 'fast path' : 'full path';

  test(`${engine}: X-Forwarded-For extends the client's chain; -Proto and -Host are the proxy's`, async () => {
    const ask = await echoed(fastPath);
    const plain = await ask({ headers: { host: 'shop.example' } });
    assert.equal(plain.headers['x-forwarded-for'], '127.0.0.1');
    assert.equal(plain.headers['x-forwarded-proto'], 'http');
    assert.equal(plain.headers['x-forwarded-host'], 'shop.example');
    const chained = await ask({
      headers: {
        host: 'shop.example',
        'x-forwarded-for': '203.0.113.7',
        'x-forwarded-proto': 'https',
        'x-forwarded-host': 'evil.example',
      },
    });
    assert.equal(chained.headers['x-forwarded-for'], '203.0.113.7, 127.0.0.1');
    assert.equal(chained.headers['x-forwarded-proto'], 'http', 'never the client’s word');
    assert.equal(chained.headers['x-forwarded-host'], 'shop.example');
  });

  test(`${engine}: a request id is made when missing and kept when sent`, async () => {
    const ask = await echoed(fastPath);
    const made = (await ask()).headers['x-request-id'];
    assert.match(String(made), /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/);
    assert.notEqual((await ask()).headers['x-request-id'], made, 'one id per request');
    const kept = await ask({ headers: { 'x-request-id': 'trace-42' } });
    assert.equal(kept.headers['x-request-id'], 'trace-42');
  });

  test(`${engine}: hop-by-hop headers stop at the proxy; framing headers never do`, async () => {
    const ask = await echoed(fastPath);
    const got = await ask({
      method: 'POST',
      body: 'hello',
      headers: {
        connection: 'keep-alive, x-secret-hop, content-length',
        'x-secret-hop': '1',
        'keep-alive': 'timeout=5',
        'proxy-authorization': 'Basic eDp5',
        'proxy-connection': 'keep-alive',
        'x-end-to-end': 'yes',
      },
    });
    for (const name of ['x-secret-hop', 'keep-alive', 'proxy-authorization', 'proxy-connection']) {
      assert.equal(got.headers[name], undefined, name);
    }
    assert.equal(got.headers['x-end-to-end'], 'yes');
    assert.equal(got.bytes, 5, 'the body arrived whole');
  });

  test(`${engine}: a connect failure is retried once on another instance`, async () => {
    const p = await proxy(fastPath);
    await p.ensure('web', {});
    await p.backend('web', 'dead', 1, await deadAddress());
    await p.backend('web', 'live', 1, await upstream('live'));
    for (let i = 0; i < 6; i++) {
      const reply = await request(p.port, { method: 'POST', body: 'x' });
      assert.equal(reply.status, 200);
      assert.equal(json<EchoReply>(reply).name, 'live');
    }
  });

  test(`${engine}: requests waiting on an unhealthy instance move at once: the GET, not the POST`, async () => {
    // Both wait on 'lost', on connections that stay open but answer nothing (a node cut off).
    const { p, held, get, post } = await heldGetAndPost(fastPath, 'lost');
    const drained = p.drain('lost', 10_000, { unhealthy: true });
    const moved = await get;
    assert.equal(moved.status, 200);
    assert.equal(json<EchoReply>(moved).name, 'live', 'the GET went to the other instance');
    // The POST may have been acted on: it still waits on 'lost', which answers it in the end.
    held.find((res) => res.req.method === 'POST')!.end('late answer');
    const late = await post;
    assert.equal(late.status, 200);
    assert.equal(late.body.toString(), 'late answer');
    assert.equal((await drained).inFlight, 0, 'nothing was left to cut');
  });

  test(`${engine}: a GET waiting on an instance whose host stopped answering moves`, async () => {
    const p = await proxy(fastPath);
    await p.ensure('web', {});
    const hole = await startBlackhole();
    cleanup(() => hole.close());
    await p.backend('web', 'cut', 1, hole.address);
    // Sent on a connection the host took but will never answer (a node whose link went down).
    const get = request(p.port, { path: '/waits' });
    const post = request(p.port, { method: 'POST', path: '/waits', body: 'once' });
    post.catch(() => undefined);
    await sleep(200);
    await hole.fill(); // from here on, a SYN to it gets no answer either
    await p.backend('web', 'live', 1, await upstream('live'));
    // No other request: the proxy finds out by itself (a tick, then a connect of 1 s).
    const moved = await Promise.race([get, sleep(15_000).then(() => null)]);
    assert.ok(moved, 'the GET still waits on the unreachable instance after 15 s');
    assert.equal(moved.status, 200);
    assert.equal(json<EchoReply>(moved).name, 'live');
    let postSettled = false;
    void post.finally(() => (postSettled = true));
    await sleep(100);
    assert.equal(postSettled, false, 'the POST may have been acted on: it is not moved');
  });

  test(`${engine}: at a drain's deadline a waiting GET moves; a waiting POST is cut`, async () => {
    const { p, get, post } = await heldGetAndPost(fastPath, 'slow');
    const result = await p.drain('slow', 300);
    assert.equal(json<EchoReply>(await get).name, 'live');
    const cut = await post;
    assert.equal(cut.status, 502);
    assert.equal(result.inFlight, 2, 'both were in flight at the deadline');
  });

  test(`${engine}: a POST that reached the app is not retried when the app resets it`, async () => {
    let hits = 0;
    const p = await proxy(fastPath);
    await p.ensure('web', {});
    const reset: http.RequestListener = (req) => {
      hits++;
      req.socket.destroy();
    };
    await p.backend('web', 'a', 1, await upstream('a', reset));
    await p.backend('web', 'b', 1, await upstream('b', reset));
    const reply = await request(p.port, { method: 'POST', body: 'pay once' });
    assert.equal(reply.status, 502);
    assert.equal(reply.headers['x-hotswap-error'], 'HOTSWAP_BAD_GATEWAY');
    assert.match(reply.body.toString(), /^hotswap: upstream request failed \(ECONNRESET\)\n502 /);
    assert.equal(hits, 1);
  });

  // Found by the fuzzer over TLS. The fast path stopped reading while /1 ran and, with half of
  // /2's head in hand, never read again; or it started /2 and never read the rest of its body.
  for (const [part, pieces, answer] of [
    [
      'head',
      ['GET /1 HTTP/1.1\r\nHost: x\r\n\r\nGET /2 HTTP/1.1\r\nHo', 'st: x\r\n', '\r\n'],
      '/2:',
    ],
    [
      'body',
      [
        'GET /1 HTTP/1.1\r\nHost: x\r\n\r\nPOST /2 HTTP/1.1\r\nHost: x\r\n',
        'Content-Length: 10\r\n\r\nab',
        'cdefghij',
      ],
      '/2:abcdefghij',
    ],
  ] as const) {
    test(`${engine}: a pipelined ${part} that arrives in pieces during the exchange before it`, async () => {
      const client = await slowFirstClient(fastPath);
      await client.send([...pieces]);
      await waitUntil(() => client.got().includes(answer), 3000);
      assert.match(client.got(), /\/1:[\s\S]*\/2:/);
    });
  }

  test(`${engine}: the proxy's own pages: status, wording and code`, async () => {
    const p = await proxy(fastPath, { upstreamTimeoutMs: 300 });
    await p.ensure('api', { hosts: ['api.example'], maxBodyBytes: 10 });
    await p.ensure('dead', { hosts: ['dead.example'] });
    await p.ensure('slow', { hosts: ['slow.example'] });
    await p.ensure('none', { hosts: ['none.example'] });
    await p.backend('api', 'a', 1, await upstream('a'));
    await p.backend('dead', 'd', 1, await deadAddress());
    await p.backend('slow', 's', 1, await upstream('s', () => {}));
    const cases: Array<[RequestOptions, number, string, RegExp]> = [
      [
        { headers: { host: 'nothing.example' } },
        404,
        'NO_SERVICE',
        /no service for host "nothing\.example" and path "\/"/,
      ],
      [
        { headers: { host: 'api.example' }, method: 'POST', body: 'x'.repeat(11) },
        413,
        'BODY_TOO_LARGE',
        /request body larger than 10 bytes/,
      ],
      [{ headers: { host: 'none.example' } }, 503, 'NO_BACKEND', /no backend available/],
      [
        { headers: { host: 'dead.example' } },
        502,
        'BAD_GATEWAY',
        /upstream connection failed \(ECONNREFUSED\)/,
      ],
      [
        { headers: { host: 'slow.example' } },
        504,
        'UPSTREAM_TIMEOUT',
        /upstream timed out \(no response within 300 ms\)/,
      ],
    ];
    for (const [opts, status, code, reason] of cases) {
      const reply = await request(p.port, opts);
      assert.equal(reply.status, status, JSON.stringify(opts.headers));
      assert.equal(reply.headers['x-hotswap-error'], `HOTSWAP_${code}`);
      assert.equal(reply.headers['cache-control'], 'no-store');
      assert.match(reply.body.toString(), new RegExp(`^hotswap: ${reason.source}\\n${status} `));
    }
  });
}

for (const fastPath of [true, false]) {
  const engine = fastPath ? 'fast path' : 'full path';
  test(`${engine}: header limits are the same: a head over 16 KiB is 431, 150 headers pass`, async () => {
    const ask = await echoed(fastPath);
    const many: Record<string, string> = {};
    for (let i = 0; i < 150; i++) many[`x-h${i}`] = 'v';
    const got = await ask({ headers: many });
    assert.equal(got.headers['x-h149'], 'v');
    const p = await proxy(fastPath);
    await p.ensure('web', {});
    await p.backend('web', 'a', 1, await upstream('a'));
    const big = await request(p.port, { headers: { 'x-big': 'y'.repeat(17 * 1024) } });
    assert.equal(big.status, 431);
  });
}
