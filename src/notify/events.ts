// Which journal entries are worth telling someone about, and in what words. The journal already
// records every transition before it is acted on, so this is the one place notifications hook
// in: no rollout code path knows about webhooks.
import type { NotifyEvent } from '../spec/index.js';
import type { JournalEntry, RolloutRecord } from '../store/index.js';

export interface Notification {
  event: NotifyEvent;
  service: string | null;
  rolloutId: number | null;
  /** The journal entry's time (ISO). */
  at: string;
  message: string;
  /** A few plain fields; never the spec (it holds env values). */
  details: Record<string, string | number | boolean | null>;
}

type Data = Record<string, unknown>;

/** The notification for a journal entry, or null when it is not one of the events. */
export function notificationOf(
  e: JournalEntry,
  rollout: (id: number) => RolloutRecord | null,
): Notification | null {
  const d = (e.data ?? {}) as Data;
  const svc = e.service ?? '-';
  const r = e.rolloutId === null ? null : rollout(e.rolloutId);
  const n = `#${e.rolloutId ?? '?'}`;
  const make = (event: NotifyEvent, message: string, details: Notification['details'] = {}) => ({
    event,
    service: e.service,
    rolloutId: e.rolloutId,
    at: e.at,
    message: `${svc}: ${message}`,
    details,
  });
  switch (e.event) {
    case 'rollout.started':
      return make(
        'rollout.started',
        `rollout ${n} started: r${num(d.from)} → r${num(d.to)} (${str(d.kind)})`,
        { kind: str(d.kind), from: numOrNull(d.from), to: numOrNull(d.to) },
      );
    case 'rollout.succeeded':
      // A rollback verb's rollout succeeding is a rollback done.
      if (r?.kind === 'rollback')
        return make('rollout.rolled-back', `rolled back to r${r.toRevision} (rollout ${n})`, {
          kind: 'rollback',
          from: r.fromRevision,
          to: r.toRevision,
        });
      return make('rollout.succeeded', `rollout ${n} succeeded: r${num(d.revision)} serves`, {
        revision: numOrNull(d.revision),
      });
    case 'rollout.failed':
      return make('rollout.failed', `rollout ${n} failed: ${str(d.reason)}`, {
        reason: str(d.reason),
        from: r?.fromRevision ?? null,
        to: r?.toRevision ?? null,
      });
    case 'rollback.finished':
      return make(
        'rollout.rolled-back',
        `rollout ${n} rolled back: traffic is on r${r?.fromRevision ?? '-'} again`,
        { from: r?.toRevision ?? null, to: r?.fromRevision ?? null },
      );
    case 'step.started':
      if (d.kind !== 'pause' || d.durationMs !== null) return null;
      return make(
        'rollout.paused',
        `rollout ${n} paused for approval: \`hotswap promote ${svc}\` goes on, \`hotswap abort ${svc}\` undoes it`,
      );
    case 'service.degraded':
      return make('instance.crash-looping', `instances crash-loop: ${str(d.reason)}`, {
        reason: str(d.reason),
      });
    case 'alert.firing':
    case 'alert.resolved':
      return make(e.event, str(d.message), {
        rule: str(d.rule),
        when: str(d.when),
        value: numOrNull(d.value),
      });
    default:
      return null;
  }
}

const str = (v: unknown): string =>
  typeof v === 'string' ? v : typeof v === 'number' || typeof v === 'boolean' ? String(v) : '-';
const num = (v: unknown): string => (typeof v === 'number' ? String(v) : '-');
const numOrNull = (v: unknown): number | null => (typeof v === 'number' ? v : null);
