import assert from 'node:assert/strict';
import { test } from 'node:test';
import { HotswapError } from '../errors.js';
import { EXACT_MAX_N, mannWhitneyU, uNullCounts } from './mann-whitney.js';

const close = (actual: number, expected: number, tol = 1e-9): void =>
  assert.ok(Math.abs(actual - expected) <= tol, `${actual} vs ${expected}`);

/** Samples without ties where x beats y in exactly u of the n1·n2 pairs (U1 = u). */
function samplesWithU(n1: number, n2: number, u: number): { x: number[]; y: number[] } {
  const y = Array.from({ length: n2 }, (_, j) => j + 1);
  const x: number[] = [];
  let rest = u;
  for (let i = 0; i < n1; i++) {
    const beats = Math.min(n2, rest);
    rest -= beats;
    x.push(beats + 0.5 + i * 0.001); // between y values, and distinct from the other x values
  }
  return { x, y };
}

test('Wikipedia tortoise-and-hare example: U_T = 11, U_H = 25', () => {
  // Finishing order T H H H H H T T T T T H (first finishes fastest); encode as finishing times.
  const order = 'THHHHHTTTTTH';
  const t = [...order].flatMap((c, i) => (c === 'T' ? [i + 1] : []));
  const h = [...order].flatMap((c, i) => (c === 'H' ? [i + 1] : []));
  // U_T counts pairs where the tortoise finished first: hare time > tortoise time, U1 of (h, t).
  const r = mannWhitneyU(h, t);
  assert.equal(r.u1, 11);
  assert.equal(r.u2, 25);
  assert.equal(r.u, 11);
  assert.equal(r.method, 'exact');
});

test("R's wilcox.test documentation example (Hollander & Wolfe 1973, p. 69): W = 35, p = 0.1272", () => {
  // ?wilcox.test: x = permeability at term, y = at 12-26 weeks; wilcox.test(x, y, alternative =
  // "g") prints W = 35, p-value = 0.1272. The exact p is 382/3003 (SciPy 1.17.1
  // mannwhitneyu(method='exact') gives 0.1272061272061272, and 382/3003 by hand from the table).
  const x = [0.8, 0.83, 1.89, 1.04, 1.45, 1.38, 1.91, 1.64, 0.73, 1.46];
  const y = [1.15, 0.88, 0.9, 0.74, 1.21];
  const g = mannWhitneyU(x, y, 'greater');
  assert.equal(g.u1, 35);
  assert.equal(g.u, 35);
  assert.equal(g.method, 'exact');
  close(g.pValue, 382 / 3003, 1e-12);
  close(g.effect, 35 / 50);
  const two = mannWhitneyU(x, y, 'two-sided');
  assert.equal(two.u, 15);
  close(two.pValue, 764 / 3003, 1e-12);
});

test('null distribution of U for n1 = n2 = 3 is the textbook one', () => {
  // The 20 orderings of 3 x and 3 y give U = 0..9 with frequencies 1,1,2,3,3,3,3,2,1,1
  // (partitions of k into at most 3 parts of size at most 3).
  assert.deepEqual(uNullCounts(3, 3), [1, 1, 2, 3, 3, 3, 3, 2, 1, 1]);
  const counts = uNullCounts(20, 20);
  assert.equal(
    counts.reduce((s, c) => s + c, 0),
    137846528820, // C(40, 20)
  );
});

test('smallest samples: complete separation of 3 vs 3 gives p = 1/20 one-sided, 1/10 two-sided', () => {
  const r = mannWhitneyU([4, 5, 6], [1, 2, 3], 'greater');
  assert.equal(r.u1, 9);
  close(r.pValue, 1 / 20);
  close(r.effect, 1);
  close(mannWhitneyU([4, 5, 6], [1, 2, 3]).pValue, 1 / 10);
  close(mannWhitneyU([1, 2, 3], [4, 5, 6], 'greater').pValue, 1);
});

// Critical values of U (reject H0 when U <= critical value), alpha = 0.05, from the standard
// Mann-Whitney table (e.g. Zar, Biostatistical Analysis, Table B.11; the same values are in most
// statistics textbooks). Each entry: [n1, n2, two-tailed critical U, one-tailed critical U].
const CRITICAL_U: [number, number, number | null, number][] = [
  [3, 3, null, 0],
  [3, 5, 0, 1],
  [3, 8, 2, 3],
  [4, 4, 0, 1],
  [4, 6, 2, 3],
  [4, 8, 4, 5],
  [5, 5, 2, 4],
  [5, 7, 5, 6],
  [5, 8, 6, 8],
  [6, 6, 5, 7],
  [6, 8, 8, 10],
  [7, 7, 8, 11],
  [7, 8, 10, 13],
  [8, 8, 13, 15],
];

test('exact p-values agree with published critical values of U (n = 3..8)', () => {
  for (const [n1, n2, twoTailed, oneTailed] of CRITICAL_U) {
    const p2 = (u: number): number => {
      const { x, y } = samplesWithU(n1, n2, u);
      return mannWhitneyU(x, y, 'two-sided').pValue;
    };
    // Lower tail U1 <= u for x is the 'greater' alternative seen from y.
    const p1 = (u: number): number => {
      const { x, y } = samplesWithU(n1, n2, u);
      return mannWhitneyU(y, x, 'greater').pValue;
    };
    const label = `n1=${n1} n2=${n2}`;
    if (twoTailed === null) assert.ok(p2(0) > 0.05, `${label}: no two-tailed critical value`);
    else {
      assert.ok(p2(twoTailed) <= 0.05, `${label}: two-tailed p(${twoTailed}) <= 0.05`);
      assert.ok(p2(twoTailed + 1) > 0.05, `${label}: two-tailed p(${twoTailed + 1}) > 0.05`);
    }
    assert.ok(p1(oneTailed) <= 0.05 + 1e-15, `${label}: one-tailed p(${oneTailed}) <= 0.05`);
    assert.ok(p1(oneTailed + 1) > 0.05, `${label}: one-tailed p(${oneTailed + 1}) > 0.05`);
  }
});

test('ties: mid-ranks and tie-corrected normal approximation, computed by hand', () => {
  // a (n1 = 8) and b (n2 = 9), N = 17. Sorted with mid-ranks:
  //   1:a→1 | 2:a,a,b→3 | 3:a,a,a,b→6.5 | 4:a,b,b→10 | 5:a,b,b→13 | 6:b,b→15.5 | 7:b→17
  // R_a = 1 + 2·3 + 3·6.5 + 10 + 13 = 49.5, U_a = 49.5 − 8·9/2 = 13.5, U_b = 72 − 13.5 = 58.5.
  // Tie groups 3,4,3,3,2: Σ(t³−t) = 24+60+24+24+6 = 138.
  // σ² = 72/12 · (18 − 138/(17·16)) = 6 · 17.4926470588 = 104.955882353, σ = 10.2448.
  // b greater: z = (58.5 − 36 − 0.5)/σ = 2.147427, p = 1 − Φ(z) = 0.015879.
  // SciPy 1.17.1 mannwhitneyu(b, a, alternative='greater', method='asymptotic',
  // use_continuity=True) = 0.015879478574031856, two-sided 0.03175895714806371 (the same as R's
  // wilcox.test(b, a, exact = FALSE, correct = TRUE)).
  const a = [1, 2, 2, 3, 3, 3, 4, 5];
  const b = [2, 3, 4, 4, 5, 5, 6, 6, 7];
  const r = mannWhitneyU(b, a, 'greater');
  assert.equal(r.method, 'normal');
  assert.equal(r.u1, 58.5);
  assert.equal(r.u2, 13.5);
  close(r.z, 22 / Math.sqrt(6 * (18 - 138 / 272)), 1e-12);
  close(r.pValue, 0.015879478574031856, 1e-8);
  close(mannWhitneyU(b, a).pValue, 0.03175895714806371, 1e-8);
  close(mannWhitneyU(a, b).pValue, 0.03175895714806371, 1e-8);
  close(mannWhitneyU(a, b, 'greater').pValue, 0.9876172774448116, 1e-8);
});

test(`exact up to ${EXACT_MAX_N} per side, normal approximation beyond`, () => {
  // x = 1,4,…,58 and y = 0.5,2.5,…,38.5 (20 each, no ties): SciPy 1.17.1 mannwhitneyu exact
  // gives U = 267, p = 0.035888376735695005 ('greater'), 0.07177675347139001 (two-sided); its
  // asymptotic method gives 0.03602271523367195, which is why exactness stops mattering here.
  const x = Array.from({ length: 20 }, (_, i) => i * 3 + 1);
  const y = Array.from({ length: 20 }, (_, i) => i * 2 + 0.5);
  const r = mannWhitneyU(x, y, 'greater');
  assert.equal(r.method, 'exact');
  assert.equal(r.u1, 267);
  close(r.pValue, 0.035888376735695005, 1e-12);
  close(mannWhitneyU(x, y).pValue, 0.07177675347139001, 1e-12);
  const big = mannWhitneyU([...x, 100], y, 'greater');
  assert.equal(big.method, 'normal');
});

test('large samples with heavy ties match SciPy asymptotic (R exact = FALSE, correct = TRUE)', () => {
  // SciPy 1.17.1: mannwhitneyu(x, y, method='asymptotic', use_continuity=True) with these
  // generated samples: U = 1279047.5, p = 2.4255909632046885e-07 ('greater'),
  // 4.851181926409377e-07 (two-sided).
  const x = Array.from({ length: 500 }, (_, i) => ((i * 7) % 43) + 2);
  const y = Array.from({ length: 4500 }, (_, i) => (i * 11) % 41);
  const r = mannWhitneyU(x, y, 'greater');
  assert.equal(r.u1, 1279047.5);
  assert.equal(r.method, 'normal');
  close(r.pValue, 2.4255909632046885e-7, 1e-12);
  close(mannWhitneyU(x, y).pValue, 4.851181926409377e-7, 1e-12);
});

test('identical values carry no evidence: z = 0', () => {
  // σ = 0 here (one tie group of all N values); z is taken as 0 rather than 0/0.
  const r = mannWhitneyU([5, 5, 5], [5, 5, 5, 5], 'greater');
  assert.equal(r.z, 0);
  close(r.pValue, 0.5, 1e-7);
  assert.equal(mannWhitneyU([5, 5, 5], [5, 5, 5, 5]).pValue, 1);
  assert.equal(r.effect, 0.5);
});

test('empty or non-finite samples are refused', () => {
  assert.throws(() => mannWhitneyU([], [1]), HotswapError);
  assert.throws(() => mannWhitneyU([1], [Number.NaN]), HotswapError);
});
