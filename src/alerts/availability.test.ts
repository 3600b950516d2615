import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { RolloutRecord } from '../store/index.js';
import { computeAvailability, humanDuration } from './availability.js';

const T0 = Date.parse('2026-01-01T00:00:00Z');
const iso = (sec: number): string => new Date(T0 + sec * 1000).toISOString();

function rollout(more: Partial<RolloutRecord>): RolloutRecord {
  return {
    id: 1,
    service: 'web',
    kind: 'update',
    fromRevision: 1,
    toRevision: 2,
    strategy: 'canary',
    status: 'succeeded',
    reason: null,
    startedAt: iso(0),
    finishedAt: iso(60),
    cutConnections: 0,
    ...more,
  };
}

test('availability: request and minute shares, incidents with their time to recover, MTTR', () => {
  const a = computeAvailability({
    service: 'web',
    sinceMs: T0,
    nowMs: T0 + 3600_000,
    minutes: [
      { minuteMs: T0, requests: 1000, failed: 0 },
      { minuteMs: T0 + 60_000, requests: 1000, failed: 30 },
      { minuteMs: T0 + 120_000, requests: 0, failed: 0 },
      { minuteMs: T0 + 180_000, requests: 1000, failed: 0 },
      // before the span: not counted
      { minuteMs: T0 - 60_000, requests: 1000, failed: 1000 },
    ],
    alerts: [
      {
        id: 1,
        service: 'web',
        rule: 'errors',
        expr: 'errorRate > 2%',
        firedAt: iso(70),
        resolvedAt: iso(100),
        value: 0.03,
        message: '',
      },
      {
        id: 2,
        service: 'web',
        rule: 'slow',
        expr: 'p99 > 500ms',
        firedAt: iso(3000),
        resolvedAt: null,
        value: 700,
        message: '',
      },
    ],
    rollouts: [
      rollout({
        id: 7,
        status: 'failed',
        reason: 'analysis failed',
        startedAt: iso(60),
        finishedAt: iso(95),
      }),
      rollout({
        id: 8,
        kind: 'rollback',
        fromRevision: 2,
        toRevision: 1,
        startedAt: iso(200),
        finishedAt: iso(202),
      }),
      rollout({ id: 9 }),
    ],
    marks: [
      { at: iso(80), event: 'rollback.started', rolloutId: 7 },
      { at: iso(90), event: 'rollback.finished', rolloutId: 7 },
      { at: iso(400), event: 'service.degraded', rolloutId: null },
      { at: iso(460), event: 'service.recovered', rolloutId: null },
    ],
  });
  assert.deepEqual(a.requests, { total: 3000, failed: 30, successShare: 0.99 });
  assert.deepEqual(a.minutes, { sampled: 4, withFailures: 1, cleanShare: 0.75 });
  assert.deepEqual(
    a.incidents.map((i) => [i.kind, i.ttrMs]),
    [
      ['alert', 30_000],
      ['failed-rollout', 10_000],
      ['rollback', 2000],
      ['crash-loop', 60_000],
      ['alert', null],
    ],
  );
  assert.match(a.incidents[1]!.title, /rollout #7 r1 → r2 failed: analysis failed/);
  assert.equal(a.mttrMs, (30_000 + 10_000 + 2000 + 60_000) / 4);
});

test('no data: shares and MTTR are null, not 100%', () => {
  const a = computeAvailability({
    service: 'web',
    sinceMs: T0,
    nowMs: T0 + 1000,
    minutes: [],
    alerts: [],
    rollouts: [],
    marks: [],
  });
  assert.equal(a.requests.successShare, null);
  assert.equal(a.minutes.cleanShare, null);
  assert.equal(a.mttrMs, null);
});

test('human durations', () => {
  assert.deepEqual([450, 1234, 125_000, 7_500_000, 90_000_000].map(humanDuration), [
    '450 ms',
    '1.2 s',
    '2 m 5 s',
    '2 h 5 m',
    '1 d 1 h',
  ]);
});
