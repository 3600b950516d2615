import assert from 'node:assert/strict';
import { test } from 'node:test';
import { RuleState } from './rule-state.js';

test('pending, then firing once the condition held for `for`, then resolved', () => {
  const s = new RuleState();
  assert.equal(s.step(true, 0, 60_000), null);
  assert.equal(s.status, 'pending');
  assert.equal(s.step(true, 59_999, 60_000), null);
  assert.equal(s.step(true, 60_000, 60_000), 'fire');
  assert.equal(s.status, 'firing');
  assert.equal(s.step(true, 90_000, 60_000), null, 'fires once');
  assert.equal(s.step(false, 100_000, 60_000), 'resolve');
  assert.equal(s.status, 'ok');
  assert.equal(s.step(false, 110_000, 60_000), null);
});

test('a condition that stops holding while pending never fires; for: 0 fires at once', () => {
  const s = new RuleState();
  s.step(true, 0, 60_000);
  assert.equal(s.step(false, 30_000, 60_000), null);
  assert.equal(s.step(true, 40_000, 60_000), null, 'pending starts again');
  assert.equal(s.sinceMs, 40_000);
  assert.equal(new RuleState().step(true, 5, 0), 'fire');
});

test('a firing alert restored after a restart resolves when the condition is gone', () => {
  const s = RuleState.firing(7, 1000);
  assert.equal(s.step(true, 2000, 60_000), null);
  assert.equal(s.step(false, 3000, 60_000), 'resolve');
});
