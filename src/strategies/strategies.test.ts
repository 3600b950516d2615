import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { RollingStrategy } from '../spec/types.js';
import { plan, type GroupCounts, type Step } from './index.js';

const rolling = (maxSurge: number, maxUnavailable: number): RollingStrategy => ({
  type: 'rolling',
  maxSurge,
  maxUnavailable,
});

function fmt(steps: Step[]): string[] {
  return steps.map((s) =>
    s.kind === 'done' ? 'done' : s.kind === 'start' ? `+${s.count}` : `-${s.count}${s.group}`,
  );
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
