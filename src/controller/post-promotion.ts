// The watch after promotion (strategy.postPromotion): for `window` after a rollout succeeded, the
// new revision keeps being judged (by the same judge as a canary) against the baseline its
// rollout recorded at its start, the stable revision's own traffic then. A breach rolls back to
// that revision: a flip of the proxy's weights when its instances are still warm (keepPrevious,
// or blue-green's scaleDownDelay, covers the window), else a normal rollback rollout.
//
// Level-triggered: where a watch stands lives in the journal of the watched rollout
// (watch.baseline, watch.started with its end time, watch.verdict, then watch.passed,
// watch.inconclusive, watch.failed → watch.rolledback, or watch.cancelled). Every housekeeping
// pass scans each service's latest rollout and (re)starts a watch that is not over, so a daemon
// restarted mid-window resumes it with the time left, and a breach whose rollback a crash
// interrupted is rolled back again.
import { aggregate, type RevisionSample, type Verdict } from '../analysis/index.js';
import { toHotswapError } from '../errors.js';
import type { Router } from '../proxy/types.js';
import type { PostPromotionSpec } from '../spec/types.js';
import type { JournalEntry, Store } from '../store/index.js';
import { mergeSamples, runAnalysis } from './analysis-run.js';

/** The baseline covers the window before the rollout, at most this long. */
export const BASELINE_MAX_MS = 10 * 60_000;
/** Latencies kept in the journal for the baseline (evenly by rank), so its entry stays small. */
const BASELINE_MAX_SAMPLES = 2000;
/** After an error (the proxy away, the service busy), the watch is tried again this much later. */
const RETRY_MS = 5000;
/** Abort reason of a daemon that stops: the watch is left for the next daemon to resume. */
const STOPPING = 'the daemon is stopping';

export interface WatchBaseline extends RevisionSample {
  revisions: number[];
  windowMs: number;
}

export interface WatchStart {
  revision: number;
  previous: number;
  windowMs: number;
  intervalMs: number;
  endsAt: string;
  /** The previous revision stays warm (keepPrevious, scaleDownDelay) for the whole window. */
  warmCovers?: boolean;
}

/** The stable revision's traffic over the window before the rollout, as the judge reads it. */
export async function captureBaseline(
  router: Router,
  service: string,
  revisions: number[],
  watch: PostPromotionSpec,
): Promise<WatchBaseline> {
  const windowMs = Math.min(watch.windowMs, BASELINE_MAX_MS);
  const stats = await router.stats(service, { windowMs });
  const sample = mergeSamples(revisions.map((r) => stats.revisions[String(r)]));
  return { revisions, windowMs, ...sample, latenciesMs: thin(sample.latenciesMs) };
}

function thin(xs: number[]): number[] {
  if (xs.length <= BASELINE_MAX_SAMPLES) return xs;
  const sorted = [...xs].sort((a, b) => a - b);
  return Array.from(
    { length: BASELINE_MAX_SAMPLES },
    (_, i) => sorted[Math.floor((i * sorted.length) / BASELINE_MAX_SAMPLES)]!,
  );
}

const ENDED = new Set([
  'watch.passed',
  'watch.inconclusive',
  'watch.rolledback',
  'watch.cancelled',
]);

export interface WatchState {
  baseline: WatchBaseline;
  start: WatchStart;
  /** The reason of a breach already recorded (its rollback may not have happened). */
  breach: string | null;
  ended: boolean;
}

/** Where the watch of a rollout stands, from its journal; null when it has none. */
export function watchState(entries: JournalEntry[]): WatchState | null {
  const baseline = entries.find((e) => e.event === 'watch.baseline')?.data as
    WatchBaseline | undefined;
  const start = entries.find((e) => e.event === 'watch.started')?.data as WatchStart | undefined;
  if (!baseline || !start) return null;
  const failed = entries.find((e) => e.event === 'watch.failed')?.data as
    { reason?: string } | undefined;
  return {
    baseline,
    start,
    breach: failed ? (failed.reason ?? 'breach') : null,
    ended: entries.some((e) => ENDED.has(e.event)),
  };
}

export interface RollbackResult {
  rolloutId: number | null;
  outcome: string;
  reason: string | null;
  flipMs?: number;
}

export interface WatchDeps {
  router: Router;
  store: Store;
  /** Roll the service back to a revision (instant when it is warm), under the service lock. */
  rollback: (service: string, to: number) => Promise<RollbackResult>;
}

interface Running {
  service: string;
  ctl: AbortController;
  /** Once rolling back, a newer rollout (the rollback itself) does not cancel the watch. */
  rollingBack: boolean;
}

type Note = (event: string, message: string, data: unknown) => void;

export class PostPromotionWatches {
  private readonly running = new Map<number, Running>();
  /** Rollouts whose watch is over (or that have none): not read again. */
  private readonly settled = new Set<number>();
  private readonly retryAt = new Map<number, number>();
  private stopped = false;

  constructor(private readonly deps: WatchDeps) {}

  /** One pass: start the watches that should run, cancel those a newer rollout superseded. */
  scan(): void {
    if (this.stopped) return;
    const { store } = this.deps;
    for (const [id, w] of this.running) {
      if (w.rollingBack) continue;
      const latest = store.rollouts.list(w.service, 1)[0];
      if (!store.services.get(w.service)) w.ctl.abort('the service was removed');
      else if (latest && latest.id !== id) w.ctl.abort(`superseded by rollout #${latest.id}`);
    }
    for (const svc of store.services.list()) {
      const latest = store.rollouts.list(svc.name, 1)[0];
      if (!latest || latest.status !== 'succeeded') continue;
      if (this.settled.has(latest.id) || this.running.has(latest.id)) continue;
      if ((this.retryAt.get(latest.id) ?? 0) > Date.now()) continue;
      const state = watchState(store.journal.list({ rolloutId: latest.id, limit: 1_000_000 }));
      if (!state || state.ended) {
        this.settled.add(latest.id);
        continue;
      }
      void this.run(svc.name, latest.id, state);
    }
  }

  /** Watches in progress stop without an outcome: the next daemon resumes them. */
  stop(): void {
    this.stopped = true;
    for (const w of this.running.values()) w.ctl.abort(STOPPING);
  }

  /** Rollout ids being watched now (tests, status). */
  active(): number[] {
    return [...this.running.keys()];
  }

  private async run(service: string, rolloutId: number, st: WatchState): Promise<void> {
    const w: Running = { service, ctl: new AbortController(), rollingBack: false };
    this.running.set(rolloutId, w);
    const note: Note = (event, message, data) =>
      void this.deps.store.journal.append({ service, rolloutId, event, data, message });
    try {
      const breach = st.breach ?? (await this.judge(service, st, w.ctl.signal, note));
      if (breach !== null) {
        w.rollingBack = true;
        await this.rollBack(service, rolloutId, breach, st.start, note);
      }
      this.settled.add(rolloutId);
    } catch (err) {
      const why = w.ctl.signal.aborted ? String(w.ctl.signal.reason) : null;
      if (why === STOPPING) return;
      if (why !== null) {
        note('watch.cancelled', `watch of r${st.start.revision} ended: ${why}`, { reason: why });
        this.settled.add(rolloutId);
        return;
      }
      const message = toHotswapError(err).message;
      note('watch.error', `watch of r${st.start.revision}: ${message}; trying again`, { message });
      this.retryAt.set(rolloutId, Date.now() + RETRY_MS);
    } finally {
      this.running.delete(rolloutId);
    }
  }

  /** Judges until the window ends: null when it passed (or could not tell), else the breach. */
  private async judge(
    service: string,
    st: WatchState,
    signal: AbortSignal,
    note: Note,
  ): Promise<string | null> {
    const { start, baseline } = st;
    const svc = this.deps.store.services.get(service);
    const count = Math.ceil((Date.parse(start.endsAt) - Date.now()) / start.intervalMs);
    if (!svc) {
      note('watch.cancelled', `watch of r${start.revision} ended: the service was removed`, {});
      return null;
    }
    if (count <= 0) {
      note(
        'watch.passed',
        `watch of r${start.revision} over: its window ended while no daemon ran`,
        {
          judgements: 0,
        },
      );
      return null;
    }
    const verdicts: Verdict[] = [];
    const analysis = svc.spec.analysis;
    try {
      await runAnalysis(
        {
          router: this.deps.router,
          analysis,
          service,
          canaryService: service,
          baselineRevisions: baseline.revisions,
          baseline,
          canaryRevision: start.revision,
          record: (v, i, n) => {
            verdicts.push(v);
            note('watch.verdict', `watch ${i}/${n}: ${v.result} — ${v.reasons.join('; ')}`, v);
          },
          signal,
        },
        { intervalMs: start.intervalMs, count },
      );
    } catch (err) {
      if (signal.aborted || toHotswapError(err).code !== 'ANALYSIS_FAILED') throw err;
      if (aggregate(verdicts, analysis.failureLimit).result === 'fail') {
        const last = verdicts.at(-1)!;
        const reason = `watch after promotion: ${last.reasons.join('; ')}`;
        note(
          'watch.failed',
          `r${start.revision} breached: ${reason}; rolling back to r${start.previous}`,
          {
            reason,
            previous: start.previous,
            judgements: verdicts.length,
            verdict: last,
          },
        );
        return reason;
      }
      note(
        'watch.inconclusive',
        `watch of r${start.revision} over without a verdict: ${toHotswapError(err).message}`,
        {
          judgements: verdicts.length,
        },
      );
      return null;
    }
    note('watch.passed', `watch of r${start.revision} passed (${verdicts.length} judgement(s))`, {
      judgements: verdicts.length,
    });
    return null;
  }

  private async rollBack(
    service: string,
    rolloutId: number,
    breach: string,
    start: WatchStart,
    note: Note,
  ): Promise<void> {
    const stable = this.deps.store.services.get(service)?.stableRevision ?? null;
    if (stable !== start.revision) {
      note('watch.cancelled', `nothing to roll back: r${start.revision} no longer serves`, {
        reason: `stable revision is r${stable ?? '-'}`,
      });
      return;
    }
    const r = await this.deps.rollback(service, start.previous);
    // `history` then shows the watched rollout as rolled back, with the breach as its reason.
    if (r.outcome === 'succeeded') this.deps.store.rollouts.markRolledBack(rolloutId, breach);
    const how = r.flipMs === undefined ? 'a rollback rollout' : `an instant flip in ${r.flipMs} ms`;
    note(
      'watch.rolledback',
      `rolled back to r${start.previous} by rollout #${r.rolloutId ?? '-'} (${how}): ${r.outcome}`,
      {
        rolloutId: r.rolloutId,
        outcome: r.outcome,
        instant: r.flipMs !== undefined,
        flipMs: r.flipMs ?? null,
        reason: r.reason,
      },
    );
  }
}
