// Public API of spec/: hotswap.yaml → validated, normalized Spec, plus the revision hash and diff.
export type {
  HealthSpec,
  HttpHealth,
  RecreateStrategy,
  RollingStrategy,
  ServiceSpec,
  Spec,
  SpecIssue,
  StrategySpec,
  TcpHealth,
  VolumeSpec,
  NetworkSpec,
  ResolvedNetwork,
  AttachedNetworks,
} from './types.js';
export { DEFAULT_NETWORK, networksOf, peersOf } from './networks.js';
export { loadSpec, parseSpec } from './parse.js';
export { formatIssue } from './issues.js';
export { formatDuration, parseDuration } from './duration.js';
export { specJsonSchema } from './json-schema.js';
export { canonicalJson, configHash, reloadFilesHash } from './hash.js';
export { diffServices } from './diff.js';
export { MAX_RELOAD_FILE_BYTES } from './reload.js';
export {
  parseAlertExpression,
  formatCondition,
  formatMetricValue,
  type AlertCondition,
  type AnomalyMetric,
  type ThresholdMetric,
} from './alert-expression.js';
export {
  NOTIFY_EVENTS,
  notifyTargetSchema,
  normalizeNotify,
  daemonNotifySchema,
  durationMs,
  type AlertRule,
  type NotifyEvent,
  type NotifyTarget,
} from './observe.js';
