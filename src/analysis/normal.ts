// Standard normal tail probabilities for the large-sample approximations (Mann-Whitney U, two
// proportions). Node has no erf, and pulling in a stats library for one function is not worth a
// dependency, so this uses the Chebyshev fit of erfc from Numerical Recipes (2nd ed., §6.2,
// `erfcc`): fractional error below 1.2e-7 everywhere, including far tails, which matters because
// canary p-values of 1e-20 must still compare correctly with alpha.

// Coefficients of the polynomial in t, lowest degree first.
const ERFC_COEFFS = [
  -1.26551223, 1.00002368, 0.37409196, 0.09678418, -0.18628806, 0.27886807, -1.13520398, 1.48851587,
  -0.82215223, 0.17087277,
];

/** Complementary error function, erfc(x) = 1 - erf(x). */
export function erfc(x: number): number {
  const z = Math.abs(x);
  const t = 1 / (1 + 0.5 * z);
  const poly = ERFC_COEFFS.reduceRight((acc, c) => acc * t + c, 0);
  const ans = t * Math.exp(-z * z + poly);
  return x >= 0 ? ans : 2 - ans;
}

/** P(Z <= z) for a standard normal Z. */
export function normalCdf(z: number): number {
  return 0.5 * erfc(-z / Math.SQRT2);
}

/** P(Z >= z), computed directly so that small upper tails keep their precision. */
export function normalSf(z: number): number {
  return 0.5 * erfc(z / Math.SQRT2);
}
