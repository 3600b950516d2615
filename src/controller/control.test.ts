import assert from 'node:assert/strict';
import { test } from 'node:test';
import { RolloutControl } from './control.js';

test('a pause step ends when its time is up, or at once when promoted', async () => {
  const c = new RolloutControl();
  const t0 = Date.now();
  assert.equal(await c.pauseStep(50), 'elapsed');
  assert.ok(Date.now() - t0 >= 45);
  const waiting = c.pauseStep(null);
  setTimeout(() => c.promote(false), 20);
  assert.equal(await waiting, 'promoted');
});

test('a promote sent before the pause step ends that step when it comes', async () => {
  const c = new RolloutControl();
  c.promote(true);
  assert.equal(c.fullPromotion, true);
  assert.equal(await c.pauseStep(null), 'promoted');
});

test('abort ends a pause and every later checkpoint with the reason', async () => {
  const c = new RolloutControl();
  const waiting = c.pauseStep(null);
  c.abort('aborted by user');
  await assert.rejects(waiting, /aborted by user/);
  await assert.rejects(c.checkpoint(), (e: Error & { code?: string }) => e.code === 'ABORTED');
});

test('pause holds checkpoints until resume', async () => {
  const c = new RolloutControl();
  c.pause();
  let passed = false;
  const p = c.checkpoint().then(() => (passed = true));
  await new Promise((r) => setTimeout(r, 50));
  assert.equal(passed, false);
  c.resume();
  await p;
  assert.equal(passed, true);
});
