// Availability of a service over a span (issue 15): the share of requests that succeeded and the
// share of minutes without a failed request (from the per-minute counts the alert loop records),
// and the incidents — alerts, failed rollouts, rollbacks, crash loops — each with its time to
// recover, and their mean (MTTR). Pure: the API route reads the store and calls this.
import type { AlertRecord, MinuteCounts, RolloutRecord } from '../store/index.js';

export type IncidentKind = 'alert' | 'failed-rollout' | 'rollback' | 'crash-loop';

export interface Incident {
  kind: IncidentKind;
  title: string;
  startedAt: string;
  /** null: not recovered yet. */
  recoveredAt: string | null;
  ttrMs: number | null;
}

export interface Availability {
  service: string;
  since: string;
  until: string;
  requests: { total: number; failed: number; successShare: number | null };
  /** Minutes the daemon sampled (idle ones included); minutes it was not running are unknown. */
  minutes: { sampled: number; withFailures: number; cleanShare: number | null };
  incidents: Incident[];
  /** Mean time to recover over the recovered incidents; null when there were none. */
  mttrMs: number | null;
}

export interface JournalMark {
  at: string;
  event: string;
  rolloutId: number | null;
}

export interface AvailabilityInput {
  service: string;
  sinceMs: number;
  nowMs: number;
  minutes: MinuteCounts[];
  alerts: AlertRecord[];
  rollouts: RolloutRecord[];
  /** rollback.started / rollback.finished / service.degraded / service.recovered entries. */
  marks: JournalMark[];
}

/** The journal events the incidents are read from. */
export const INCIDENT_EVENTS = [
  'rollback.started',
  'rollback.finished',
  'service.degraded',
  'service.recovered',
] as const;

export function computeAvailability(input: AvailabilityInput): Availability {
  const minutes = input.minutes.filter((m) => m.minuteMs >= input.sinceMs);
  const total = minutes.reduce((n, m) => n + m.requests, 0);
  const failed = minutes.reduce((n, m) => n + Math.min(m.failed, m.requests), 0);
  const withFailures = minutes.filter((m) => m.failed > 0).length;
  const incidents = [
    ...alertIncidents(input),
    ...rolloutIncidents(input),
    ...crashLoops(input),
  ].sort((a, b) => a.startedAt.localeCompare(b.startedAt));
  const recovered = incidents.filter((i) => i.ttrMs !== null);
  return {
    service: input.service,
    since: new Date(input.sinceMs).toISOString(),
    until: new Date(input.nowMs).toISOString(),
    requests: { total, failed, successShare: total === 0 ? null : (total - failed) / total },
    minutes: {
      sampled: minutes.length,
      withFailures,
      cleanShare: minutes.length === 0 ? null : (minutes.length - withFailures) / minutes.length,
    },
    incidents,
    mttrMs: recovered.length
      ? Math.round(recovered.reduce((n, i) => n + i.ttrMs!, 0) / recovered.length)
      : null,
  };
}

function incident(
  kind: IncidentKind,
  title: string,
  startedAt: string,
  recoveredAt: string | null,
): Incident {
  return {
    kind,
    title,
    startedAt,
    recoveredAt,
    ttrMs:
      recoveredAt === null ? null : Math.max(0, Date.parse(recoveredAt) - Date.parse(startedAt)),
  };
}

/** An alert: from firing to resolved. */
function alertIncidents(input: AvailabilityInput): Incident[] {
  return input.alerts
    .filter((a) => a.resolvedAt === null || Date.parse(a.resolvedAt) >= input.sinceMs)
    .map((a) => incident('alert', `alert ${a.rule}: ${a.expr}`, a.firedAt, a.resolvedAt));
}

/**
 * A failed rollout: from the moment hotswap saw the failure and started putting traffic back
 * (rollback.started) to the stable revision serving alone again (rollback.finished). A rollback
 * asked for by hand: from its start to its end.
 */
function rolloutIncidents(input: AvailabilityInput): Incident[] {
  const out: Incident[] = [];
  for (const r of input.rollouts) {
    if (Date.parse(r.startedAt) < input.sinceMs) continue;
    if (r.status === 'failed') {
      const marks = input.marks.filter((m) => m.rolloutId === r.id);
      const start = marks.find((m) => m.event === 'rollback.started')?.at ?? r.startedAt;
      const end = marks.find((m) => m.event === 'rollback.finished')?.at ?? r.finishedAt;
      out.push(
        incident(
          'failed-rollout',
          `rollout #${r.id} r${r.fromRevision ?? '-'} → r${r.toRevision} failed: ${r.reason ?? ''}`,
          start,
          end,
        ),
      );
    } else if (r.kind === 'rollback' && r.status !== 'running') {
      out.push(
        incident(
          'rollback',
          `rollback #${r.id} r${r.fromRevision ?? '-'} → r${r.toRevision}${r.status === 'succeeded' ? '' : ` (${r.status})`}`,
          r.startedAt,
          r.status === 'succeeded' ? r.finishedAt : null,
        ),
      );
    }
  }
  return out;
}

/** Self-healing could not keep the replicas: from degraded to serving at full strength again. */
function crashLoops(input: AvailabilityInput): Incident[] {
  const out: Incident[] = [];
  let open: string | null = null;
  for (const m of input.marks) {
    if (m.event === 'service.degraded' && open === null) open = m.at;
    if (m.event === 'service.recovered' && open !== null) {
      out.push(incident('crash-loop', 'instances crash-looped', open, m.at));
      open = null;
    }
  }
  if (open !== null) out.push(incident('crash-loop', 'instances crash-loop', open, null));
  return out;
}

/** "1.2 s", "3 m 4 s", "2 h 5 m": for people. */
export function humanDuration(ms: number): string {
  if (ms < 1000) return `${Math.round(ms)} ms`;
  if (ms < 60_000) return `${(ms / 1000).toFixed(1)} s`;
  const s = Math.round(ms / 1000);
  if (s < 3600) return `${Math.floor(s / 60)} m ${s % 60} s`;
  const m = Math.round(s / 60);
  if (m < 1440) return `${Math.floor(m / 60)} h ${m % 60} m`;
  return `${Math.floor(m / 1440)} d ${Math.floor((m % 1440) / 60)} h`;
}
