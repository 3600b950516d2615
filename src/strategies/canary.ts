import type { CanaryStrategy } from '../spec/types.js';
import type { Step } from './types.js';

/**
 * A canary is a fixed plan: each setWeight first makes sure enough canary instances are ready,
 * then moves the weight; pauses and analyses run in order; promotion scales to full size last.
 */
export function canaryPlan(strategy: CanaryStrategy, replicas: number): Step[] {
  const steps: Step[] = [];
  for (const s of strategy.steps) {
    if ('setWeight' in s) {
      steps.push({ kind: 'scale', replicas: canaryReplicas(strategy, replicas, s.setWeight) });
      steps.push({ kind: 'setWeight', weight: s.setWeight });
    } else if ('pause' in s) {
      steps.push({ kind: 'pause', durationMs: s.pause.durationMs });
    } else {
      steps.push({ kind: 'analysis', run: s.analysis, source: 'service' });
    }
  }
  steps.push({ kind: 'scale', replicas }, { kind: 'promote' }, { kind: 'done' });
  return steps;
}

/** Instances the canary needs at a weight: proportional (at least one), or the fixed count. */
export function canaryReplicas(strategy: CanaryStrategy, replicas: number, weight: number): number {
  if (weight === 0) return 0;
  if (weight === 100) return replicas;
  if (strategy.canaryReplicas === 'follow')
    return Math.max(1, Math.ceil((replicas * weight) / 100));
  return Math.min(strategy.canaryReplicas, replicas);
}
