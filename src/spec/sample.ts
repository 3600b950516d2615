// A complete normalized service for unit tests of code that takes a ServiceSpec: tests override
// only the fields they are about.
import type { ServiceSpec } from './types.js';

export function sampleService(overrides: Partial<ServiceSpec> = {}): ServiceSpec {
  return {
    name: 'web',
    image: 'hotswap-fixture:v1',
    pull: 'missing',
    replicas: 3,
    port: 8080,
    mode: 'http',
    listen: '127.0.0.1:8080',
    routing: { hosts: [], pathPrefix: null, sticky: null, override: null },
    env: {},
    command: null,
    volumes: [],
    health: {
      check: { type: 'http', path: '/healthz' },
      intervalMs: 1000,
      timeoutMs: 1000,
      healthyThreshold: 1,
      unhealthyThreshold: 3,
      deadlineMs: 60_000,
    },
    strategy: { type: 'rolling', maxSurge: 1, maxUnavailable: 0, analysis: null },
    drain: {
      timeoutMs: 30_000,
      longConnections: { policy: 'keep', timeoutMs: 30_000 },
      notify: null,
    },
    analysis: {
      intervalMs: 10_000,
      failureLimit: 0,
      minRequests: 50,
      errorRate: null,
      latency: null,
      prometheus: null,
    },
    keepPreviousMs: 0,
    stopGracePeriodMs: 10_000,
    tls: null,
    limits: {
      maxConnections: 0,
      maxBodyBytes: 100 * 1024 * 1024,
      maxConnectionDurationMs: 0,
      tcpIdleTimeoutMs: 0,
    },
    ...overrides,
  };
}
