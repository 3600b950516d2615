// DOCKER_HOST=tcp:// with TLS, as the docker CLI reads it (DOCKER_TLS_VERIFY, DOCKER_CERT_PATH),
// against the real engine: the test puts a TLS endpoint on 127.0.0.1 in front of the engine's
// unix socket (mutual TLS, certificates made with openssl for the test) and drives it with
// DockerClient and with the CLI. A wrong CA and a missing client certificate are refused with a
// message that names the TLS settings.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import tls from 'node:tls';
import { after, before, describe, test } from 'node:test';
import { homePaths } from '../../src/daemon/paths.js';
import { DockerClient, resolveEndpoint } from '../../src/runtime/index.js';
import { hotswap } from '../helpers/cli.js';
import { cleanupScope, requireEngine } from '../helpers/docker.js';

function openssl(dir: string, args: string[]): void {
  execFileSync('openssl', args, { cwd: dir, stdio: 'pipe' });
}

/** A CA, a server certificate for 127.0.0.1 and a client certificate, in docker's file names. */
function makeCerts(dir: string, caName: string): void {
  const ec = ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes'];
  openssl(dir, [
    'req',
    '-x509',
    ...ec,
    '-keyout',
    'ca-key.pem',
    '-out',
    'ca.pem',
    '-days',
    '1',
    '-subj',
    `/CN=${caName}`,
  ]);
  writeFileSync(join(dir, 'server.ext'), 'subjectAltName=IP:127.0.0.1\n');
  writeFileSync(join(dir, 'client.ext'), 'extendedKeyUsage=clientAuth\n');
  for (const [name, ext] of [
    ['server', 'server.ext'],
    ['client', 'client.ext'],
  ] as const) {
    openssl(dir, [
      'req',
      ...ec,
      '-keyout',
      `${name}-key.pem`,
      '-out',
      `${name}.csr`,
      '-subj',
      `/CN=${name}`,
    ]);
    openssl(dir, [
      'x509',
      '-req',
      '-in',
      `${name}.csr`,
      '-CA',
      'ca.pem',
      '-CAkey',
      'ca-key.pem',
      '-CAcreateserial',
      '-out',
      `${name}-cert.pem`,
      '-days',
      '1',
      '-extfile',
      ext,
    ]);
  }
  // What DOCKER_CERT_PATH holds for the client.
  writeFileSync(join(dir, 'cert.pem'), readFileSync(join(dir, 'client-cert.pem')));
  writeFileSync(join(dir, 'key.pem'), readFileSync(join(dir, 'client-key.pem')));
}

describe('DOCKER_HOST=tcp:// with TLS against the real engine', () => {
  const certs = mkdtempSync(join(tmpdir(), 'hotswap-tls-'));
  const otherCa = mkdtempSync(join(tmpdir(), 'hotswap-tls-other-'));
  let server: tls.Server;
  let port = 0;

  before(async () => {
    const { socketPath } = await requireEngine();
    makeCerts(certs, 'hotswap-test-ca');
    makeCerts(otherCa, 'another-ca');
    server = tls.createServer(
      {
        key: readFileSync(join(certs, 'server-key.pem')),
        cert: readFileSync(join(certs, 'server-cert.pem')),
        ca: readFileSync(join(certs, 'ca.pem')),
        requestCert: true,
        rejectUnauthorized: true,
      },
      (client) => {
        const engine = net.connect(socketPath);
        client.pipe(engine).pipe(client);
        client.on('error', () => engine.destroy());
        engine.on('error', () => client.destroy());
      },
    );
    server.on('tlsClientError', () => undefined);
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    port = (server.address() as net.AddressInfo).port;
  });

  after(() => server.close());

  const env = (certPath: string) => ({
    DOCKER_HOST: `tcp://127.0.0.1:${port}`,
    DOCKER_TLS_VERIFY: '1',
    DOCKER_CERT_PATH: certPath,
  });

  test('DockerClient pings, negotiates and lists containers over mutual TLS', async () => {
    const client = new DockerClient({ endpoint: resolveEndpoint(env(certs)) });
    try {
      await client.ping();
      assert.match(await client.negotiate(), /^1\.\d+$/);
      assert.ok(Array.isArray(await client.containers.list({ all: true })));
      assert.equal(client.socketPath, `tcp://127.0.0.1:${port} (TLS, verified)`);
    } finally {
      await client.close();
    }
  });

  test('a server certificate from another CA is refused, naming the TLS settings', async () => {
    const client = new DockerClient({ endpoint: resolveEndpoint(env(otherCa)) });
    try {
      await assert.rejects(client.ping(), (err: Error & { code?: string }) => {
        assert.equal(err.code, 'DOCKER_UNAVAILABLE');
        assert.match(
          err.message,
          /TLS handshake with the Docker Engine at tcp:\/\/127\.0\.0\.1:\d+ \(TLS, verified\) failed/,
        );
        assert.match(err.message, /DOCKER_CERT_PATH \(ca\.pem, cert\.pem, key\.pem\)/);
        return true;
      });
    } finally {
      await client.close();
    }
  });

  test('the CLI starts its daemon on the TLS endpoint, and says why when it cannot', async () => {
    const home = mkdtempSync(join(tmpdir(), 'hotswap-tls-home-'));
    const saved = { ...process.env };
    try {
      Object.assign(process.env, env(certs));
      const ok = await hotswap(home, ['pause', 'web']);
      assert.equal(ok.code, 4, ok.stderr); // a daemon answered: no rollout of "web"
      assert.match(ok.stderr, /no rollout of "web" is in progress/);
      assert.equal((await hotswap(home, ['down'])).code, 0);

      const other = mkdtempSync(join(tmpdir(), 'hotswap-tls-home-'));
      Object.assign(process.env, env(otherCa));
      const bad = await hotswap(other, ['pause', 'web']);
      assert.equal(bad.code, 6, bad.stderr);
      assert.match(bad.stderr, /the daemon could not start: the TLS handshake/);
      assert.ok(bad.ms < 8_000, `${bad.ms} ms`);
    } finally {
      process.env = saved;
      await cleanupScope(homePaths(home).scope);
    }
  });
});
