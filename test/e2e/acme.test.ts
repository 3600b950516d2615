// TLS with automatic certificates, end to end against Pebble (Let's Encrypt's test ACME server),
// started here on loopback with pebble-challtestsrv as its DNS (every name → 127.0.0.1), so the
// HTTP-01 validation reaches hotswap's own redirect listener. `up` obtains the certificate, the
// service answers over TLS with a chain Pebble issued, renewals replace it in place (journaled),
// a renewal that fails keeps the old certificate serving, and an unreachable directory fails
// `up` before any instance starts.
import assert from 'node:assert/strict';
import { spawn, execFileSync, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import https from 'node:https';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import type tls from 'node:tls';
import { homePaths } from '../../src/daemon/paths.js';
import { makeCertificate } from '../../src/tls/test-certificates.js';
import { cleanupScope, ensureFixtures, requireEngine } from '../helpers/docker.js';
import { freePort, hotswap } from '../helpers/cli.js';
import { waitFor } from '../helpers/load.js';

const HOST = 'app.hotswap.test';

interface Pebble {
  directory: string;
  ca: string;
  management: number;
  stop(): void;
}

/** Pebble with its DNS on loopback; `httpPort` is where it validates HTTP-01. */
async function startPebble(dir: string, httpPort: number): Promise<Pebble> {
  const { cert, key } = makeCertificate(dir, 'pebble', ['localhost'], { ips: ['127.0.0.1'] });
  const [listen, management, tlsPort, dns] = await Promise.all([
    freePort(),
    freePort(),
    freePort(),
    freePort(),
  ]);
  const config = join(dir, 'pebble.json');
  writeFileSync(
    config,
    JSON.stringify({
      pebble: {
        listenAddress: `127.0.0.1:${listen}`,
        managementListenAddress: `127.0.0.1:${management}`,
        certificate: cert,
        privateKey: key,
        httpPort,
        tlsPort,
        ocspResponderURL: '',
        externalAccountBindingRequired: false,
      },
    }),
  );
  const children: ChildProcess[] = [
    spawn(
      'pebble-challtestsrv',
      [
        '-defaultIPv4',
        '127.0.0.1',
        '-defaultIPv6',
        '',
        '-dns01',
        `127.0.0.1:${dns}`,
        '-http01',
        '',
        '-https01',
        '',
        '-tlsalpn01',
        '',
        '-management',
        `127.0.0.1:${await freePort()}`,
      ],
      { stdio: 'ignore' },
    ),
    spawn('pebble', ['-config', config, '-dnsserver', `127.0.0.1:${dns}`], {
      stdio: 'ignore',
      env: { ...process.env, PEBBLE_VA_NOSLEEP: '1', PEBBLE_WFE_NONCEREJECT: '0' },
    }),
  ];
  const stop = (): void => children.forEach((c) => c.kill('SIGKILL'));
  const directory = `https://127.0.0.1:${listen}/dir`;
  try {
    await waitFor('pebble', () => fetchOk(directory, cert), 10_000);
  } catch (err) {
    stop();
    throw err;
  }
  return { directory, ca: cert, management, stop };
}

function fetchOk(url: string, ca: string): Promise<boolean> {
  return new Promise((resolve) => {
    const req = https.get(url, { ca: execFileSync('cat', [ca]) }, (res) => {
      res.resume();
      resolve(res.statusCode === 200);
    });
    req.on('error', () => resolve(false));
  });
}

/** Pebble's issuing root (it changes at every start), from its management port. */
function pebbleRoot(p: Pebble): Promise<string> {
  return new Promise((resolve, reject) => {
    https
      .get(
        `https://127.0.0.1:${p.management}/roots/0`,
        { ca: execFileSync('cat', [p.ca]) },
        (res) => {
          let body = '';
          res.on('data', (c: Buffer) => (body += c.toString()));
          res.on('end', () => resolve(body));
        },
      )
      .on('error', reject);
  });
}

interface Answer {
  status: number;
  version: string | null;
  fingerprint: string;
  issuer: string;
}

/** GET https://HOST/ on 127.0.0.1:port, verifying the chain against `ca`. */
function getTls(port: number, ca: string): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const req = https.get(
      { host: '127.0.0.1', port, servername: HOST, headers: { host: HOST }, ca, agent: false },
      (res) => {
        const peer = (res.socket as tls.TLSSocket).getPeerCertificate();
        res.resume();
        res.on('end', () =>
          resolve({
            status: res.statusCode ?? 0,
            version: res.headers['x-version'] as string | null,
            fingerprint: peer.fingerprint256,
            issuer: String(peer.issuer?.CN ?? ''),
          }),
        );
      },
    );
    req.on('error', reject);
  });
}

describe('TLS with ACME certificates from Pebble', () => {
  const home = mkdtempSync(join(tmpdir(), 'hotswap-acme-'));
  const dir = mkdtempSync(join(tmpdir(), 'hotswap-acme-spec-'));
  const specFile = join(dir, 'hotswap.yaml');
  let pebble: Pebble;
  let tlsPort = 0;
  let plainPort = 0;

  const spec = (directory: string, renewBefore: string): string => `services:
  web:
    image: hotswap-fixture:v1
    replicas: 1
    port: 8080
    listen: 127.0.0.1:${tlsPort}
    routing: { hosts: [${HOST}] }
    health: { http: /healthz, interval: 200ms, deadline: 10s }
    tls:
      redirect: 127.0.0.1:${plainPort}
      hsts: 1d
      acme:
        email: ops@hotswap.test
        directory: ${directory}
        directoryCa: ${join(dir, 'pebble.crt')}
        renewBefore: ${renewBefore}
`;

  before(async () => {
    await requireEngine();
    await ensureFixtures();
    [tlsPort, plainPort] = await Promise.all([freePort(), freePort()]);
    pebble = await startPebble(dir, plainPort);
    // Renewal checks every second in this daemon (default: hourly).
    process.env.HOTSWAP_ACME_CHECK_MS = '1000';
  });

  after(async () => {
    pebble?.stop();
    delete process.env.HOTSWAP_ACME_CHECK_MS;
    await hotswap(home, ['down']);
    await cleanupScope(homePaths(home).scope);
  });

  test('up obtains a certificate with HTTP-01 and serves the app over TLS', async () => {
    writeFileSync(specFile, spec(pebble.directory, '1d'));
    const t0 = Date.now();
    const r = await hotswap(home, ['up', '-f', specFile]);
    assert.equal(r.code, 0, r.stderr + r.stdout);
    console.log(`up with a first ACME certificate: ${Date.now() - t0} ms`);
    const root = await pebbleRoot(pebble);
    const answer = await getTls(tlsPort, root);
    assert.equal(answer.status, 200);
    assert.equal(answer.version, 'v1');
    assert.match(answer.issuer, /Pebble/i);
    const plain = await new Promise<http.IncomingMessage>((resolve, reject) =>
      http
        .get({ host: '127.0.0.1', port: plainPort, path: '/x', headers: { host: HOST } }, resolve)
        .on('error', reject),
    );
    plain.resume();
    assert.equal(plain.statusCode, 308);
    assert.equal(plain.headers.location, `https://${HOST}:${tlsPort}/x`);
  });

  test('a due certificate is renewed in place and journaled; a failed renewal keeps it', async () => {
    const root = await pebbleRoot(pebble);
    const before = (await getTls(tlsPort, root)).fingerprint;
    // renewBefore longer than Pebble's validity: every check renews.
    writeFileSync(specFile, spec(pebble.directory, '3650d'));
    const r = await hotswap(home, ['up', '-f', specFile]);
    assert.equal(r.code, 0, r.stderr + r.stdout);
    let after = before;
    await waitFor(
      'the renewed certificate',
      async () => {
        after = (await getTls(tlsPort, root)).fingerprint;
        return after !== before;
      },
      20_000,
    );
    assert.notEqual(after, before, 'new connections see the renewed certificate');
    pebble.stop();
    const daemonLog = (): string => readFileSync(homePaths(home).daemonLog, 'utf8');
    await waitFor('a failed renewal', () =>
      Promise.resolve(/the current certificate keeps serving/.test(daemonLog())),
    );
    const still = await getTls(tlsPort, root);
    assert.equal(still.status, 200, 'the old certificate keeps serving');
    assert.match(daemonLog(), /certificate for app\.hotswap\.test renewed/);
    assert.match(
      daemonLog(),
      /cannot obtain a certificate for app\.hotswap\.test from .*: the directory cannot be reached \(ECONNREFUSED\) \(the current certificate keeps serving\)/,
    );
  });

  test('an unreachable ACME directory fails up before any instance starts', async () => {
    const closed = await freePort();
    const other = join(dir, 'other.yaml');
    writeFileSync(
      other,
      spec(`https://127.0.0.1:${closed}/dir`, '1d')
        .replace('  web:', '  api:')
        .replace(`listen: 127.0.0.1:${tlsPort}`, `listen: 127.0.0.1:${await freePort()}`)
        .replace(`redirect: 127.0.0.1:${plainPort}`, `redirect: 127.0.0.1:${await freePort()}`)
        .replace(`hosts: [${HOST}]`, 'hosts: [api.hotswap.test]'),
    );
    const r = await hotswap(home, ['up', '-f', other, 'api']);
    assert.equal(r.code, 6, r.stderr + r.stdout);
    assert.match(
      r.stderr,
      /ACME_FAILED: cannot obtain a certificate for api\.hotswap\.test from https:\/\/127\.0\.0\.1:\d+\/dir: the directory cannot be reached \(ECONNREFUSED\)/,
    );
    const st = await hotswap(home, ['status', '--json']);
    const services = (
      JSON.parse(st.stdout) as { services: Array<{ name: string; instances: unknown[] }> }
    ).services;
    assert.equal(services.find((s) => s.name === 'api')?.instances.length ?? 0, 0);
  });
});
