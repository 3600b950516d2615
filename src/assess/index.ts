export { LoadGenerator, type LoadOptions, type Sample } from './loadgen.js';
export { summarize, percentile, type LoadSummary } from './summary.js';
export {
  judgeRun,
  loopbackUrl,
  parseLoadDuration,
  parseRate,
  parseShare,
  MIN_BASELINE_REQUESTS,
  type GateResult,
  type GateThresholds,
} from './gate.js';
