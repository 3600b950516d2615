import assert from 'node:assert/strict';
import { test } from 'node:test';
import { HotswapError } from '../errors.js';
import { percentile, percentiles } from './percentile.js';

// Expected values are those of R's default quantile() (type 7) and NumPy's percentile(), both
// the same definition; each is also worked out by hand with h = (n − 1)·p/100.
test('linear interpolation between order statistics (Hyndman & Fan type 7)', () => {
  const oneToTen = [10, 3, 7, 1, 5, 9, 2, 8, 4, 6];
  assert.equal(percentile(oneToTen, 50), 5.5); // h = 4.5 → 5 + 0.5·1
  assert.ok(Math.abs(percentile(oneToTen, 90) - 9.1) < 1e-12); // h = 8.1 → 9 + 0.1·1
  assert.ok(Math.abs(percentile(oneToTen, 99) - 9.91) < 1e-12); // h = 8.91
  assert.equal(percentile([1, 2, 3, 4], 50), 2.5);
  assert.equal(percentile([1, 2, 3, 4], 25), 1.75); // quantile(1:4, .25) = 1.75
  assert.equal(percentile([7], 99), 7);
  assert.equal(percentile([1, 100], 100), 100);
  assert.equal(percentile([1, 100], 0), 1);
});

test('percentiles sorts once and keys by p', () => {
  const xs = Array.from({ length: 101 }, (_, i) => 100 - i);
  assert.deepEqual(percentiles(xs, [50, 90, 99]), { 50: 50, 90: 90, 99: 99 });
});

test('empty sample and out-of-range p are refused', () => {
  assert.throws(() => percentile([], 50), HotswapError);
  assert.throws(() => percentile([1], 101), HotswapError);
});
