import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { diffServices } from './diff.js';
import { sampleService } from './sample.js';
import type { ServiceSpec } from './types.js';

const old: ServiceSpec = sampleService({
  image: 'web:v1',
  env: { VERSION: 'v1', GONE: 'x', API_TOKEN: 'secret-1' },
  health: { ...sampleService().health, check: { type: 'tcp' } },
});

void describe('diffServices', () => {
  void it('is empty for identical services', () => {
    assert.deepEqual(diffServices(old, structuredClone(old)), []);
  });

  void it('describes a new service', () => {
    assert.deepEqual(diffServices(null, old), ['new service web']);
  });

  void it('lists each changed field as "field: old → new"', () => {
    const next: ServiceSpec = {
      ...old,
      image: 'web:v2',
      replicas: 5,
      env: { VERSION: 'v2', NEW: '1', API_TOKEN: 'secret-2' },
      command: ['node', 'server.js'],
      volumes: [{ source: '/srv/data', target: '/data', readOnly: true }],
      health: { ...old.health, check: { type: 'http', path: '/healthz' }, intervalMs: 500 },
      strategy: { type: 'recreate' },
      drain: { ...old.drain, timeoutMs: 90_000 },
    };
    assert.deepEqual(diffServices(old, next), [
      'image: web:v1 → web:v2',
      'replicas: 3 → 5',
      'env.API_TOKEN: changed',
      'env.GONE: removed',
      'env.NEW: added',
      'env.VERSION: changed',
      'command: (image default) → ["node","server.js"]',
      'volumes: (none) → /srv/data:/data:ro',
      'health.check: tcp → http /healthz',
      'health.interval: 1s → 500ms',
      'strategy: rolling (maxSurge 1, maxUnavailable 0) → recreate',
      'drain.timeout: 30s → 90s',
    ]);
  });
});
