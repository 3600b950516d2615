// The fast path (fast-http.ts) on real sockets: what it relays byte for byte, where a connection
// moves to Node's http server mid-life, pipelining, framing it must follow to reuse connections,
// and the upstream pool. Raw client sockets, so the bytes on the wire are what is checked.
import assert from 'node:assert/strict';
import http from 'node:http';
import net from 'node:net';
import { test } from 'node:test';
import {
  cleanupAfterAll,
  freePort,
  readUntil,
  startProxy,
  proxyToUpstream,
} from '../../test-support.js';

const cleanup = cleanupAfterAll();

const setup = (handler: http.RequestListener) => proxyToUpstream(cleanup, handler);

async function connect(port: number): Promise<net.Socket> {
  const socket = net.connect({ host: '127.0.0.1', port });
  await new Promise<void>((resolve, reject) => {
    socket.once('connect', resolve);
    socket.once('error', reject);
  });
  cleanup(() => Promise.resolve(void socket.destroy()));
  return socket;
}

/** Responses in `text` (content-length framed only), as [status line, body] pairs. */
function responses(text: string): Array<[string, string]> {
  const out: Array<[string, string]> = [];
  let rest = text;
  while (rest.length > 0) {
    const end = rest.indexOf('\r\n\r\n');
    if (end < 0) break;
    const head = rest.slice(0, end);
    const length = Number(/content-length: *(\d+)/i.exec(head)?.[1] ?? 0);
    out.push([head.split('\r\n')[0]!, rest.slice(end + 4, end + 4 + length)]);
    rest = rest.slice(end + 4 + length);
  }
  return out;
}

function countResponses(n: number): (text: string) => boolean {
  return (text) => responses(text).length >= n && responses(text).every(([, b]) => b.length > 0);
}

const byPath: http.RequestListener = (req, res) => {
  let body = '';
  req.on('data', (c: Buffer) => (body += c.toString()));
  req.on('end', () => {
    const text = `${req.method} ${req.url} ${body}`.trim();
    res.writeHead(200, { 'content-type': 'text/plain', 'content-length': Buffer.byteLength(text) });
    res.end(text);
  });
};

test('pipelined requests in one write are answered in order on one connection', async () => {
  const p = await setup(byPath);
  const socket = await connect(p.port);
  socket.write(
    'GET /one HTTP/1.1\r\nHost: x\r\n\r\n' +
      'POST /two HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\n\r\nhello' +
      'GET /three HTTP/1.1\r\nHost: x\r\n\r\n',
  );
  const text = await readUntil(socket, countResponses(3));
  assert.deepEqual(responses(text), [
    ['HTTP/1.1 200 OK', 'GET /one'],
    ['HTTP/1.1 200 OK', 'POST /two hello'],
    ['HTTP/1.1 200 OK', 'GET /three'],
  ]);
});

test('a keep-alive connection moves to the full path at a chunked request, and keeps working', async () => {
  const p = await setup(byPath);
  const socket = await connect(p.port);
  socket.write('GET /fast HTTP/1.1\r\nHost: x\r\n\r\n');
  await readUntil(socket, countResponses(1));
  // Transfer-Encoding: not the fast path's; the bytes already read go along with the socket.
  socket.write(
    'POST /chunked HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n0\r\n\r\n' +
      'GET /after HTTP/1.1\r\nHost: x\r\n\r\n',
  );
  const text = await readUntil(socket, countResponses(2));
  assert.deepEqual(
    responses(text).map(([, body]) => body),
    ['POST /chunked abc', 'GET /after'],
  );
  assert.equal(p.up.hits, 3);
});

test('a malformed request gets Node’s 400 (the full path answers what the fast path refuses)', async () => {
  const p = await setup(byPath);
  const socket = await connect(p.port);
  socket.write('GET / HTTP/1.1\r\nHost: x\r\nBad Header: y\r\n\r\n');
  const text = await readUntil(socket, (t) => t.includes('\r\n\r\n'));
  assert.match(text, /^HTTP\/1\.1 400 /);
  assert.equal(p.up.hits, 0);
});

test('response framing: close-delimited body, HEAD, 204 and an interim 103 are relayed', async () => {
  // A raw upstream, to send what Node's server would not.
  const raw = net.createServer((s) => {
    s.on('data', (d: Buffer) => {
      const line = d.toString().split('\r\n')[0]!;
      if (line.startsWith('GET /close')) {
        s.end('HTTP/1.1 200 OK\r\ncontent-type: text/plain\r\n\r\nuntil the end');
      } else if (line.startsWith('HEAD')) {
        s.write('HTTP/1.1 200 OK\r\ncontent-length: 1000\r\n\r\n');
      } else if (line.startsWith('GET /none')) {
        s.write(
          'HTTP/1.1 204 No Content\r\nconnection: keep-alive\r\nkeep-alive: timeout=5\r\n\r\n',
        );
      } else {
        s.write('HTTP/1.1 103 Early Hints\r\nlink: </a.css>; rel=preload\r\n\r\n');
        setTimeout(() => s.write('HTTP/1.1 200 OK\r\ncontent-length: 2\r\n\r\nok'), 20);
      }
    });
  });
  await new Promise<void>((resolve) => raw.listen(0, '127.0.0.1', resolve));
  cleanup(() => new Promise<void>((resolve) => raw.close(() => resolve())));
  const p = await startProxy();
  cleanup(() => p.proxy.close());
  const port = await freePort();
  await p.client.ensureService('web', { listen: `127.0.0.1:${port}` });
  const address = `127.0.0.1:${(raw.address() as net.AddressInfo).port}`;
  await p.client.addBackend('web', { id: 'r', revision: 1, address });

  const closeDelimited = await connect(port);
  closeDelimited.write('GET /close HTTP/1.1\r\nHost: x\r\n\r\n');
  let text = await readUntil(closeDelimited, (t) => t.endsWith('until the end'));
  assert.match(text, /\r\nconnection: close\r\n/i, 'the client is told the connection ends');
  await new Promise<void>((resolve) => closeDelimited.once('close', resolve));

  const head = await connect(port);
  head.write('HEAD / HTTP/1.1\r\nHost: x\r\n\r\nGET /none HTTP/1.1\r\nHost: x\r\n\r\n');
  text = await readUntil(head, (t) => t.includes('204'));
  // No body after the HEAD answer (its content-length is not followed), then the 204 without
  // its hop-by-hop lines.
  assert.match(text, /^HTTP\/1\.1 200 OK\r\ncontent-length: 1000\r\n(?:.+\r\n)*\r\nHTTP\/1\.1 204/);
  assert.doesNotMatch(text, /keep-alive/i);

  const hints = await connect(port);
  hints.write('GET /hints HTTP/1.1\r\nHost: x\r\n\r\n');
  text = await readUntil(hints, (t) => t.endsWith('ok'));
  assert.match(
    text,
    /^HTTP\/1\.1 103 Early Hints\r\nlink: <\/a\.css>; rel=preload\r\n\r\nHTTP\/1\.1 200 OK/,
  );
});

test('a chunked response passes byte for byte, trailers included, and the connection is reused', async () => {
  const p = await setup((_req, res) => {
    res.writeHead(200, { 'content-type': 'text/plain', trailer: 'x-sum' });
    res.write('first;');
    setTimeout(() => {
      res.addTrailers({ 'x-sum': '42' });
      res.end('second');
    }, 20);
  });
  let connections = 0;
  p.up.server.on('connection', () => connections++);
  const socket = await connect(p.port);
  for (let i = 0; i < 3; i++) {
    socket.write('GET / HTTP/1.1\r\nHost: x\r\nTE: trailers\r\n\r\n');
    const text = await readUntil(socket, (t) => t.endsWith('0\r\nx-sum: 42\r\n\r\n'));
    assert.match(text, /\r\ntransfer-encoding: chunked\r\n/i);
    assert.ok(text.endsWith('\r\n\r\n6\r\nfirst;\r\n6\r\nsecond\r\n0\r\nx-sum: 42\r\n\r\n'), text);
  }
  assert.equal(connections, 1, 'one upstream connection carried the three exchanges');
});

test('a 2 MB response to a slow reader arrives whole (backpressure, no loss)', async () => {
  const big = Buffer.alloc(2 * 1024 * 1024, 'abcdefgh');
  const p = await setup((_req, res) => {
    res.writeHead(200, { 'content-length': big.length });
    res.end(big);
  });
  const socket = await connect(p.port);
  socket.pause();
  socket.write('GET / HTTP/1.1\r\nHost: x\r\n\r\n');
  await new Promise((resolve) => setTimeout(resolve, 300));
  const chunks: Buffer[] = [];
  let total = 0;
  const headLength = await new Promise<number>((resolve) => {
    let headEnd = -1;
    socket.on('data', (c: Buffer) => {
      chunks.push(c);
      total += c.length;
      if (headEnd < 0) headEnd = Buffer.concat(chunks).indexOf('\r\n\r\n') + 4;
      if (headEnd > 3 && total >= headEnd + big.length) resolve(headEnd);
    });
    socket.resume();
  });
  const all = Buffer.concat(chunks);
  assert.equal(all.length, headLength + big.length);
  assert.ok(all.subarray(headLength).equals(big));
});

test('an upgrade after a fast-path request on the same connection still gets its 101', async () => {
  const p = await setup(byPath);
  p.up.server.on('upgrade', (_req: http.IncomingMessage, s: net.Socket) => {
    s.write('HTTP/1.1 101 Switching Protocols\r\nconnection: upgrade\r\nupgrade: echo\r\n\r\n');
    s.pipe(s);
  });
  const socket = await connect(p.port);
  socket.write('GET /first HTTP/1.1\r\nHost: x\r\n\r\n');
  await readUntil(socket, countResponses(1));
  socket.write('GET /up HTTP/1.1\r\nHost: x\r\nConnection: upgrade\r\nUpgrade: echo\r\n\r\n');
  await readUntil(socket, (t) => t.includes('101 Switching Protocols'));
  socket.write('ping');
  assert.equal(await readUntil(socket, (t) => t.includes('ping')), 'ping');
});
