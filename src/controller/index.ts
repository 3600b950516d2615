export {
  Controller,
  type DeployResult,
  type RolloutAction,
  type ServiceStatus,
} from './controller.js';
export type { ProgressEvent, Reporter } from './progress.js';
export { silentReporter } from './progress.js';
export { planSpec, type ServicePlan } from './plan.js';
export type { LogLine } from './log-follow.js';
export type { RuntimeEvent } from './reconciler.js';
export { DEFAULT_APPLY_PARALLEL, MAX_APPLY_PARALLEL } from './parallel-apply.js';
