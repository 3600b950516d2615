// maxSurge and maxUnavailable are instance counts or percentages of replicas, as in Kubernetes.

/** Whole percentages 0%..100%; fractions of a percent would only add rounding surprises. */
export const PERCENT_PATTERN = '^(100|[1-9]?[0-9])%$';

export type Quantity = number | string;

/**
 * Absolute count for a quantity. Percentages round the way Kubernetes rounds them: surge up (so a
 * small service can still start one extra instance), unavailable down (so it never drops more
 * capacity than asked).
 */
export function resolveQuantity(
  value: Quantity,
  replicas: number,
  rounding: 'up' | 'down',
): number {
  if (typeof value === 'number') return value;
  const percent = Number.parseInt(value, 10);
  const exact = (replicas * percent) / 100;
  return rounding === 'up' ? Math.ceil(exact) : Math.floor(exact);
}
