import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { diffServices } from './diff.js';
import type { ServiceSpec } from './types.js';

const old: ServiceSpec = {
  name: 'web',
  image: 'web:v1',
  replicas: 3,
  port: 8080,
  listen: '127.0.0.1:8080',
  env: { VERSION: 'v1', GONE: 'x', API_TOKEN: 'secret-1' },
  command: null,
  volumes: [],
  health: {
    check: { type: 'tcp' },
    intervalMs: 1000,
    timeoutMs: 1000,
    healthyThreshold: 1,
    unhealthyThreshold: 3,
    deadlineMs: 60_000,
  },
  strategy: { type: 'rolling', maxSurge: 1, maxUnavailable: 0, analysis: null },
  drain: { timeoutMs: 30_000, longConnections: { policy: 'keep', timeoutMs: 30_000 }, notify: null },
  mode: 'http',
  analysis: { intervalMs: 10_000, failureLimit: 0, minRequests: 50, errorRate: null, latency: null, prometheus: null },
  keepPreviousMs: 0,
  routing: { hosts: [], pathPrefix: null, sticky: null },
  stopGracePeriodMs: 10_000,
};

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
      'env.API_TOKEN: *** → ***',
      'env.GONE: removed',
      'env.NEW: added "1"',
      'env.VERSION: "v1" → "v2"',
      'command: (image default) → ["node","server.js"]',
      'volumes: (none) → /srv/data:/data:ro',
      'health.check: tcp → http /healthz',
      'health.interval: 1s → 500ms',
      'strategy: rolling (maxSurge 1, maxUnavailable 0) → recreate',
      'drain.timeout: 30s → 90s',
    ]);
  });
});
