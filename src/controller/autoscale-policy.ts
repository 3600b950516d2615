// The autoscaler's decision, a pure function of what it observed (issue 16). As in Kubernetes'
// HPA: each metric asks for ceil(instances × value / target), the largest ask wins, clamped to
// min..max. Hysteresis in three places: a 10% band around the target where nothing changes, a
// cooldown after each change, and a scale-down only when every ask over the last cooldown
// window was that low (a short dip does not remove instances that a burst will want back).
import type { AutoscaleSpec } from '../spec/types.js';

/** |value / target − 1| within this: the metric is on target. */
export const TOLERANCE = 0.1;

const NO_FIGURES = 'no figures yet';

export interface Observation {
  at: number;
  /** Instances serving now. */
  replicas: number;
  rpsPerInstance: number | null;
  cpuPercent: number | null;
}

export type HoldKind = 'no-figures' | 'on-target' | 'cooldown' | 'stabilizing';

export interface Decision {
  action: 'scale' | 'hold';
  /** Why a hold holds; the loop journals a hold when this (or `wanted`) changes. */
  kind?: HoldKind;
  from: number;
  to: number;
  /** The count the metrics ask for now, before cooldown and stabilization. */
  wanted: number;
  reason: string;
}

export class AutoscalePolicy {
  private asks: Array<{ at: number; n: number }> = [];
  private lastChangeAt = -Infinity;

  constructor(private readonly spec: AutoscaleSpec) {}

  /** Record that a change was made (the loop calls it once the scale finished). */
  changed(at: number): void {
    this.lastChangeAt = at;
  }

  decide(o: Observation): Decision {
    const { min, max, cooldownMs } = this.spec;
    const hold = (kind: HoldKind, wanted: number, reason: string): Decision => ({
      action: 'hold',
      kind,
      from: o.replicas,
      to: o.replicas,
      wanted,
      reason,
    });
    if (o.replicas < min || o.replicas > max) {
      const to = Math.min(max, Math.max(min, o.replicas));
      return {
        action: 'scale',
        from: o.replicas,
        to,
        wanted: to,
        reason: `outside ${min}..${max}`,
      };
    }
    const { wanted, why } = this.ask(o);
    this.asks.push({ at: o.at, n: wanted });
    this.asks = this.asks.filter((a) => o.at - a.at <= cooldownMs);
    if (wanted === o.replicas)
      return hold(why === NO_FIGURES ? 'no-figures' : 'on-target', wanted, why);
    const sinceChange = o.at - this.lastChangeAt;
    if (sinceChange < cooldownMs)
      return hold(
        'cooldown',
        wanted,
        `${why}; cooling down (${Math.ceil((cooldownMs - sinceChange) / 1000)} s left)`,
      );
    if (wanted > o.replicas)
      return { action: 'scale', from: o.replicas, to: wanted, wanted, reason: why };
    // Down: the highest ask of the whole window, so the window must be low throughout.
    const windowFull = this.asks.length > 0 && o.at - this.asks[0]!.at >= cooldownMs * 0.9;
    const highest = Math.max(...this.asks.map((a) => a.n));
    if (!windowFull || highest >= o.replicas)
      return hold(
        'stabilizing',
        wanted,
        `${why}; waiting for it to hold ${cooldownMs / 1000} s before scaling down`,
      );
    return { action: 'scale', from: o.replicas, to: highest, wanted, reason: why };
  }

  private ask(o: Observation): { wanted: number; why: string } {
    const { min, max, targetRps, targetCpu } = this.spec;
    const parts: string[] = [];
    let wanted = 0;
    const consider = (name: string, value: number | null, target: number | null, unit: string) => {
      if (value === null || target === null) return;
      const ratio = value / target;
      const n = Math.abs(ratio - 1) <= TOLERANCE ? o.replicas : Math.ceil(o.replicas * ratio);
      parts.push(
        `${name} ${value.toFixed(1)}${unit} per instance (target ${target}${unit}) → ${n}`,
      );
      wanted = Math.max(wanted, n);
    };
    consider('rps', o.rpsPerInstance, targetRps, '');
    consider('cpu', o.cpuPercent, targetCpu, '%');
    if (parts.length === 0) return { wanted: o.replicas, why: NO_FIGURES };
    return { wanted: Math.min(max, Math.max(min, wanted)), why: parts.join(', ') };
  }
}
