import assert from 'node:assert/strict';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { parseSpec } from '../spec/index.js';
import { Store } from '../store/index.js';
import type { Runtime } from '../runtime/index.js';
import { attachNetworks, ensureAttached, withPeers } from './networks.js';

const spec = parseSpec(
  `networks:
  front: {}
  back: { internal: true }
services:
  api: { image: a:1, port: 8080, listen: 127.0.0.1:9001, networks: [front, back] }
  app: { image: a:1, port: 8080, listen: 127.0.0.1:9002, networks: [front] }
  db: { image: a:1, port: 5432, listen: 127.0.0.1:9003, networks: [back] }
`,
  'hotswap.yaml',
);

test('each service resolves its peers at the gateway of a network it shares with them', async () => {
  const store = Store.open(join(mkdtempSync(join(tmpdir(), 'hotswap-networks-')), 'hotswap.db'));
  const created: string[] = [];
  const gateways: Record<string, string> = { front: '172.20.0.1', back: '172.21.0.1' };
  const ensureNetwork = (name: string, internal: boolean) => {
    created.push(`${name}${internal ? ' (internal)' : ''}`);
    const gateway = gateways[name]!;
    return Promise.resolve({
      dockerName: `hotswap-x-${name}`,
      gateway,
      subnet: gateway.replace(/\.1$/, '.0/16'),
    });
  };
  // Only what attachNetworks uses of the runtime.
  const runtime = { ensureNetwork } as unknown as Runtime;
  // Applying only app: its peers still come from the whole spec (and the store).
  const [app] = withPeers(store, [spec.services[1]!], spec.services);
  assert.deepEqual(app!.peers, ['api']);
  const all = await attachNetworks(
    runtime,
    store,
    withPeers(store, spec.services, spec.services),
    spec.services,
  );
  assert.deepEqual(created, ['front', 'back (internal)']);
  const [api, , db] = all;
  assert.deepEqual(api!.attached!.hosts, ['api:172.20.0.1', 'app:172.20.0.1', 'db:172.21.0.1']);
  assert.deepEqual(db!.attached!.hosts, ['db:172.21.0.1', 'api:172.21.0.1']);
  assert.deepEqual(
    api!.attached!.networks.map((n) => [n.name, n.internal, n.subnet]),
    [
      ['front', false, '172.20.0.0/16'],
      ['back', true, '172.21.0.0/16'],
    ],
  );
  store.close();
});

test('before instances start, a network removed meanwhile is created again; a moved gateway is said', async () => {
  const asked: string[] = [];
  const runtime = {
    ensureNetwork: (name: string) => {
      asked.push(name);
      return Promise.resolve({
        dockerName: `hotswap-x-${name}`,
        gateway: '172.29.0.1',
        subnet: '172.29.0.0/16',
      });
    },
  } as unknown as Runtime;
  const said: string[] = [];
  const service = {
    ...spec.services[1]!,
    attached: {
      networks: [
        {
          name: 'front',
          internal: false,
          dockerName: 'hotswap-x-front',
          gateway: '172.20.0.1',
          subnet: '172.20.0.0/16',
        },
      ],
      hosts: [],
    },
  };
  await ensureAttached(runtime, service, (event, message) => said.push(`${event}: ${message}`));
  assert.deepEqual(asked, ['front']);
  assert.equal(said.length, 1);
  assert.match(
    said[0]!,
    /^network\.moved: network front is at 172\.29\.0\.1 now \(was 172\.20\.0\.1\)/,
  );
});
