// Is the canary's error rate greater than the baseline's? Requests are Bernoulli trials, so this
// compares two binomial proportions, one-sided because a canary that errs less is never a reason
// to roll back. The pooled z-test is the usual large-sample answer; when an expected cell count
// is small (few errors overall, the normal case for a healthy service) the normal approximation
// is poor, and Fisher's exact test is used instead.
import { HotswapError } from '../errors.js';
import { normalSf } from './normal.js';

export interface ProportionTestResult {
  baselineErrors: number;
  baselineTotal: number;
  canaryErrors: number;
  canaryTotal: number;
  baselineRate: number;
  canaryRate: number;
  /** Pooled z, reported whatever the method so readers can see the size of the difference. */
  z: number;
  /** One-sided: H1 = canary rate > baseline rate. */
  pValue: number;
  method: 'z' | 'fisher';
}

/** Fisher is used when any expected count of the 2×2 table is below this (Cochran's rule). */
export const MIN_EXPECTED_COUNT = 5;

/** Picks the pooled z-test or Fisher's exact test as described above. */
export function compareErrorRates(
  canaryErrors: number,
  canaryTotal: number,
  baselineErrors: number,
  baselineTotal: number,
): ProportionTestResult {
  checkCounts(canaryErrors, canaryTotal, 'canary');
  checkCounts(baselineErrors, baselineTotal, 'baseline');
  const z = pooledZ(canaryErrors, canaryTotal, baselineErrors, baselineTotal);
  const small = minExpectedCount(canaryErrors, canaryTotal, baselineErrors, baselineTotal);
  const method = small < MIN_EXPECTED_COUNT ? 'fisher' : 'z';
  const pValue =
    method === 'fisher'
      ? fisherExactGreater(
          canaryErrors,
          canaryTotal - canaryErrors,
          baselineErrors,
          baselineTotal - baselineErrors,
        )
      : normalSf(z);
  return {
    baselineErrors,
    baselineTotal,
    canaryErrors,
    canaryTotal,
    baselineRate: baselineErrors / baselineTotal,
    canaryRate: canaryErrors / canaryTotal,
    z,
    pValue,
    method,
  };
}

/** One-sided pooled two-proportion z-test (no continuity correction), H1: p1 > p2. */
export function twoProportionZTest(
  x1: number,
  n1: number,
  x2: number,
  n2: number,
): { z: number; pValue: number } {
  checkCounts(x1, n1, 'first');
  checkCounts(x2, n2, 'second');
  const z = pooledZ(x1, n1, x2, n2);
  return { z, pValue: normalSf(z) };
}

function pooledZ(x1: number, n1: number, x2: number, n2: number): number {
  const pooled = (x1 + x2) / (n1 + n2);
  const se = Math.sqrt(pooled * (1 - pooled) * (1 / n1 + 1 / n2));
  // No errors anywhere (or all errors): both rates are equal, there is nothing to test.
  if (se === 0) return 0;
  return (x1 / n1 - x2 / n2) / se;
}

function minExpectedCount(x1: number, n1: number, x2: number, n2: number): number {
  const total = n1 + n2;
  const bad = x1 + x2;
  const good = total - bad;
  return (Math.min(n1, n2) * Math.min(bad, good)) / total;
}

/**
 * Fisher's exact test, one-sided, for the table [[a, b], [c, d]] (rows: canary, baseline;
 * columns: errors, successes): P(A ≥ a) where A, given all margins, is hypergeometric. Larger A
 * means more of the errors fell on the canary.
 */
export function fisherExactGreater(a: number, b: number, c: number, d: number): number {
  for (const v of [a, b, c, d]) {
    if (!Number.isInteger(v) || v < 0) {
      throw new HotswapError('USAGE', `Fisher's exact test needs non-negative integer counts`);
    }
  }
  const row1 = a + b;
  const col1 = a + c;
  const total = a + b + c + d;
  const maxA = Math.min(row1, col1);
  // Start from P(A = a) in log space (the binomials overflow past a few hundred requests), then
  // walk up with the pmf ratio P(k+1)/P(k), which is cheap and stays accurate.
  let pmf = Math.exp(
    logChoose(col1, a) + logChoose(total - col1, row1 - a) - logChoose(total, row1),
  );
  let sum = 0;
  for (let k = a; k <= maxA; k++) {
    sum += pmf;
    pmf *= ((col1 - k) * (row1 - k)) / ((k + 1) * (total - col1 - row1 + k + 1));
  }
  return Math.min(1, sum);
}

/** ln C(n, k) as a sum of logs: exact enough and O(min(k, n−k)), fine for request counts. */
function logChoose(n: number, k: number): number {
  const j = Math.min(k, n - k);
  let s = 0;
  for (let i = 1; i <= j; i++) s += Math.log((n - j + i) / i);
  return s;
}

function checkCounts(errors: number, total: number, what: string): void {
  if (
    !Number.isInteger(errors) ||
    !Number.isInteger(total) ||
    total <= 0 ||
    errors < 0 ||
    errors > total
  ) {
    throw new HotswapError(
      'USAGE',
      `${what} counts must be integers with 0 <= errors <= requests and requests > 0 (got ${errors}/${total})`,
    );
  }
}
