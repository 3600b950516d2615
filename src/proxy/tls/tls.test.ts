// TLS at the proxy's listeners, on real sockets with certificates made by openssl: certificate
// checks, both HTTP engines over TLS (X-Forwarded-Proto, HSTS, WebSocket), SNI choosing the
// service and its certificate, a renewed certificate picked up without cutting open connections,
// the redirect listener (308, ACME HTTP-01 answers), and what may share an address.
import assert from 'node:assert/strict';
import { X509Certificate, randomBytes } from 'node:crypto';
import { copyFileSync, readFileSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import https from 'node:https';
import { join } from 'node:path';
import { test } from 'node:test';
import tls from 'node:tls';
import { HotswapError } from '../../errors.js';
import {
  cleanupAfterAll,
  freePort,
  request,
  sleep,
  startProxy,
  startUpstream,
  startWsUpstream,
  tempDir,
  WsPeer,
  type EchoReply,
  type TestProxy,
} from '../test-support.js';
import type { ServiceConfig, TlsConfig } from '../types.js';
import { loadCertificate } from './certificates.js';
import { makeCertificate } from '../../tls/test-certificates.js';

const cleanup = cleanupAfterAll();
const dir = tempDir();

/** A self-signed certificate for `names` (the first is the CN), valid `days`; its files. */
function makeCert(label: string, names: string[], days = 2): TlsConfig {
  return makeCertificate(dir, label, names, { days });
}

function fingerprint(cert: string): string {
  return new X509Certificate(readFileSync(cert)).fingerprint256;
}

interface Served {
  status: number;
  headers: http.IncomingHttpHeaders;
  body: string;
  /** SHA-256 fingerprint of the certificate the server showed. */
  peer: string;
}

/** An HTTPS GET to 127.0.0.1:port with SNI `servername` (certificates not verified here). */
function get(port: number, servername: string, path = '/', agent?: https.Agent): Promise<Served> {
  return new Promise((resolve, reject) => {
    let peer = '';
    const req = https.request(
      {
        host: '127.0.0.1',
        port,
        path,
        servername,
        rejectUnauthorized: false,
        agent: agent ?? false,
        headers: { host: servername },
      },
      (res) => {
        let body = '';
        res.on('data', (c: Buffer) => (body += c.toString()));
        res.on('end', () =>
          resolve({ status: res.statusCode ?? 0, headers: res.headers, body, peer }),
        );
      },
    );
    req.on('socket', (socket: tls.TLSSocket) => {
      const read = (): void => void (peer = socket.getPeerCertificate().fingerprint256 ?? '');
      if (socket.getPeerCertificate().fingerprint256 !== undefined) read();
      else socket.once('secureConnect', read);
    });
    req.on('error', reject);
    req.end();
  });
}

async function proxied(fastPath = true, directTls = true): Promise<TestProxy> {
  const p = await startProxy(undefined, { fastPath, directTls });
  cleanup(() => p.proxy.close());
  return p;
}

async function echoBackend(p: TestProxy, service: string, name: string): Promise<void> {
  const up = await startUpstream(name);
  cleanup(() => up.close());
  await p.client.addBackend(service, { id: name, revision: 1, address: up.address });
}

test('a certificate that is missing, not PEM, not matching its key or expired is refused by name', () => {
  const good = makeCert('good', ['good.example']);
  const other = makeCert('other', ['other.example']);
  const notPem = join(dir, 'not.pem');
  writeFileSync(notPem, 'hello');
  const cases: Array<[TlsConfig, RegExp, Date?]> = [
    [
      { cert: join(dir, 'missing.crt'), key: good.key },
      /^tls\.cert: cannot read .*missing\.crt \(ENOENT\)/,
    ],
    [{ cert: notPem, key: good.key }, /^tls\.cert: .*not\.pem is not a PEM certificate/],
    [{ cert: good.cert, key: notPem }, /^tls\.key: .*not\.pem is not a PEM private key/],
    [
      { cert: good.cert, key: other.key },
      /^tls\.key: .*other\.key is not the key of the certificate .*good\.crt/,
    ],
    [good, /^tls\.cert: .*good\.crt expired on /, new Date(Date.now() + 3 * 86_400_000)],
  ];
  for (const [config, message, now] of cases) {
    assert.throws(
      () => loadCertificate(config, 'tls', now),
      (err: HotswapError) => err.code === 'CONFLICT' && message.test(err.message),
      String(message),
    );
  }
  assert.ok(loadCertificate(good).notAfter.getTime() > Date.now());
});

for (const [fastPath, directTls] of [
  [true, true],
  [false, true],
  [true, false],
  [false, false],
]) {
  const engine = `${fastPath ? 'fast path' : 'full path'}${directTls ? '' : ' (TLSSocket)'}`;
  test(`${engine} over TLS: X-Forwarded-Proto https, HSTS, keep-alive, WebSocket`, async () => {
    const p = await proxied(fastPath, directTls);
    const port = await freePort();
    const cert = makeCert(`one-${engine.replace(/[^a-z]+/gi, '-')}`, ['shop.example']);
    const tlsConfig: TlsConfig = { ...cert, hstsMaxAge: 86400, hstsIncludeSubDomains: true };
    await p.client.ensureService('web', { listen: `127.0.0.1:${port}`, tls: tlsConfig });
    const ws = await startWsUpstream('a');
    cleanup(() => ws.close());
    await p.client.addBackend('web', { id: 'a', revision: 1, address: ws.address });
    const agent = new https.Agent({ keepAlive: true, maxSockets: 1 });
    cleanup(() => Promise.resolve(agent.destroy()));
    for (let i = 0; i < 3; i++) {
      const r = await get(port, 'shop.example', `/n${i}`, agent);
      assert.equal(r.status, 200);
      assert.equal(r.peer, fingerprint(cert.cert));
      const echo = JSON.parse(r.body) as EchoReply;
      assert.equal(echo.headers['x-forwarded-proto'], 'https');
      assert.equal(echo.url, `/n${i}`);
      assert.equal(r.headers['strict-transport-security'], 'max-age=86400; includeSubDomains');
    }
    // A WebSocket through the TLS listener.
    const peer = await new Promise<WsPeer>((resolve, reject) => {
      const req = https.request({
        host: '127.0.0.1',
        port,
        servername: 'shop.example',
        rejectUnauthorized: false,
        agent: false,
        headers: {
          host: 'shop.example',
          connection: 'Upgrade',
          upgrade: 'websocket',
          'sec-websocket-version': '13',
          'sec-websocket-key': randomBytes(16).toString('base64'),
        },
      });
      req.on('upgrade', (_res, socket, head) => resolve(new WsPeer(socket, true, head)));
      req.on('response', (res) => reject(new Error(`no upgrade: ${res.statusCode}`)));
      req.on('error', reject);
      req.end();
    });
    cleanup(() => Promise.resolve(void peer.socket.destroy()));
    peer.send('hi');
    assert.equal((await peer.next())?.payload.toString(), 'a:hi');
  });
}

test('SNI picks the service and its certificate; a renewed certificate is served without cutting', async () => {
  const p = await proxied();
  const port = await freePort();
  const a = makeCert('sni-a', ['a.example']);
  const b = makeCert('sni-b', ['b.example']);
  const listen = `127.0.0.1:${port}`;
  await p.client.ensureService('a', { listen, hosts: ['a.example'], tls: a });
  await p.client.ensureService('b', { listen, hosts: ['b.example'], tls: b });
  await echoBackend(p, 'a', 'app-a');
  await echoBackend(p, 'b', 'app-b');
  const ra = await get(port, 'a.example');
  const rb = await get(port, 'b.example');
  assert.equal(ra.peer, fingerprint(a.cert));
  assert.equal((JSON.parse(ra.body) as EchoReply).name, 'app-a');
  assert.equal(rb.peer, fingerprint(b.cert));
  assert.equal((JSON.parse(rb.body) as EchoReply).name, 'app-b');
  // A client that sends no SNI (it dialled an IP address) still gets a certificate.
  const bare = await new Promise<string>((resolve, reject) => {
    const socket = tls.connect({ host: '127.0.0.1', port, rejectUnauthorized: false }, () => {
      resolve(socket.getPeerCertificate().fingerprint256);
      socket.destroy();
    });
    socket.on('error', reject);
  });
  assert.ok([fingerprint(a.cert), fingerprint(b.cert)].includes(bare));

  // Renewal: new files in place (as a renewal writes them); an open connection keeps working.
  const agent = new https.Agent({ keepAlive: true, maxSockets: 1 });
  cleanup(() => Promise.resolve(agent.destroy()));
  assert.equal((await get(port, 'a.example', '/', agent)).peer, fingerprint(a.cert));
  const renewed = makeCert('sni-a2', ['a.example']);
  const before = fingerprint(a.cert);
  copyFileSync(renewed.key, a.key);
  copyFileSync(renewed.cert, a.cert);
  let seen = before;
  for (let i = 0; i < 40 && seen === before; i++) {
    await sleep(100);
    seen = (await get(port, 'a.example')).peer;
  }
  assert.equal(seen, fingerprint(renewed.cert), 'new connections get the renewed certificate');
  const still = await get(port, 'a.example', '/', agent);
  assert.equal(still.status, 200);
  assert.equal(still.peer, before, 'the open connection kept its session');
  // A broken file (half-written) keeps the working certificate.
  writeFileSync(a.cert, '-----BEGIN CERTIFICATE-----\nMIIB\n');
  await sleep(1500);
  assert.equal((await get(port, 'a.example')).peer, fingerprint(renewed.cert));
  assert.ok(
    p.logs.some((l) => l.includes('kept the previous certificate')),
    p.logs.join('\n'),
  );
});

test('one certificate for the address (no SNI choice): a renewed one is served to new connections', async () => {
  // The listener then gives the context up front instead of an SNICallback (listeners.ts): it
  // must still read the current context at each accept.
  const p = await proxied();
  const port = await freePort();
  const cert = makeCert('sole', ['sole.example']);
  const listen = `127.0.0.1:${port}`;
  await p.client.ensureService('sole', { listen, tls: cert });
  await echoBackend(p, 'sole', 'app-sole');
  const first = await get(port, 'sole.example');
  assert.equal(first.status, 200);
  assert.equal(first.peer, fingerprint(cert.cert));
  assert.equal(first.headers['strict-transport-security'], undefined);
  const renewed = makeCert('sole2', ['sole.example']);
  copyFileSync(renewed.key, cert.key);
  copyFileSync(renewed.cert, cert.cert);
  let seen = first.peer;
  for (let i = 0; i < 40 && seen === first.peer; i++) {
    await sleep(100);
    seen = (await get(port, 'sole.example')).peer;
  }
  assert.equal(seen, fingerprint(renewed.cert), 'new connections get the renewed certificate');
  // A client without SNI gets it too.
  assert.equal((await get(port, '')).peer, fingerprint(renewed.cert));
});

test('the redirect listener answers 308 to https and ACME HTTP-01 challenges', async () => {
  const p = await proxied();
  const port = await freePort();
  const plain = await freePort();
  const cert = makeCert('redirect', ['shop.example']);
  await p.client.ensureService('web', {
    listen: `127.0.0.1:${port}`,
    tls: { ...cert, redirect: `127.0.0.1:${plain}` },
  });
  await echoBackend(p, 'web', 'app');
  const moved = await request(plain, { path: '/cart?x=1', headers: { host: 'shop.example' } });
  assert.equal(moved.status, 308);
  assert.equal(moved.headers.location, `https://shop.example:${port}/cart?x=1`);
  const token = 'tok-123_ABC';
  const missing = await request(plain, { path: `/.well-known/acme-challenge/${token}` });
  assert.equal(missing.status, 404);
  await p.client.setChallenge(token, `${token}.thumb`);
  const answered = await request(plain, { path: `/.well-known/acme-challenge/${token}` });
  assert.equal(answered.status, 200);
  assert.equal(answered.body.toString(), `${token}.thumb`);
  assert.equal((await get(port, 'shop.example')).status, 200);
});

test('an address is all TLS or all plain; a redirect address is nobody else’s', async () => {
  const p = await proxied();
  const port = await freePort();
  const listen = `127.0.0.1:${port}`;
  const cert = makeCert('mix', ['a.example']);
  await p.client.ensureService('secure', { listen, hosts: ['a.example'], tls: cert });
  const refused = (config: ServiceConfig): Promise<void> =>
    assert.rejects(p.client.ensureService('plain', config), (err: Error) =>
      /used by service secure|is the address of service secure/.test(err.message),
    );
  await refused({ listen, hosts: ['b.example'] });
  await refused({ listen: `127.0.0.1:${await freePort()}`, tls: { ...cert, redirect: listen } });
  await assert.rejects(
    p.client.ensureService('bad', {
      listen: `127.0.0.1:${await freePort()}`,
      tls: { cert: join(dir, 'nope.crt'), key: cert.key },
    }),
    /tls\.cert: cannot read/,
  );
  // The failed services left nothing behind: the TLS service still serves.
  await echoBackend(p, 'secure', 'app');
  const served = await get(port, 'a.example');
  assert.equal((JSON.parse(served.body) as EchoReply).name, 'app');
});
