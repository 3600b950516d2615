// Alerts (issue 15): rules evaluated on the proxy's and Docker's numbers, anomaly baselines,
// per-minute counts and availability.
export {
  AlertEvaluator,
  ALERT_INTERVAL_MS,
  type AlertEvaluatorDeps,
  type RuleView,
} from './evaluator.js';
export { AnomalyDetector, Baseline, SERIES_OPTIONS } from './anomaly.js';
export { RuleState, type RuleStatus } from './rule-state.js';
export {
  computeAvailability,
  humanDuration,
  INCIDENT_EVENTS,
  type Availability,
  type Incident,
} from './availability.js';
