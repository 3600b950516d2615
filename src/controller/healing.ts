// Self-healing bookkeeping per service: consecutive failures (instances that exited, replacements
// that did not get healthy) set a backoff before the next replacement, and three in a row mark
// the service degraded until it has served at full strength for a while.

export const DEGRADED_AFTER = 3;
const MAX_BACKOFF_MS = 30_000;
/** A service is healthy again after this long at full strength without a failure. */
export const CALM_MS = 30_000;

interface Streak {
  count: number;
  nextAttemptAt: number;
  lastFailureAt: number;
  degraded: string | null;
}

export class Healing {
  private readonly streaks = new Map<string, Streak>();

  degraded(service: string): string | null {
    return this.streaks.get(service)?.degraded ?? null;
  }

  /** Milliseconds until a replacement may start (0: now). */
  waitMs(service: string, now = Date.now()): number {
    return Math.max(0, (this.streaks.get(service)?.nextAttemptAt ?? 0) - now);
  }

  /** Records a failure; returns the degraded reason when this failure made the service degraded. */
  failed(service: string, why: string, now = Date.now()): string | null {
    const s = this.streaks.get(service) ?? {
      count: 0,
      nextAttemptAt: 0,
      lastFailureAt: 0,
      degraded: null,
    };
    this.streaks.set(service, s);
    s.count++;
    s.lastFailureAt = now;
    // The first failure is replaced at once; then 1 s, 2 s, 4 s… up to 30 s.
    s.nextAttemptAt = s.count <= 1 ? 0 : now + Math.min(1000 * 2 ** (s.count - 2), MAX_BACKOFF_MS);
    if (s.count < DEGRADED_AFTER || s.degraded !== null) return null;
    s.degraded = `${why} (${s.count} failures in a row)`;
    return s.degraded;
  }

  /**
   * The service was found converged. Forgets its failures once they are CALM_MS old; returns
   * true when that ends a degraded state.
   */
  calm(service: string, now = Date.now()): boolean {
    const s = this.streaks.get(service);
    if (!s || now - s.lastFailureAt < CALM_MS) return false;
    this.streaks.delete(service);
    return s.degraded !== null;
  }
}
