import type { StrategySpec } from '../spec/types.js';
import { blueGreenPlan } from './blue-green.js';
import { canaryPlan } from './canary.js';
import { recreateStep } from './recreate.js';
import { rollingStep } from './rolling.js';
import type { GroupCounts, Step } from './types.js';

export type { GroupCounts, Step } from './types.js';
export { rollingStep } from './rolling.js';
export { recreateStep } from './recreate.js';
export { canaryPlan, canaryReplicas } from './canary.js';
export { blueGreenPlan } from './blue-green.js';

/**
 * The next step of a strategy. Count-driven strategies (rolling, recreate) look at the instance
 * counts; planned ones (canary, blue-green) walk their fixed plan by index.
 */
export function nextStep(strategy: StrategySpec, counts: GroupCounts, index: number): Step {
  switch (strategy.type) {
    case 'rolling':
      return rollingStep(strategy, counts);
    case 'recreate':
      return recreateStep(counts);
    case 'canary':
      return canaryPlan(strategy, counts.desired)[index] ?? { kind: 'done' };
    case 'blue-green':
      return blueGreenPlan(strategy, counts.desired)[index] ?? { kind: 'done' };
  }
}

/** True for strategies that set traffic by percentage rather than by instance counts. */
export function usesPercentWeights(strategy: StrategySpec): boolean {
  return strategy.type === 'canary' || strategy.type === 'blue-green';
}

/** Runs a strategy against a perfect world (every step succeeds) — used by tests. */
export function plan(strategy: StrategySpec, start: GroupCounts, maxSteps = 1000): Step[] {
  const steps: Step[] = [];
  let c = { ...start };
  for (let i = 0; i < maxSteps; i++) {
    const step = nextStep(strategy, c, i);
    steps.push(step);
    if (step.kind === 'done') return steps;
    if (step.kind === 'start') c = { ...c, next: c.next + step.count, unjudged: true };
    else if (step.kind === 'stop') c = { ...c, [step.group]: c[step.group] - step.count };
    else if (step.kind === 'scale') c = { ...c, next: Math.max(c.next, step.replicas) };
    else if (step.kind === 'analysis') c = { ...c, unjudged: false };
  }
  throw new Error('strategy did not converge');
}
