// The watch after promotion in the impact report: its window, the baseline it judged against,
// its verdicts with their numbers, and how it ended (passed, or breached and rolled back).
import type { JournalEntry } from '../store/index.js';

export interface WatchVerdict {
  tMs: number;
  result: string;
  reasons: string[];
  metrics: unknown;
}

export interface WatchSummary {
  status: 'watching' | 'passed' | 'inconclusive' | 'breached' | 'rolled back' | 'cancelled';
  revision: number;
  previous: number;
  windowMs: number;
  intervalMs: number;
  /** ms since the rollout started. */
  startedTMs: number;
  endsAt: string;
  baseline: { revisions: number[]; windowMs: number; requests: number; errors: number } | null;
  verdicts: WatchVerdict[];
  breach: { reason: string; tMs: number; afterWatchStartMs: number } | null;
  rollback: {
    rolloutId: number | null;
    outcome: string;
    instant: boolean;
    flipMs: number | null;
    tMs: number;
  } | null;
  /** Why it was cancelled (a newer rollout, the service removed). */
  note: string | null;
}

type Data = Record<string, unknown>;

export function watchOf(journal: JournalEntry[], rel: (at: string) => number): WatchSummary | null {
  const started = journal.find((e) => e.event === 'watch.started');
  if (!started) return null;
  const start = started.data as Data;
  const base = journal.find((e) => e.event === 'watch.baseline')?.data as Data | undefined;
  const failed = journal.find((e) => e.event === 'watch.failed');
  const rolled = journal.find((e) => e.event === 'watch.rolledback');
  const last = [...journal]
    .reverse()
    .find((e) => /^watch\.(passed|inconclusive|cancelled)$/.test(e.event));
  const status: WatchSummary['status'] = rolled
    ? 'rolled back'
    : failed
      ? 'breached'
      : last
        ? (last.event.slice('watch.'.length) as WatchSummary['status'])
        : 'watching';
  const rb = rolled?.data as Data | undefined;
  return {
    status,
    revision: start['revision'] as number,
    previous: start['previous'] as number,
    windowMs: start['windowMs'] as number,
    intervalMs: start['intervalMs'] as number,
    startedTMs: rel(started.at),
    endsAt: start['endsAt'] as string,
    baseline: base
      ? {
          revisions: base['revisions'] as number[],
          windowMs: base['windowMs'] as number,
          requests: base['requests'] as number,
          errors: base['errors'] as number,
        }
      : null,
    verdicts: journal
      .filter((e) => e.event === 'watch.verdict')
      .map((e) => {
        const v = e.data as { result?: string; reasons?: string[]; metrics?: unknown };
        return {
          tMs: rel(e.at),
          result: v.result ?? '?',
          reasons: v.reasons ?? [],
          metrics: v.metrics ?? null,
        };
      }),
    breach: failed
      ? {
          reason: ((failed.data as Data)['reason'] as string | undefined) ?? '',
          tMs: rel(failed.at),
          afterWatchStartMs: Date.parse(failed.at) - Date.parse(started.at),
        }
      : null,
    rollback:
      rolled && rb
        ? {
            rolloutId: (rb['rolloutId'] as number | null) ?? null,
            outcome: String(rb['outcome']),
            instant: rb['instant'] === true,
            flipMs: (rb['flipMs'] as number | null) ?? null,
            tMs: rel(rolled.at),
          }
        : null,
    note:
      last?.event === 'watch.cancelled'
        ? (((last.data as Data)['reason'] as string | undefined) ?? null)
        : null,
  };
}

/** One line for the report's summary. */
export function watchLine(w: WatchSummary, formatMs: (ms: number) => string): string {
  const base = w.baseline
    ? ` against r${w.baseline.revisions.join(', r')}'s baseline (${w.baseline.requests} requests, ${w.baseline.errors} errors over ${formatMs(w.baseline.windowMs)})`
    : '';
  const head = `watch after promotion: r${w.revision} for ${formatMs(w.windowMs)}${base}, ${w.verdicts.length} judgement(s)`;
  if (w.breach) {
    const rb = w.rollback
      ? `; rolled back to r${w.previous} by rollout #${w.rollback.rolloutId ?? '-'} (${w.rollback.instant ? `instant flip, ${formatMs(w.rollback.flipMs ?? 0)}` : 'a rollback rollout'}, ${w.rollback.outcome})`
      : '; rollback pending';
    return `${head}: breached ${formatMs(w.breach.afterWatchStartMs)} after promotion (${w.breach.reason})${rb}`;
  }
  return `${head}: ${w.status}${w.note ? ` (${w.note})` : ''}`;
}
