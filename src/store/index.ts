export { Store } from './store.js';
export type { NewRevision } from './revisions.js';
export type * from './types.js';
export type { WarmInstance } from './warm.js';
export type { AuditRecord } from './audit.js';
export type { TokenRecord, TokenRole } from './tokens.js';
export type { PolicyRecord } from './policy.js';
export type { ReportMeta, ReportPhase, TrafficSample, UsageSample } from './reports.js';
export { isDiskFull, type WriteBacklog } from './write-queue.js';
