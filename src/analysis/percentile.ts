// Percentiles for the verdict's p50/p90/p99. Linear interpolation between order statistics,
// Hyndman & Fan (1996) type 7: the default of R's quantile(), NumPy's percentile() and Excel's
// PERCENTILE.INC, so the numbers in a verdict can be reproduced with any of them. For sorted
// x[0..n-1] and p in [0, 100]: h = (n−1)·p/100, result = x[⌊h⌋] + (h − ⌊h⌋)·(x[⌊h⌋+1] − x[⌊h⌋]).
// (The proxy's own histogram percentiles in assess/ use nearest rank; that is a different job.)
import { HotswapError } from '../errors.js';

/** The p-th percentile (0..100) of values already sorted ascending. */
export function percentileSorted(sorted: ArrayLike<number>, p: number): number {
  if (sorted.length === 0) throw new HotswapError('USAGE', 'percentile of an empty sample');
  if (!(p >= 0 && p <= 100))
    throw new HotswapError('USAGE', `percentile must be in [0, 100], got ${p}`);
  const h = ((sorted.length - 1) * p) / 100;
  const lo = Math.floor(h);
  const below = sorted[lo]!;
  const above = sorted[Math.min(lo + 1, sorted.length - 1)]!;
  return below + (h - lo) * (above - below);
}

/** The p-th percentile (0..100) of unsorted values; sorts a copy. */
export function percentile(values: readonly number[], p: number): number {
  return percentileSorted(sortedCopy(values), p);
}

/** Several percentiles with one sort, keyed by p (e.g. { 50: …, 99: … }). */
export function percentiles(
  values: readonly number[],
  ps: readonly number[],
): Record<number, number> {
  const sorted = sortedCopy(values);
  const out: Record<number, number> = {};
  for (const p of ps) out[p] = percentileSorted(sorted, p);
  return out;
}

function sortedCopy(values: readonly number[]): number[] {
  return [...values].sort((a, b) => a - b);
}
