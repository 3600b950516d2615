// The response side of "the proxy decides the framing", one suite run against both engines (the
// fast path and Node's http server): an upstream that answers with ambiguous framing, a body
// where none may be, interim responses, or a Connection header naming framing headers. After
// each odd response the next request (same client connection where it stays open, and a fresh
// one) must get its own answer, never bytes the odd response left on the upstream connection.
import assert from 'node:assert/strict';
import net from 'node:net';
import { test } from 'node:test';
import { cleanupAfterAll, freePort, readUntil, startProxy } from '../test-support.js';

const cleanup = cleanupAfterAll();

/** What the poisoned upstream appends after an odd response: a whole response of its own. */
const POISON = 'HTTP/1.1 200 OK\r\ncontent-length: 6\r\n\r\nPOISON';

/**
 * An upstream that answers `/odd` with `odd` (followed by POISON) and anything else with a
 * normal response naming its path, reading requests just well enough for these tests.
 */
async function oddUpstream(odd: string): Promise<{ address: string; close(): Promise<void> }> {
  const server = net.createServer((socket) => {
    let buf = '';
    socket.on('error', () => {});
    socket.on('data', (chunk: Buffer) => {
      buf += chunk.toString('latin1');
      for (let end = buf.indexOf('\r\n\r\n'); end >= 0; end = buf.indexOf('\r\n\r\n')) {
        const path = buf.slice(0, end).split(' ')[1] ?? '';
        buf = buf.slice(end + 4);
        if (path === '/odd') socket.write(odd + POISON);
        else socket.write(`HTTP/1.1 200 OK\r\ncontent-length: ${path.length}\r\n\r\n${path}`);
      }
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const { port } = server.address() as net.AddressInfo;
  return {
    address: `127.0.0.1:${port}`,
    close: () => new Promise((r) => server.close(() => r())),
  };
}

async function proxyTo(odd: string, fastPath: boolean): Promise<number> {
  const up = await oddUpstream(odd);
  const p = await startProxy(undefined, { fastPath });
  cleanup(
    () => p.proxy.close(),
    () => up.close(),
  );
  const port = await freePort();
  await p.client.ensureService('web', { listen: `127.0.0.1:${port}` });
  await p.client.addBackend('web', { id: 'a', revision: 1, address: up.address });
  return port;
}

async function connect(port: number): Promise<net.Socket> {
  const socket = net.connect({ host: '127.0.0.1', port });
  await new Promise<void>((resolve, reject) => {
    socket.once('connect', resolve);
    socket.once('error', reject);
  });
  cleanup(() => Promise.resolve(void socket.destroy()));
  return socket;
}

/** One request on a new connection (it asks to close): the whole text the client got. */
async function ask(port: number, head: string): Promise<string> {
  const socket = await connect(port);
  socket.write(head);
  let text = '';
  socket.on('data', (c: Buffer) => (text += c.toString('latin1')));
  await new Promise<void>((resolve) => {
    socket.once('close', () => resolve());
    setTimeout(() => {
      socket.destroy();
      resolve();
    }, 3000).unref();
  });
  return text;
}

const get = (path: string, method = 'GET'): string =>
  `${method} ${path} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n`;

/** After the odd exchange, fresh requests get their own answers (the pool holds no poison). */
async function nextRequestsAreClean(port: number): Promise<void> {
  for (const path of ['/after-1', '/after-2', '/after-3']) {
    const text = await ask(port, get(path));
    assert.ok(text.endsWith(path), `${path} answered with ${JSON.stringify(text)}`);
    assert.ok(!text.includes('POISON'));
  }
}

for (const fastPath of [true, false]) {
  const engine = fastPath ? 'fast path' : 'full path';

  test(`${engine}: an upstream response with Content-Length and Transfer-Encoding is a 502`, async () => {
    const port = await proxyTo(
      'HTTP/1.1 200 OK\r\ncontent-length: 5\r\ntransfer-encoding: chunked\r\n\r\n0\r\n\r\n',
      fastPath,
    );
    const text = await ask(port, get('/odd'));
    assert.match(text, /^HTTP\/1\.1 502 /);
    assert.ok(!text.includes('POISON'));
    await nextRequestsAreClean(port);
  });

  for (const [name, method, status] of [
    ['HEAD', 'HEAD', 200],
    ['204', 'GET', 204],
    ['304', 'GET', 304],
  ] as const) {
    test(`${engine}: a body on a ${name} response never reaches the client or the next request`, async () => {
      const port = await proxyTo(
        `HTTP/1.1 ${status} X\r\ncontent-length: 11\r\n\r\nhello world`,
        fastPath,
      );
      const text = await ask(port, get('/odd', method));
      assert.match(text, new RegExp(`^HTTP/1\\.1 ${status} `));
      const body = text.slice(text.indexOf('\r\n\r\n') + 4);
      assert.equal(body, '', `no body after a ${name} response`);
      await nextRequestsAreClean(port);
    });
  }

  test(`${engine}: 103 Early Hints is relayed before the response, and framing holds`, async () => {
    const port = await proxyTo(
      'HTTP/1.1 103 Early Hints\r\nlink: </a.css>\r\n\r\nHTTP/1.1 200 OK\r\ncontent-length: 2\r\n\r\nok',
      fastPath,
    );
    const text = await ask(port, get('/odd'));
    assert.match(text, /^HTTP\/1\.1 103 Early Hints\r\n(.*\r\n)*link: <\/a\.css>\r\n/i);
    assert.match(text, /HTTP\/1\.1 200 OK/);
    assert.ok(text.endsWith('\r\n\r\nok'), JSON.stringify(text));
    await nextRequestsAreClean(port);
  });

  for (const listed of ['content-length', 'transfer-encoding', 'Content-Length, Host']) {
    test(`${engine}: "Connection: ${listed}" from the upstream keeps the response framed`, async () => {
      const chunked = listed === 'transfer-encoding';
      const odd = chunked
        ? 'HTTP/1.1 200 OK\r\ntransfer-encoding: chunked\r\nconnection: transfer-encoding\r\n\r\n2\r\nok\r\n0\r\n\r\n'
        : `HTTP/1.1 200 OK\r\ncontent-length: 2\r\nconnection: ${listed}\r\n\r\nok`;
      const port = await proxyTo(odd, fastPath);
      // Keep-alive: the client must be able to find the response's end without a close.
      const socket = await connect(port);
      socket.write('GET /odd HTTP/1.1\r\nHost: x\r\n\r\nGET /then HTTP/1.1\r\nHost: x\r\n\r\n');
      const text = await readUntil(socket, (t) => t.endsWith('/then'), 3000);
      const first = text.slice(0, text.indexOf('\r\n\r\n'));
      assert.match(first, chunked ? /transfer-encoding: chunked/i : /content-length: 2/i);
      assert.ok(text.endsWith('/then'), JSON.stringify(text));
      assert.ok(!text.includes('POISON'));
    });
  }
}
