import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { RollingStrategy } from '../spec/types.js';
import { canaryReplicas, plan, type GroupCounts, type Step } from './index.js';

const rolling = (maxSurge: number, maxUnavailable: number): RollingStrategy => ({
  type: 'rolling',
  maxSurge,
  maxUnavailable,
  analysis: null,
});

function fmt(steps: Step[]): string[] {
  return steps.map((s) => {
    if (s.kind === 'start') return `+${s.count}`;
    if (s.kind === 'stop') return `-${s.count}${s.group}`;
    return s.kind;
  });
}

/** Replays a plan and returns the min ready and max total seen between steps. */
function envelope(start: GroupCounts, steps: Step[]): { minReady: number; maxTotal: number } {
  let c = { ...start };
  let minReady = c.old + c.next;
  let maxTotal = minReady;
  for (const s of steps) {
    if (s.kind === 'start') c = { ...c, next: c.next + s.count };
    else if (s.kind === 'stop') c = { ...c, [s.group]: c[s.group] - s.count };
    minReady = Math.min(minReady, c.old + c.next);
    maxTotal = Math.max(maxTotal, c.old + c.next);
  }
  return { minReady, maxTotal };
}

test('rolling surge 1 / unavailable 0 swaps one at a time, never below desired', () => {
  const start = { desired: 3, old: 3, next: 0 };
  const steps = plan(rolling(1, 0), start);
  assert.deepEqual(fmt(steps), ['+1', '-1old', '+1', '-1old', '+1', '-1old', 'done']);
  assert.deepEqual(envelope(start, steps), { minReady: 3, maxTotal: 4 });
});

test('rolling surge 0 / unavailable 1 makes room first', () => {
  const start = { desired: 3, old: 3, next: 0 };
  const steps = plan(rolling(0, 1), start);
  assert.deepEqual(fmt(steps), ['-1old', '+1', '-1old', '+1', '-1old', '+1', 'done']);
  assert.deepEqual(envelope(start, steps), { minReady: 2, maxTotal: 3 });
});

test('rolling with wide budgets moves in batches', () => {
  const start = { desired: 4, old: 4, next: 0 };
  const steps = plan(rolling(2, 1), start);
  assert.deepEqual(fmt(steps), ['-1old', '+3', '-3old', '+1', 'done']);
  const env = envelope(start, steps);
  assert.ok(env.minReady >= 3 && env.maxTotal <= 6, JSON.stringify(env));
});

test('first deploy starts everything within the surge budget', () => {
  assert.deepEqual(fmt(plan(rolling(1, 0), { desired: 3, old: 0, next: 0 })), ['+3', 'done']);
});

test('scaling the same revision up and down', () => {
  assert.deepEqual(fmt(plan(rolling(1, 0), { desired: 5, old: 0, next: 3 })), ['+2', 'done']);
  assert.deepEqual(fmt(plan(rolling(1, 0), { desired: 1, old: 0, next: 3 })), ['-2next', 'done']);
});

test('recreate stops all old before starting new', () => {
  assert.deepEqual(fmt(plan({ type: 'recreate' }, { desired: 3, old: 3, next: 0 })), [
    '-3old',
    '+3',
    'done',
  ]);
});

test('rolling respects its envelope for many shapes', () => {
  for (let desired = 1; desired <= 6; desired++) {
    for (let surge = 0; surge <= 3; surge++) {
      for (let unavailable = 0; unavailable <= 3; unavailable++) {
        if (surge === 0 && unavailable === 0) continue;
        const start = { desired, old: desired, next: 0 };
        const steps = plan(rolling(surge, unavailable), start);
        const env = envelope(start, steps);
        const label = `d=${desired} s=${surge} u=${unavailable}`;
        assert.ok(env.maxTotal <= desired + surge, label);
        assert.ok(env.minReady >= Math.max(0, desired - unavailable), label);
        assert.equal(steps.at(-1)?.kind, 'done', label);
      }
    }
  }
});

test('rolling with analysis judges after every batch while old instances serve', () => {
  const strategy = { ...rolling(1, 0), analysis: { intervalMs: 1000, count: 2 } };
  const steps = plan(strategy, { desired: 2, old: 2, next: 0 }).map((s) => s.kind);
  assert.deepEqual(steps, ['start', 'analysis', 'stop', 'start', 'analysis', 'stop', 'done']);
});

test('canary plan scales with the weight, then promotes at full size', () => {
  const strategy = {
    type: 'canary' as const,
    canaryReplicas: 'follow' as const,
    steps: [
      { setWeight: 10 },
      { pause: { durationMs: 1000 } },
      { analysis: { intervalMs: 500, count: 2 } },
      { setWeight: 50 },
      { pause: { durationMs: null } },
    ],
  };
  const steps = plan(strategy, { desired: 4, old: 4, next: 0 });
  assert.deepEqual(
    steps.map((s) =>
      s.kind === 'scale'
        ? `scale ${s.replicas}`
        : s.kind === 'setWeight'
          ? `weight ${s.weight}`
          : s.kind,
    ),
    [
      'scale 1',
      'weight 10',
      'pause',
      'analysis',
      'scale 2',
      'weight 50',
      'pause',
      'scale 4',
      'promote',
      'done',
    ],
  );
  assert.equal(canaryReplicas({ ...strategy, canaryReplicas: 2 }, 4, 10), 2);
  assert.equal(canaryReplicas(strategy, 4, 100), 4);
});

test('blue-green plan: full size, preview, analysis on the preview, pause, promote', () => {
  const steps = plan(
    {
      type: 'blue-green',
      previewListen: '127.0.0.1:9',
      autoPromotionMs: 5000,
      prePromotionAnalysis: { intervalMs: 100, count: 1 },
      scaleDownDelayMs: 0,
    },
    { desired: 3, old: 3, next: 0 },
  );
  assert.deepEqual(
    steps.map((s) => s.kind),
    ['scale', 'preview', 'analysis', 'pause', 'promote', 'done'],
  );
  assert.deepEqual(steps[2], {
    kind: 'analysis',
    run: { intervalMs: 100, count: 1 },
    source: 'preview',
  });
  assert.deepEqual(steps[3], { kind: 'pause', durationMs: 5000 });
});
