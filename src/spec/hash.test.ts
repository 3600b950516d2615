import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { canonicalJson, configHash } from './hash.js';
import { sampleService } from './sample.js';
import type { ServiceSpec } from './types.js';

const base: ServiceSpec = sampleService({
  env: { VERSION: 'v1', MODE: 'fast' },
  command: ['node', '/app/server.js'],
  volumes: [{ source: '/srv/data', target: '/data', readOnly: true }],
});

void describe('configHash', () => {
  void it('is 16 hex characters and stable across calls and key order', () => {
    const hash = configHash(base);
    assert.match(hash, /^[0-9a-f]{16}$/);
    assert.equal(configHash(structuredClone(base)), hash);
    const reordered = { ...base, env: { MODE: 'fast', VERSION: 'v1' } };
    assert.equal(configHash(reordered), hash);
  });

  void it('changes with anything that defines the containers', () => {
    const variants: Array<Partial<ServiceSpec>> = [
      { image: 'hotswap-fixture:v2' },
      { port: 8081 },
      { env: { VERSION: 'v2', MODE: 'fast' } },
      { env: { VERSION: 'v1' } },
      { command: null },
      { command: ['node', '/app/other.js'] },
      { volumes: [] },
      { volumes: [{ source: '/srv/data', target: '/data', readOnly: false }] },
      { health: { ...base.health, check: { type: 'tcp' } } },
      { health: { ...base.health, intervalMs: 2000 } },
    ];
    const hashes = variants.map((v) => configHash({ ...base, ...v }));
    for (const hash of hashes) assert.notEqual(hash, configHash(base));
    assert.equal(new Set(hashes).size, variants.length);
  });

  void it('ignores what only scales or routes a revision', () => {
    const same: ServiceSpec = {
      ...base,
      name: 'web',
      replicas: 10,
      listen: '0.0.0.0:9999',
      strategy: { type: 'recreate' },
      drain: { ...base.drain, timeoutMs: 1 },
      stopGracePeriodMs: 1,
    };
    assert.equal(configHash(same), configHash(base));
  });
});

void describe('canonicalJson', () => {
  void it('sorts keys at every depth and keeps array order', () => {
    assert.equal(
      canonicalJson({ b: 1, a: { d: [2, 1], c: null } }),
      '{"a":{"c":null,"d":[2,1]},"b":1}',
    );
    assert.equal(canonicalJson({ a: undefined, b: 'x' }), '{"b":"x"}');
  });
});
