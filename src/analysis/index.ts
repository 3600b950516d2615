// Canary analysis: pure statistics and the judge that turns proxy numbers into a verdict.
export { judge, MIN_ERRORS_VS_CLEAN_BASELINE } from './judge.js';
export type {
  AnalysisConfig,
  CheckResult,
  ErrorRateMetrics,
  LatencyMetrics,
  RevisionSample,
  Verdict,
} from './judge.js';
export { aggregate } from './aggregate.js';
export type { AggregateVerdict } from './aggregate.js';
export { mannWhitneyU, EXACT_MAX_N } from './mann-whitney.js';
export type { Alternative, MannWhitneyResult } from './mann-whitney.js';
export {
  compareErrorRates,
  fisherExactGreater,
  twoProportionZTest,
  MIN_EXPECTED_COUNT,
} from './proportions.js';
export type { ProportionTestResult } from './proportions.js';
export { percentile, percentiles, percentileSorted } from './percentile.js';
export { normalCdf, normalSf } from './normal.js';
export {
  evaluateCheck,
  fillPlaceholders,
  queryInstant,
  runPrometheusCheck,
  withPrometheusChecks,
} from './prometheus.js';
export type {
  CheckVerdict,
  FetchLike,
  NamedCheck,
  PrometheusCheck,
  QueryPlaceholders,
  QueryResult,
} from './prometheus.js';
