import assert from 'node:assert/strict';
import { test } from 'node:test';
import { AnomalyDetector, Baseline, SERIES_OPTIONS } from './anomaly.js';

/** A deterministic wobble, so the tests do not depend on a random seed. */
const wobble = (i: number, size: number): number => Math.sin(i * 1.7) * size;

test('ewma: no score during warm-up, then z-scores against mean and deviation', () => {
  const b = new Baseline({ mode: 'ewma', alpha: 0.2, warmup: 5, minStd: 0, minStdShare: 0 });
  for (const x of [10, 12, 8, 11, 9]) {
    assert.equal(b.score(x), null);
    b.learn(x);
  }
  const s = b.score(20)!;
  assert.equal(s.mean, 10);
  assert.ok(Math.abs(s.std - Math.sqrt(2)) < 1e-9, `std ${s.std}`);
  assert.ok(Math.abs(s.z - 10 / Math.sqrt(2)) < 1e-9);
  // After warm-up the mean moves by alpha of each surprise.
  b.learn(15);
  assert.ok(Math.abs(b.score(11)!.mean - 11) < 1e-9);
});

test('the deviation floor: a flat series does not turn a tiny change into infinity', () => {
  const b = new Baseline(SERIES_OPTIONS.latency);
  for (let i = 0; i < 10; i++) b.learn(100);
  // floor: max(2 ms, 5 % of 100 ms) = 5 ms
  assert.equal(b.score(101)!.z, 0.2);
  assert.equal(b.score(130)!.z, 6);
});

test('error rate: a steady service stays quiet; a jump fires and keeps firing', () => {
  const d = new AnomalyDetector('errorRate', 3);
  let fired = 0;
  for (let i = 0; i < 200; i++)
    if (d.observe(1, 0.005 + Math.abs(wobble(i, 0.004)), null).anomalous) fired++;
  assert.equal(fired, 0, 'no false alarm on 200 normal windows');
  for (let i = 0; i < 20; i++) assert.equal(d.observe(1, 0.2, null).anomalous, true);
});

test('latency: a new revision inherits the old one’s baseline and is flagged at once', () => {
  const d = new AnomalyDetector('latency', 3);
  for (let i = 0; i < 30; i++) d.observe(1, 40 + wobble(i, 3), null);
  const first = d.observe(2, 120, 1);
  assert.equal(first.anomalous, true);
  assert.ok(first.score!.z > 3);
  // A new revision as fast as the old one is not.
  assert.equal(d.observe(3, 41, 1).anomalous, false);
});

test('latency: a slow drift is learned, not flagged', () => {
  const d = new AnomalyDetector('latency', 3);
  let fired = 0;
  for (let i = 0; i < 300; i++)
    if (d.observe(1, 40 + i * 0.1 + wobble(i, 1), null).anomalous) fired++;
  assert.equal(fired, 0);
});

test('memory: steady growth over the revision’s start is flagged (frozen baseline)', () => {
  const d = new AnomalyDetector('memory', 3);
  const MiB = 1024 * 1024;
  const at = (i: number): number => 100 * MiB + wobble(i, MiB);
  let firstFlag = -1;
  for (let i = 0; i < 10; i++) d.observe(1, at(i), null);
  // Then 1 MiB more per reading: a leak.
  for (let i = 10; i < 60; i++) {
    const v = d.observe(1, at(i) + (i - 10) * MiB, null);
    if (v.anomalous && firstFlag < 0) firstFlag = i - 10;
  }
  assert.ok(firstFlag > 0, 'the leak is flagged');
  // The floor is 5 MiB (5 % of 100 MiB): z > 3 needs about 15 MiB of growth.
  assert.ok(firstFlag >= 14 && firstFlag <= 17, `flagged after ${firstFlag} MiB of growth`);
  // A revision that holds steady is not.
  for (let i = 0; i < 60; i++) assert.equal(d.observe(2, at(i), null).anomalous, false);
});

test('forgotten revisions go', () => {
  const d = new AnomalyDetector('errorRate', 3);
  for (let i = 0; i < 12; i++) d.observe(1, 0.01, null);
  d.keepOnly([2]);
  // Revision 1 starts again: warming up, no score.
  assert.equal(d.observe(1, 0.5, null).score, null);
});
