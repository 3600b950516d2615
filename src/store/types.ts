import type { ServiceSpec } from '../spec/types.js';

export type RevisionStatus = 'pending' | 'active' | 'retired' | 'failed';
export type RolloutStatus = 'running' | 'succeeded' | 'failed' | 'rolled-back';
export type RolloutKind = 'update' | 'rollback' | 'scale' | 'down' | 'reload';

export interface ServiceRecord {
  name: string;
  spec: ServiceSpec;
  stableRevision: number | null;
  createdAt: string;
  updatedAt: string;
}

export interface RevisionRecord {
  service: string;
  number: number;
  image: string;
  imageId: string;
  repoDigest: string | null;
  configHash: string;
  spec: ServiceSpec;
  status: RevisionStatus;
  createdAt: string;
}

export interface RolloutRecord {
  id: number;
  service: string;
  kind: RolloutKind;
  fromRevision: number | null;
  toRevision: number;
  strategy: string;
  status: RolloutStatus;
  reason: string | null;
  startedAt: string;
  finishedAt: string | null;
  /** Long connections (WebSocket, SSE, TCP) the proxy cut while old instances drained. */
  cutConnections: number;
}

export interface StepRecord {
  id: number;
  rolloutId: number;
  seq: number;
  kind: string;
  detail: unknown;
  status: 'running' | 'done' | 'failed';
  startedAt: string;
  finishedAt: string | null;
}

export interface JournalEntry {
  seq: number;
  at: string;
  service: string | null;
  rolloutId: number | null;
  event: string;
  data: unknown;
}
