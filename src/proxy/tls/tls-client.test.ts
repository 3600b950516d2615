// TLS connections at a proxy listener, on real sockets, in both ways a listener serves them: on
// their handles (tls-client.ts, the default) and through tls.TLSSocket (directTls: false, the
// fallback). Which way is used, that both refuse a renegotiation and drop a handshake that does
// not finish, that a pipelined request handed to the full path waits for the fast path's large
// answer to go out first (TLSWrap takes one write at a time), that a slow reader gets every byte,
// and that maxConnections counts TLS connections.
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { subscribe, unsubscribe } from 'node:diagnostics_channel';
import http from 'node:http';
import net from 'node:net';
import { test } from 'node:test';
import tls from 'node:tls';
import {
  cleanupAfterAll,
  freePort,
  sleep,
  startProxy,
  startUpstream,
  tempDir,
  type EchoReply,
  type TestProxy,
} from '../test-support.js';
import { makeCertificate } from '../../tls/test-certificates.js';
import { DIRECT_TLS } from './tls-client.js';

const cleanup = cleanupAfterAll();
const dir = tempDir();
const cert = makeCertificate(dir, 'client-test', ['shop.example'], { days: 2 });
const BIG = Buffer.alloc(2 * 1024 * 1024, 'z');
const BIG_SHA = createHash('sha256').update(BIG).digest('hex');

/** /big answers 2 MiB; anything else is echoed (EchoReply). */
const handler: http.RequestListener = (req, res) => {
  if (req.url === '/big') {
    res.writeHead(200, { 'content-length': BIG.length });
    res.end(BIG);
    return;
  }
  let bytes = 0;
  req.on('data', (c: Buffer) => (bytes += c.length));
  req.on('end', () => {
    const body = JSON.stringify({ url: req.url, method: req.method, bytes });
    res.writeHead(200, { 'content-length': Buffer.byteLength(body) });
    res.end(body);
  });
};

interface Setup {
  p: TestProxy;
  port: number;
}

async function setup(directTls: boolean, maxConnections = 0): Promise<Setup> {
  const p = await startProxy(undefined, { directTls, tlsHandshakeTimeoutMs: 300 });
  cleanup(() => p.proxy.close());
  const up = await startUpstream('a', handler);
  cleanup(() => up.close());
  const port = await freePort();
  await p.client.ensureService('web', { listen: `127.0.0.1:${port}`, tls: cert, maxConnections });
  await p.client.addBackend('web', { id: 'a', revision: 1, address: up.address });
  return { p, port };
}

function connect(port: number, options: tls.ConnectionOptions = {}): Promise<tls.TLSSocket> {
  return new Promise((resolve, reject) => {
    const socket = tls.connect({
      host: '127.0.0.1',
      port,
      servername: 'shop.example',
      rejectUnauthorized: false,
      ...options,
    });
    socket.once('secureConnect', () => resolve(socket));
    socket.once('error', reject);
  });
}

/** Resolves with the ms it took `socket` to close, or rejects after `ms`. */
function closes(socket: net.Socket, ms: number): Promise<number> {
  const t0 = Date.now();
  return new Promise((resolve, reject) => {
    if (socket.destroyed) resolve(0);
    const timer = setTimeout(() => reject(new Error(`still open after ${ms} ms`)), ms);
    socket.on('error', () => undefined);
    socket.once('close', () => {
      clearTimeout(timer);
      resolve(Date.now() - t0);
    });
  });
}

/** Everything the server sends until it closes the connection. */
function readToEnd(socket: net.Socket): Promise<Buffer> {
  const chunks: Buffer[] = [];
  socket.on('data', (c: Buffer) => chunks.push(c));
  return new Promise((resolve) => socket.once('close', () => resolve(Buffer.concat(chunks))));
}

/** Splits HTTP/1.1 responses framed by Content-Length. */
function responses(bytes: Buffer): Array<{ head: string; body: Buffer }> {
  const out: Array<{ head: string; body: Buffer }> = [];
  let at = 0;
  while (at < bytes.length) {
    const end = bytes.indexOf('\r\n\r\n', at);
    assert.ok(end > 0, `a complete head at ${at}`);
    const head = bytes.subarray(at, end).toString('latin1');
    const length = Number(/content-length: *(\d+)/i.exec(head)?.[1] ?? 0);
    out.push({ head, body: bytes.subarray(end + 4, end + 4 + length) });
    at = end + 4 + length;
  }
  return out;
}

test('this Node serves TLS on its handles (HOTSWAP_DIRECT_TLS=0 or no direct I/O: not)', () => {
  const off = process.env.HOTSWAP_DIRECT_TLS === '0' || process.env.HOTSWAP_DIRECT_IO === '0';
  assert.equal(DIRECT_TLS, !off);
});

for (const directTls of [true, false]) {
  const way = directTls ? 'on the handles' : 'through TLSSocket';

  test(`${way}: net.js makes ${directTls ? 'no socket' : 'a socket'} per TLS connection`, async () => {
    const { port } = await setup(directTls);
    let made = 0;
    const seen = (message: unknown): void => {
      const socket = (message as { socket: net.Socket }).socket;
      if (socket.localPort === port) made++;
    };
    subscribe('net.server.socket', seen);
    try {
      for (let i = 0; i < 3; i++) {
        const s = await connect(port);
        s.write('GET /n HTTP/1.1\r\nHost: shop.example\r\nConnection: close\r\n\r\n');
        assert.match((await readToEnd(s)).toString(), /^HTTP\/1\.1 200 /);
      }
    } finally {
      unsubscribe('net.server.socket', seen);
    }
    assert.equal(made, directTls && DIRECT_TLS ? 0 : 3);
  });

  test(`${way}: a client's renegotiation ends the connection`, async () => {
    const { port } = await setup(directTls);
    const s = await connect(port, { maxVersion: 'TLSv1.2' });
    const closed = closes(s, 3000);
    s.renegotiate({}, () => undefined);
    await closed;
    // The listener still serves.
    const t = await connect(port);
    t.write('GET / HTTP/1.1\r\nHost: shop.example\r\nConnection: close\r\n\r\n');
    assert.match((await readToEnd(t)).toString(), /^HTTP\/1\.1 200 /);
  });

  test(`${way}: a handshake that does not finish is dropped at its deadline`, async () => {
    const { port } = await setup(directTls);
    const silent = net.connect(port, '127.0.0.1');
    const partial = net.connect(port, '127.0.0.1', () => partial.write(Buffer.from([22, 3, 1])));
    const [a, b] = await Promise.all([closes(silent, 3000), closes(partial, 3000)]);
    assert.ok(a >= 200 && b >= 200, `closed after ${a} and ${b} ms (deadline 300 ms)`);
  });

  test(`${way}: a pipelined request for the full path waits for the large answer before it`, async () => {
    const { port } = await setup(directTls);
    const s = await connect(port);
    const all = readToEnd(s);
    s.pause();
    // The second request is chunked: the fast path hands the connection to Node's http server.
    s.write(
      'GET /big HTTP/1.1\r\nHost: shop.example\r\n\r\n' +
        'POST /echo HTTP/1.1\r\nHost: shop.example\r\nTransfer-Encoding: chunked\r\n' +
        'Connection: close\r\n\r\n5\r\nhello\r\n0\r\n\r\n',
    );
    // Not reading for a while: the 2 MiB answer waits in the proxy's write queue.
    await sleep(300);
    s.resume();
    const got = responses(await all);
    assert.equal(got.length, 2, 'two responses');
    assert.match(got[0]!.head, /^HTTP\/1\.1 200 /);
    assert.equal(createHash('sha256').update(got[0]!.body).digest('hex'), BIG_SHA);
    assert.match(got[1]!.head, /^HTTP\/1\.1 200 /);
    const echo = JSON.parse(got[1]!.body.toString()) as Partial<EchoReply>;
    assert.deepEqual([echo.method, echo.url, echo.bytes], ['POST', '/echo', 5]);
  });

  test(`${way}: maxConnections counts TLS connections`, async () => {
    const { port } = await setup(directTls, 1);
    const first = await connect(port);
    const second = net.connect(port, '127.0.0.1');
    await closes(second, 2000);
    first.write('GET / HTTP/1.1\r\nHost: shop.example\r\nConnection: close\r\n\r\n');
    assert.match((await readToEnd(first)).toString(), /^HTTP\/1\.1 200 /);
    await sleep(50);
    const third = await connect(port);
    third.write('GET / HTTP/1.1\r\nHost: shop.example\r\nConnection: close\r\n\r\n');
    assert.match((await readToEnd(third)).toString(), /^HTTP\/1\.1 200 /, 'a freed slot serves');
  });
}

test('the fast path and the full path answer alike over TLS on the handles', async () => {
  for (const fastPath of [true, false]) {
    const p = await startProxy(undefined, { fastPath });
    cleanup(() => p.proxy.close());
    const up = await startUpstream('a', handler);
    cleanup(() => up.close());
    const port = await freePort();
    await p.client.ensureService('web', { listen: `127.0.0.1:${port}`, tls: cert });
    await p.client.addBackend('web', { id: 'a', revision: 1, address: up.address });
    const s = await connect(port);
    const all = readToEnd(s);
    s.write('GET /big HTTP/1.1\r\nHost: shop.example\r\n\r\n');
    s.write('GET /two HTTP/1.1\r\nHost: shop.example\r\nConnection: close\r\n\r\n');
    const got = responses(await all);
    assert.equal(got.length, 2, `${fastPath ? 'fast' : 'full'} path: two responses`);
    assert.equal(createHash('sha256').update(got[0]!.body).digest('hex'), BIG_SHA);
    assert.equal((JSON.parse(got[1]!.body.toString()) as { url: string }).url, '/two');
  }
});

for (const directTls of [true, false]) {
  const way = directTls ? 'on the handles' : 'through TLSSocket';
  test(`${way}: a malformed request right behind an answer gets the full path's 400`, async () => {
    // Node's http server answers a malformed head at once, while the fast path's answer before
    // it may still be in TLSWrap's hands (its writes complete on a later turn of the loop).
    const { port } = await setup(directTls);
    const s = await connect(port);
    const all = readToEnd(s);
    s.write(
      'GET /one HTTP/1.1\r\nHost: shop.example\r\n\r\n' +
        'GET /two HTTP/1.1\r\nHost: shop.example\r\nno colon here\r\n\r\n',
    );
    const got = responses(await all);
    assert.match(got[0]!.head, /^HTTP\/1\.1 200 /);
    assert.equal((JSON.parse(got[0]!.body.toString()) as { url: string }).url, '/one');
    // Node's http server writes its 400 only on a socket that has written nothing yet: the
    // hand-off's new socket (on the handles) has not; a TLSSocket that served /one has.
    assert.deepEqual(
      got.slice(1).map((r) => r.head.slice(0, 12)),
      directTls && DIRECT_TLS ? ['HTTP/1.1 400'] : [],
    );
    const again = await connect(port);
    again.write('GET /3 HTTP/1.1\r\nHost: shop.example\r\nConnection: close\r\n\r\n');
    assert.match((await readToEnd(again)).toString(), /^HTTP\/1\.1 200 /, 'still serving');
  });
}

test('clients that leave mid-handshake or mid-answer leave the listener serving', async () => {
  const { port } = await setup(true);
  const leaving: Array<Promise<unknown>> = [];
  for (let i = 0; i < 20; i++) {
    // Half leave in the middle of the handshake, half in the middle of a 2 MiB answer.
    if (i % 2 === 0) {
      const raw = net.connect(port, '127.0.0.1', () => raw.write(Buffer.from([22, 3, 1, 0])));
      leaving.push(closes(raw, 3000));
      setTimeout(() => raw.destroy(), 20);
      continue;
    }
    const s = await connect(port);
    s.write('GET /big HTTP/1.1\r\nHost: shop.example\r\n\r\n');
    leaving.push(closes(s, 3000));
    s.once('data', () => s.destroy());
  }
  await Promise.all(leaving);
  const t = await connect(port);
  t.write('GET /after HTTP/1.1\r\nHost: shop.example\r\nConnection: close\r\n\r\n');
  assert.match((await readToEnd(t)).toString(), /^HTTP\/1\.1 200 /);
});
