// When a failed delivery is tried again: 1 s, 2 s, 4 s, … doubling up to a cap. No jitter: one
// daemon sends, so there is no herd to spread; the schedule stays predictable in tests.

export interface BackoffPolicy {
  baseMs: number;
  maxMs: number;
}

export const DEFAULT_BACKOFF: BackoffPolicy = { baseMs: 1000, maxMs: 300_000 };

/** Wait after the `failedAttempts`-th failed attempt (1-based). */
export function backoffMs(failedAttempts: number, policy: BackoffPolicy = DEFAULT_BACKOFF): number {
  const exp = Math.min(Math.max(0, failedAttempts - 1), 30);
  return Math.min(policy.baseMs * 2 ** exp, policy.maxMs);
}

/** When to try again after a failed attempt, or null when the attempts are used up. */
export function nextAttemptAt(
  failedAttempts: number,
  maxAttempts: number,
  nowMs: number,
  policy: BackoffPolicy = DEFAULT_BACKOFF,
): number | null {
  return failedAttempts >= maxAttempts ? null : nowMs + backoffMs(failedAttempts, policy);
}
