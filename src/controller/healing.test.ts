import assert from 'node:assert/strict';
import { test } from 'node:test';
import { CALM_MS, Healing } from './healing.js';

test('failures back off, three in a row degrade, calm time restores', () => {
  const h = new Healing();
  const t = 1_000_000;
  assert.equal(h.failed('web', 'exited', t), null);
  assert.equal(h.waitMs('web', t), 0, 'the first failure is replaced at once');
  assert.equal(h.failed('web', 'exited', t), null);
  assert.equal(h.waitMs('web', t), 1000);
  assert.match(h.failed('web', 'replacement failed', t) ?? '', /3 failures in a row/);
  assert.equal(h.waitMs('web', t), 2000);
  assert.equal(h.failed('web', 'exited', t), null, 'degraded is reported once');
  assert.ok(h.degraded('web'));
  assert.equal(h.calm('web', t + 1000), false, 'not calm yet');
  assert.equal(h.calm('web', t + CALM_MS), true);
  assert.equal(h.degraded('web'), null);
  for (let i = 0; i < 20; i++) h.failed('api', 'exited', t);
  assert.equal(h.waitMs('api', t), 30_000, 'backoff is capped');
});
