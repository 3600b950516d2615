// The life of one alert rule, as Prometheus has it: a condition that holds makes it pending; once
// it has held for `for`, it fires; the first evaluation where it does not hold resolves it. A
// rule with no data (no traffic in its window) does not hold. Pure; the evaluator stores what it
// says.

export type RuleStatus = 'ok' | 'pending' | 'firing';
export type Transition = 'fire' | 'resolve' | null;

export class RuleState {
  status: RuleStatus = 'ok';
  /** Since when the condition holds (pending or firing). */
  sinceMs = 0;
  /** The stored alert while firing. */
  alertId: number | null = null;

  /** Restores a firing alert a previous daemon stored. */
  static firing(alertId: number, sinceMs: number): RuleState {
    const s = new RuleState();
    s.status = 'firing';
    s.alertId = alertId;
    s.sinceMs = sinceMs;
    return s;
  }

  step(holds: boolean, nowMs: number, forMs: number): Transition {
    if (!holds) {
      const was = this.status;
      this.status = 'ok';
      return was === 'firing' ? 'resolve' : null;
    }
    if (this.status === 'ok') {
      this.status = 'pending';
      this.sinceMs = nowMs;
    }
    if (this.status === 'pending' && nowMs - this.sinceMs >= forMs) {
      this.status = 'firing';
      return 'fire';
    }
    return null;
  }
}
