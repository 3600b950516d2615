import assert from 'node:assert/strict';
import { test } from 'node:test';
import { HotswapError } from '../errors.js';
import { compareErrorRates, fisherExactGreater, twoProportionZTest } from './proportions.js';

const close = (actual: number, expected: number, tol: number): void =>
  assert.ok(Math.abs(actual - expected) <= tol, `${actual} vs ${expected}`);

test('pooled two-proportion z, computed by hand', () => {
  // 30/200 vs 20/200: pooled p = 50/400 = 0.125, SE = sqrt(0.125·0.875·(1/200 + 1/200))
  // = sqrt(0.00109375) = 0.0330719, z = (0.15 − 0.10)/SE = 1.511858, one-sided
  // p = 1 − Φ(1.511858) = 0.065285 (SciPy 1.17.1 norm.sf: 0.06528500905786819). Same as R's
  // prop.test(c(30, 20), c(200, 200), alternative = "greater", correct = FALSE).
  const r = twoProportionZTest(30, 200, 20, 200);
  close(r.z, 0.05 / Math.sqrt(0.125 * 0.875 * 0.01), 1e-12);
  close(r.z, 1.5118578920369083, 1e-9);
  close(r.pValue, 0.06528500905786819, 1e-7);
});

test("Fisher exact: Fisher's lady tasting tea, [[3,1],[1,3]] one-sided p = 17/70 = 0.2429", () => {
  // P(3) + P(4) = (16 + 1)/70 with C(8,4) = 70 arrangements (Fisher 1935).
  close(fisherExactGreater(3, 1, 1, 3), 17 / 70, 1e-12);
  close(fisherExactGreater(4, 0, 0, 4), 1 / 70, 1e-12);
  close(fisherExactGreater(0, 4, 4, 0), 1, 1e-12);
});

test('Fisher exact: Wikipedia dieting example, one-sided p = 0.001380', () => {
  // Wikipedia "Fisher's exact test": men 1 dieting / 11 not, women 9 / 3. The one-tailed p for
  // "women diet more" is 0.001379728 (SciPy 1.17.1 fisher_exact(..., 'less') on [[1,9],[11,3]]
  // gives 0.0013797280926100418). As "greater" with women in the first row: [[9,3],[1,11]].
  close(fisherExactGreater(9, 3, 1, 11), 0.0013797280926100418, 1e-12);
});

test('Fisher exact stays finite with thousands of requests', () => {
  // SciPy 1.17.1 fisher_exact([[26,474],[0,4500]], 'greater') = 5.5088466976872775e-27 and
  // fisher_exact([[10,190],[0,200]], 'greater') = 0.0008702588772449779.
  const p = fisherExactGreater(26, 474, 0, 4500);
  assert.ok(Math.abs(p - 5.5088466976872775e-27) / 5.5088466976872775e-27 < 1e-9, String(p));
  close(fisherExactGreater(10, 190, 0, 200), 0.0008702588772449779, 1e-13);
});

test('compareErrorRates uses Fisher when an expected count is below 5, z otherwise', () => {
  const few = compareErrorRates(26, 500, 0, 4500); // expected canary errors 26·500/5000 = 2.6
  assert.equal(few.method, 'fisher');
  assert.equal(few.canaryRate, 0.052);
  assert.equal(few.baselineRate, 0);
  const many = compareErrorRates(30, 200, 20, 200); // smallest expected count 25
  assert.equal(many.method, 'z');
  close(many.pValue, 0.06528500905786819, 1e-7);
  const none = compareErrorRates(0, 500, 0, 4500);
  assert.equal(none.z, 0);
  assert.equal(none.pValue, 1);
});

test('invalid counts are refused', () => {
  assert.throws(() => compareErrorRates(6, 5, 0, 10), HotswapError);
  assert.throws(() => compareErrorRates(1, 0, 0, 10), HotswapError);
  assert.throws(() => fisherExactGreater(1.5, 1, 1, 1), HotswapError);
});
