import type { StrategySpec } from '../spec/types.js';
import { recreateStep } from './recreate.js';
import { rollingStep } from './rolling.js';
import type { GroupCounts, Step } from './types.js';

export type { GroupCounts, Step } from './types.js';
export { rollingStep } from './rolling.js';
export { recreateStep } from './recreate.js';

export function nextStep(strategy: StrategySpec, counts: GroupCounts): Step {
  switch (strategy.type) {
    case 'rolling':
      return rollingStep(strategy, counts);
    case 'recreate':
      return recreateStep(counts);
  }
}

/** Runs a strategy against a perfect world (every step succeeds) — used by tests and `--dry-run`. */
export function plan(strategy: StrategySpec, start: GroupCounts, maxSteps = 1000): Step[] {
  const steps: Step[] = [];
  let c = { ...start };
  for (let i = 0; i < maxSteps; i++) {
    const step = nextStep(strategy, c);
    steps.push(step);
    if (step.kind === 'done') return steps;
    if (step.kind === 'start') c = { ...c, next: c.next + step.count };
    else c = { ...c, [step.group]: c[step.group] - step.count };
  }
  throw new Error('strategy did not converge');
}
