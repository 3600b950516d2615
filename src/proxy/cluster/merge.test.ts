import assert from 'node:assert/strict';
import { test } from 'node:test';
import type {
  DrainResult,
  RevisionStats,
  RouteTable,
  ServiceRoute,
  ServiceStats,
} from '../types.js';
import { commonTable, mergeDrains, mergeStats } from './merge.js';

const kinds = { connect: 0, timeout: 0, reset: 0, other: 0 };
const rev = (requests: number, errors: number, counts: number[]): RevisionStats => ({
  requests,
  statuses: { '2xx': requests - errors, '5xx': errors },
  errors,
  errorsByKind: { ...kinds, reset: errors },
  inFlight: 1,
  latencyMs: { bounds: [1, 2], counts, sum: requests },
  windowMs: 10_000,
  windowRequests: requests,
  windowErrors: errors,
  samples: [1, 2],
});
const stats = (r: Record<string, RevisionStats>): ServiceStats => ({
  revisions: r,
  instances: {},
  unavailable: 1,
  long: { open: 0, opened: 1, cut: 0, byKind: { websocket: 0, upgrade: 0, sse: 0, tcp: 0 } },
});

test('stats of several proxies add up, histograms bucket by bucket', () => {
  const m = mergeStats([
    stats({ '1': rev(10, 1, [5, 4, 1]) }),
    stats({ '1': rev(20, 2, [10, 10, 0]), '2': rev(3, 0, [3, 0, 0]) }),
  ]);
  assert.equal(m.revisions['1']!.requests, 30);
  assert.equal(m.revisions['1']!.errors, 3);
  assert.deepEqual(m.revisions['1']!.statuses, { '2xx': 27, '5xx': 3 });
  assert.deepEqual(m.revisions['1']!.latencyMs.counts, [15, 14, 1]);
  assert.equal(m.revisions['1']!.windowRequests, 30);
  assert.equal(m.revisions['1']!.errorsByKind.reset, 3);
  assert.deepEqual(m.revisions['1']!.samples, [1, 2, 1, 2]);
  assert.equal(m.revisions['2']!.requests, 3);
  assert.equal(m.unavailable, 2);
  assert.equal(m.long.opened, 2);
});

test('a drain is done when every proxy drained', () => {
  const d = (drained: boolean, waitedMs: number): DrainResult => ({
    drained,
    inFlight: drained ? 0 : 2,
    waitedMs,
    long: { atStart: 1, closedByPeer: 1, cut: 0 },
  });
  assert.deepEqual(mergeDrains([d(true, 10), d(false, 30)]), {
    drained: false,
    inFlight: 2,
    waitedMs: 30,
    long: { atStart: 2, closedByPeer: 2, cut: 0 },
  });
});

const route = (
  backends: string[],
  weights: Record<string, number>,
  listen = '0.0.0.0:80',
): ServiceRoute => ({
  listen,
  mode: 'http',
  longConnections: { policy: 'keep', timeoutMs: 1000 },
  maxBodyBytes: 1,
  weights,
  backends: backends.map((id) => ({
    id,
    revision: 1,
    address: `10.0.0.${id}:80`,
    state: 'active',
  })),
});
const table = (services: Record<string, ServiceRoute>): RouteTable => ({ version: 1, services });

test('the common table is what every proxy has: a proxy that missed a call shows as a gap', () => {
  const full = table({ web: route(['1', '2'], { '1': 2 }), api: route(['3'], { '1': 1 }) });
  const behind = table({ web: route(['1'], { '1': 1 }) });
  const common = commonTable([full, behind]);
  assert.deepEqual(Object.keys(common.services), ['web']);
  assert.deepEqual(
    common.services.web!.backends.map((b) => b.id),
    ['1'],
  );
  assert.deepEqual(common.services.web!.weights, {}, 'weights that differ are reported as none');
  assert.deepEqual(commonTable([full, full]), full);
  const otherConfig = table({
    web: route(['1', '2'], { '1': 2 }, '0.0.0.0:81'),
    api: route(['3'], { '1': 1 }),
  });
  assert.equal(commonTable([full, otherConfig]).services.web!.listen, '');
  assert.deepEqual(commonTable([]), { version: 1, services: {} });
});
