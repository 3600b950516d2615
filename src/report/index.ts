// Impact reports: sampled around each rollout, built from the store, rendered as text or HTML.
export { buildReport } from './build.js';
export type {
  ImpactReport,
  InstanceUsageSummary,
  PhaseStats,
  Series,
  TimelineEntry,
  VerdictEntry,
} from './build.js';
export { DEFAULT_SAMPLING, RolloutSampler, samplingFromEnv, stopSamplers } from './sampler.js';
export type { ReportSampling } from './sampler.js';
export { renderHtml, uplotAssets } from './html.js';
export type { UplotAssets } from './html.js';
export { formatMs, formatReport, summaryLines } from './text.js';
export type { WatchSummary, WatchVerdict } from './watch.js';
