// Private listeners (issue 16): a service answers on a network's gateway address to its name,
// for connections from the network's subnet only. Loopback stands in for a bridge here: the
// listener is on 127.0.0.2, its "network" 127.0.0.0/30, and a client from 127.0.0.9 is outside.
import assert from 'node:assert/strict';
import http from 'node:http';
import { test } from 'node:test';
import { HotswapError } from '../errors.js';
import { inSubnet } from './core/subnet.js';
import { makeCertificate } from '../tls/test-certificates.js';
import {
  cleanupAfterAll,
  freePort,
  json,
  startProxy,
  startUpstream,
  tempDir,
  type EchoReply,
} from './test-support.js';

const cleanup = cleanupAfterAll();

function from(
  localAddress: string,
  port: number,
  host: string,
): Promise<{ status: number; name?: string } | { error: string }> {
  return new Promise((resolve) => {
    const req = http.get(
      { host: '127.0.0.2', port, localAddress, headers: { host }, agent: false },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => {
          const body = Buffer.concat(chunks);
          const name =
            res.statusCode === 200
              ? json<EchoReply>({ status: 200, headers: res.headers, body }).name
              : undefined;
          resolve({ status: res.statusCode ?? 0, name });
        });
      },
    );
    req.on('error', (err: NodeJS.ErrnoException) => resolve({ error: err.code ?? err.message }));
  });
}

test('a private listener serves its network by service name and closes other sources', async () => {
  const p = await startProxy();
  cleanup(() => p.proxy.close());
  const [api, web] = [await startUpstream('api'), await startUpstream('web')];
  cleanup(
    () => api.close(),
    () => web.close(),
  );
  const port = await freePort();
  const net = { listen: `127.0.0.2:${port}`, subnet: '127.0.0.0/30' };
  await p.client.ensureService('api', { listen: `127.0.0.1:${await freePort()}`, private: [net] });
  await p.client.ensureService('web', { listen: `127.0.0.1:${await freePort()}`, private: [net] });
  await p.client.addBackend('api', { id: 'a', revision: 1, address: api.address });
  await p.client.addBackend('web', { id: 'w', revision: 1, address: web.address });
  await p.client.setWeights('api', { '1': 1 });
  await p.client.setWeights('web', { '1': 1 });

  assert.deepEqual(await from('127.0.0.1', port, 'api:8080'), { status: 200, name: 'api' });
  assert.deepEqual(await from('127.0.0.1', port, 'web'), { status: 200, name: 'web' });
  const unknown = await from('127.0.0.1', port, 'db:8080');
  assert.ok('status' in unknown && unknown.status === 404, JSON.stringify(unknown));
  const outside = await from('127.0.0.9', port, 'api:8080');
  assert.ok(
    'error' in outside,
    `a client outside the subnet was answered: ${JSON.stringify(outside)}`,
  );

  // Removing one service keeps the address for the other; removing both closes it.
  await p.client.removeService('web');
  assert.deepEqual(await from('127.0.0.1', port, 'api'), { status: 200, name: 'api' });
  await p.client.ensureService('api', { listen: `127.0.0.1:${await freePort()}` });
  assert.deepEqual(await from('127.0.0.1', port, 'api'), { error: 'ECONNREFUSED' });
});

test('a TLS service answers plain HTTP on its private network (TLS ends at its public listener)', async () => {
  const p = await startProxy();
  cleanup(() => p.proxy.close());
  const api = await startUpstream('api');
  cleanup(() => api.close());
  const cert = makeCertificate(tempDir(), 'api', ['api.example.com']);
  const port = await freePort();
  await p.client.ensureService('api', {
    listen: `127.0.0.1:${await freePort()}`,
    tls: cert,
    private: [{ listen: `127.0.0.2:${port}`, subnet: '127.0.0.0/30' }],
  });
  await p.client.addBackend('api', { id: 'a', revision: 1, address: api.address });
  await p.client.setWeights('api', { '1': 1 });
  assert.deepEqual(await from('127.0.0.1', port, 'api'), { status: 200, name: 'api' });
});

test('backends outside 127.0.0.1 must lie in one of the service private subnets', async () => {
  const p = await startProxy();
  cleanup(() => p.proxy.close());
  await p.client.ensureService('api', {
    listen: `127.0.0.1:${await freePort()}`,
    private: [{ listen: `127.0.0.2:${await freePort()}`, subnet: '172.30.0.0/16' }],
  });
  await p.client.addBackend('api', { id: 'in', revision: 1, address: '172.30.0.5:8080' });
  await assert.rejects(
    p.client.addBackend('api', { id: 'out', revision: 1, address: '10.0.0.1:8080' }),
    (err: unknown) => err instanceof HotswapError && /neither 127\.0\.0\.1 nor/.test(err.message),
  );
});

test('a tcp service does not share a private address', async () => {
  const p = await startProxy();
  cleanup(() => p.proxy.close());
  const net = { listen: `127.0.0.2:${await freePort()}`, subnet: '127.0.0.0/30' };
  await p.client.ensureService('api', { listen: `127.0.0.1:${await freePort()}`, private: [net] });
  await assert.rejects(
    p.client.ensureService('db', {
      listen: `127.0.0.1:${await freePort()}`,
      mode: 'tcp',
      private: [net],
    }),
    (err: unknown) => err instanceof HotswapError && err.code === 'CONFLICT',
  );
});

test('inSubnet', () => {
  assert.equal(inSubnet('172.18.0.7', '172.18.0.0/16'), true);
  assert.equal(inSubnet('::ffff:172.18.3.7', '172.18.0.0/16'), true);
  assert.equal(inSubnet('172.19.0.7', '172.18.0.0/16'), false);
  assert.equal(inSubnet('127.0.0.3', '127.0.0.0/30'), true);
  assert.equal(inSubnet('127.0.0.4', '127.0.0.0/30'), false);
  assert.equal(inSubnet(undefined, '127.0.0.0/8'), false);
  assert.equal(inSubnet('::1', '127.0.0.0/8'), false);
});
