import assert from 'node:assert/strict';
import { test } from 'node:test';
import { HotswapError } from '../errors.js';
import { configHash } from './hash.js';
import { peersOf } from './networks.js';
import { parseSpec } from './parse.js';
import type { SpecIssue } from './types.js';

const service = (name: string, extra = '', port = 8080) => `  ${name}:
    image: app:v1
    port: ${port}
    listen: 127.0.0.1:${9000 + name.charCodeAt(0)}
${extra}`;

function issues(text: string): string[] {
  try {
    parseSpec(text, 'hotswap.yaml');
  } catch (err) {
    assert.ok(err instanceof HotswapError);
    const list = (err.details as { issues: SpecIssue[] }).issues;
    return list.map((i) => `${i.line}:${i.col} ${i.path}: ${i.message}`);
  }
  assert.fail('expected SPEC_INVALID');
}

test('networks: declared compose-like, joined by name; no list means the default network', () => {
  const spec = parseSpec(
    `networks:
  front:
  back: { internal: true }
services:
${service('api', '    networks: [front, back]\n')}${service('web')}`,
    'hotswap.yaml',
  );
  const [api, web] = spec.services;
  assert.deepEqual(api!.networks, [
    { name: 'front', internal: false },
    { name: 'back', internal: true },
  ]);
  assert.equal(web!.networks, undefined);
  // A service on the default network keeps the hash it had before networks existed.
  const before = parseSpec(`services:\n${service('web')}`, 'hotswap.yaml').services[0]!;
  assert.equal(configHash(web!), configHash(before));
  assert.notEqual(configHash(api!), configHash({ ...api!, networks: undefined }));
});

test('networks: an undeclared or repeated name is an error at its place in the list', () => {
  assert.deepEqual(
    issues(`networks:
  front: {}
services:
${service('api', '    networks: [front, frnt, front]\n')}`),
    [
      '8:23 services.api.networks[1]: network "frnt" is not declared in the top-level networks (default, front)',
      '8:29 services.api.networks[2]: network "front" is listed twice',
    ],
  );
});

test('networks: a tcp service needs its port alone on its networks', () => {
  assert.deepEqual(
    issues(`networks:
  front: {}
services:
${service('api', '    networks: [front]\n')}${service('db', '    mode: tcp\n    health: { tcp: true }\n    networks: [front]\n')}`),
    [
      '11:11 services.db.port: port 8080 is also service "api"\'s on network "front"; a tcp service needs a port of its own on its networks',
    ],
  );
  // Another port is fine.
  parseSpec(
    `networks:
  front: {}
services:
${service('api', '    networks: [front]\n')}${service('db', '    mode: tcp\n    health: { tcp: true }\n    networks: [front]\n', 5432)}`,
    'hotswap.yaml',
  );
});

test('networks: an internal default network applies to services that name none', () => {
  const spec = parseSpec(
    `networks:
  default: { internal: true }
services:
${service('web')}`,
    'hotswap.yaml',
  );
  assert.deepEqual(spec.services[0]!.networks, [{ name: 'default', internal: true }]);
});

test('peers: the other services sharing a network; a new peer changes the config hash', () => {
  const spec = parseSpec(
    `networks:
  front: {}
  back: {}
services:
${service('api', '    networks: [front, back]\n')}${service('web', '    networks: [front]\n')}${service('db', '    networks: [back]\n')}${service('job')}`,
    'hotswap.yaml',
  );
  const [api, web, db, job] = spec.services;
  assert.deepEqual(peersOf(api!, spec.services), ['db', 'web']);
  assert.deepEqual(peersOf(web!, spec.services), ['api']);
  assert.deepEqual(peersOf(db!, spec.services), ['api']);
  assert.deepEqual(peersOf(job!, spec.services), []);
  assert.notEqual(configHash(web!), configHash({ ...web!, peers: ['api'] }));
});
