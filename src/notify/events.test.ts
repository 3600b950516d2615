import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { JournalEntry, RolloutRecord } from '../store/index.js';
import { notificationOf } from './events.js';

const entry = (event: string, data: unknown, rolloutId: number | null = 4): JournalEntry => ({
  seq: 1,
  at: '2026-01-01T00:00:00.000Z',
  service: 'web',
  rolloutId,
  event,
  data,
});

const rollouts: Record<number, Partial<RolloutRecord>> = {
  4: { id: 4, kind: 'update', fromRevision: 1, toRevision: 2 },
  5: { id: 5, kind: 'rollback', fromRevision: 2, toRevision: 1 },
};
const lookup = (id: number) => (rollouts[id] as RolloutRecord | undefined) ?? null;

test('journal entries become the notification events, in words', () => {
  const cases: Array<[JournalEntry, string | null, RegExp | null]> = [
    [
      entry('rollout.started', { from: 1, to: 2, kind: 'update' }),
      'rollout.started',
      /^web: rollout #4 started: r1 → r2 \(update\)$/,
    ],
    [entry('rollout.succeeded', { revision: 2 }), 'rollout.succeeded', /r2 serves/],
    [entry('rollout.succeeded', { revision: 1 }, 5), 'rollout.rolled-back', /rolled back to r1/],
    [
      entry('rollout.failed', { reason: 'probe deadline' }),
      'rollout.failed',
      /failed: probe deadline/,
    ],
    [entry('rollback.finished', {}), 'rollout.rolled-back', /traffic is on r1 again/],
    [
      entry('step.started', { kind: 'pause', durationMs: null }),
      'rollout.paused',
      /hotswap promote web/,
    ],
    [entry('step.started', { kind: 'pause', durationMs: 5000 }), null, null],
    [entry('step.started', { kind: 'setWeight', weight: 10 }), null, null],
    [
      entry('service.degraded', { reason: 'exited 3 times' }, null),
      'instance.crash-looping',
      /crash-loop: exited 3 times/,
    ],
    [
      entry(
        'alert.firing',
        { rule: 'e', when: 'errorRate > 2%', value: 0.1, message: 'alert e firing: x' },
        null,
      ),
      'alert.firing',
      /^web: alert e firing: x$/,
    ],
    [entry('weights.set', {}), null, null],
  ];
  for (const [e, event, message] of cases) {
    const n = notificationOf(e, lookup);
    assert.equal(n?.event ?? null, event, `${e.event} ${JSON.stringify(e.data)}`);
    if (message) assert.match(n!.message, message);
  }
});
