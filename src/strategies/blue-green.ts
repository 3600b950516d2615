import type { BlueGreenStrategy } from '../spec/types.js';
import type { Step } from './types.js';

/**
 * Blue-green: the new group starts at full size beside the old one, is reachable on the preview
 * listener, optionally judged there, then waits for promotion (by hand or after a delay), and
 * takes all traffic at once.
 */
export function blueGreenPlan(strategy: BlueGreenStrategy, replicas: number): Step[] {
  const steps: Step[] = [{ kind: 'scale', replicas }];
  if (strategy.previewListen !== null) steps.push({ kind: 'preview' });
  if (strategy.prePromotionAnalysis !== null) {
    steps.push({
      kind: 'analysis',
      run: strategy.prePromotionAnalysis,
      source: strategy.previewListen !== null ? 'preview' : 'service',
    });
  }
  steps.push({ kind: 'pause', durationMs: strategy.autoPromotionMs });
  steps.push({ kind: 'promote' }, { kind: 'done' });
  return steps;
}
