export { LoadGenerator, type LoadOptions, type Sample } from './loadgen.js';
export { summarize, percentile, type LoadSummary } from './summary.js';
