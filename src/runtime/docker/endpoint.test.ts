import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import {
  connectOptions,
  describeEndpoint,
  endpointOrigin,
  resolveEndpoint,
  type DockerEndpoint,
} from './endpoint.js';

const HOME = '/nonexistent-home';

function certDir(files: string[]): string {
  const dir = mkdtempSync(join(tmpdir(), 'hotswap-certs-'));
  for (const f of files) writeFileSync(join(dir, f), `-----${f}-----`);
  return dir;
}

test('no DOCKER_HOST: the default unix socket', () => {
  assert.deepEqual(resolveEndpoint({}, HOME), {
    kind: 'unix',
    socketPath: '/var/run/docker.sock',
  });
});

test('unix:// names the socket', () => {
  const e = resolveEndpoint({ DOCKER_HOST: 'unix:///run/user/1000/docker.sock' }, HOME);
  assert.deepEqual(e, { kind: 'unix', socketPath: '/run/user/1000/docker.sock' });
  assert.equal(endpointOrigin(e), 'http://localhost');
  assert.deepEqual(connectOptions(e), { socketPath: '/run/user/1000/docker.sock' });
});

test('tcp:// without TLS: port 2375 by default, plain HTTP', () => {
  const e = resolveEndpoint({ DOCKER_HOST: 'tcp://10.0.0.5' }, HOME);
  assert.deepEqual(e, { kind: 'tcp', host: '10.0.0.5', port: 2375, tls: null });
  assert.equal(endpointOrigin(e), 'http://10.0.0.5:2375');
  assert.equal(describeEndpoint(e), 'tcp://10.0.0.5:2375');
  assert.deepEqual(connectOptions(e), {});
  const withPort = resolveEndpoint({ DOCKER_HOST: 'tcp://docker.example:4243' }, HOME);
  assert.deepEqual(withPort, { kind: 'tcp', host: 'docker.example', port: 4243, tls: null });
});

test('DOCKER_TLS_VERIFY: TLS, verified, port 2376, ca/cert/key read from DOCKER_CERT_PATH', () => {
  const dir = certDir(['ca.pem', 'cert.pem', 'key.pem']);
  const e = resolveEndpoint(
    { DOCKER_HOST: 'tcp://[::1]', DOCKER_TLS_VERIFY: '1', DOCKER_CERT_PATH: dir },
    HOME,
  ) as Extract<DockerEndpoint, { kind: 'tcp' }>;
  assert.equal(e.host, '::1');
  assert.equal(e.port, 2376);
  assert.equal(e.tls?.verify, true);
  assert.equal(e.tls?.certPath, dir);
  assert.equal(e.tls?.ca?.toString(), '-----ca.pem-----');
  assert.equal(e.tls?.cert?.toString(), '-----cert.pem-----');
  assert.equal(e.tls?.key?.toString(), '-----key.pem-----');
  assert.equal(endpointOrigin(e), 'https://[::1]:2376');
  assert.equal(describeEndpoint(e), 'tcp://[::1]:2376 (TLS, verified)');
  const opts = connectOptions(e) as { rejectUnauthorized: boolean; ca: Buffer };
  assert.equal(opts.rejectUnauthorized, true);
  assert.equal(opts.ca.toString(), '-----ca.pem-----');
});

test('DOCKER_TLS_VERIFY empty is off (as in the docker CLI); DOCKER_TLS alone: TLS unverified', () => {
  const plain = resolveEndpoint({ DOCKER_HOST: 'tcp://h:1', DOCKER_TLS_VERIFY: '' }, HOME);
  assert.deepEqual(plain, { kind: 'tcp', host: 'h', port: 1, tls: null });
  const e = resolveEndpoint({ DOCKER_HOST: 'tcp://h', DOCKER_TLS: '1' }, HOME) as Extract<
    DockerEndpoint,
    { kind: 'tcp' }
  >;
  assert.equal(e.port, 2376);
  assert.deepEqual(e.tls, { verify: false, certPath: join(HOME, '.docker') });
  assert.equal((connectOptions(e) as { rejectUnauthorized: boolean }).rejectUnauthorized, false);
});

test('the default cert path is ~/.docker; missing files are skipped', () => {
  const home = mkdtempSync(join(tmpdir(), 'hotswap-home-'));
  mkdirSync(join(home, '.docker'));
  writeFileSync(join(home, '.docker', 'ca.pem'), 'CA');
  const e = resolveEndpoint({ DOCKER_HOST: 'tcp://h', DOCKER_TLS_VERIFY: '1' }, home) as Extract<
    DockerEndpoint,
    { kind: 'tcp' }
  >;
  assert.equal(e.tls?.ca?.toString(), 'CA');
  assert.equal(e.tls?.cert, undefined);
  assert.equal(e.tls?.key, undefined);
});

test('a client certificate without its key is refused', () => {
  const dir = certDir(['cert.pem']);
  assert.throws(
    () =>
      resolveEndpoint(
        { DOCKER_HOST: 'tcp://h', DOCKER_TLS_VERIFY: '1', DOCKER_CERT_PATH: dir },
        HOME,
      ),
    {
      code: 'DOCKER_UNAVAILABLE',
      message: `DOCKER_CERT_PATH=${dir} has cert.pem but no key.pem: a client certificate needs both`,
    },
  );
});

test('unsupported or malformed DOCKER_HOST values say why', () => {
  for (const [host, why] of [
    ['ssh://me@host', 'hotswap speaks unix:// and tcp://'],
    ['npipe:////./pipe/docker_engine', 'hotswap speaks unix:// and tcp://'],
    ['unix://', 'it names no socket'],
    ['tcp://', 'it is not tcp://host[:port]'],
    ['tcp://host:2375/path', 'it is not tcp://host[:port]'],
    ['tcp://host:notaport', 'it is not tcp://host[:port]'],
  ]) {
    assert.throws(() => resolveEndpoint({ DOCKER_HOST: host }, HOME), {
      code: 'DOCKER_UNAVAILABLE',
      message:
        `DOCKER_HOST=${host} is not supported: ${why} ` +
        '(use unix:///path/to/docker.sock or tcp://host:port, or unset it)',
    });
  }
});
