// The sliding window's ring grows as requests come: every sample is kept until RING_SIZE, then
// the newest RING_SIZE; a dump and a merge (proxy upgrade) carry them over in time order.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { Fail, RevisionCounters, RING_SIZE } from './stats.js';

function fill(c: RevisionCounters, n: number, t0: number): void {
  // latency = index, so the order of the samples is visible; one bad answer in ten
  for (let i = 0; i < n; i++) c.record(i % 10 === 0 ? 500 : 200, i, Fail.NONE, t0 + i);
}

test('the window sees every request while the ring grows, newest first', () => {
  for (const n of [1, 255, 256, 257, 1000, 4999]) {
    const c = new RevisionCounters();
    fill(c, n, 1_000);
    const w = c.window(1_000_000, 1_000 + n);
    assert.equal(w.windowRequests, n, `n=${n}`);
    assert.equal(w.windowErrors, Math.ceil(n / 10), `n=${n}`);
    assert.deepEqual(
      w.samples,
      Array.from({ length: n }, (_, k) => n - 1 - k),
      `n=${n}`,
    );
  }
});

test('past RING_SIZE the ring keeps the newest RING_SIZE samples and counts the rest per second', () => {
  const c = new RevisionCounters();
  const n = RING_SIZE + 1234;
  fill(c, n, 5_000);
  const w = c.window(1_000_000, 5_000 + n);
  assert.equal(w.samples.length, RING_SIZE);
  assert.equal(w.samples[0], n - 1);
  assert.equal(w.samples.at(-1), n - RING_SIZE);
  assert.equal(w.windowRequests, n);
});

test('a dump merged into a fresh counter gives the same window', () => {
  const a = new RevisionCounters();
  fill(a, 700, 2_000);
  const b = new RevisionCounters();
  b.merge(a.dump());
  assert.deepEqual(b.window(1_000_000, 2_700).samples, a.window(1_000_000, 2_700).samples);
  fill(b, 10, 2_700);
  assert.equal(b.window(1_000_000, 2_710).windowRequests, 710);
});
