// Builds the impact report of one rollout from the store: what the sampler recorded (traffic per
// revision per interval, CPU/memory per instance), the rollout's steps and its journal (weights,
// verdicts, rollback). Everything is computed here, at read time, from the raw samples, so the
// windows and percentiles can change without touching what was recorded.
import { percentileSorted } from '../analysis/percentile.js';
import { HotswapError } from '../errors.js';
import type {
  JournalEntry,
  ReportPhase,
  RolloutRecord,
  Store,
  TrafficSample,
  UsageSample,
} from '../store/index.js';
import { watchOf, type WatchSummary } from './watch.js';
import { DEFAULT_SAMPLING } from './sampler.js';

/** Past the end of the after window by this much, a report is complete even if never marked. */
const AFTER_GRACE_MS = 5000;

export interface PhaseStats {
  phase: ReportPhase;
  revision: number;
  /** Length of the window in ms. */
  spanMs: number;
  requests: number;
  failed: number;
  /** failed / requests, 0..1. */
  errorRate: number;
  /** Percentiles (ms) of the latencies the proxy kept for the window; null without requests. */
  p50: number | null;
  p95: number | null;
  p99: number | null;
}

export interface InstanceUsageSummary {
  instance: string;
  revision: number;
  samples: number;
  /** % of one core; null without two readings. */
  cpuMeanPct: number | null;
  cpuMaxPct: number | null;
  memoryMaxMb: number | null;
}

export interface TimelineEntry {
  /** ms since the rollout started (negative: before). */
  tMs: number;
  at: string;
  event: string;
  text: string;
}

export interface VerdictEntry {
  tMs: number;
  result: string;
  reasons: string[];
  metrics: unknown;
}

/** Columns for charts: one time axis (seconds since the start) and one array per series. */
export interface Series {
  t: number[];
  lines: Record<string, Array<number | null>>;
}

export interface ImpactReport {
  rollout: RolloutRecord;
  /** The sampler recorded this rollout (rollouts before reports existed have only a timeline). */
  sampled: boolean;
  /** The after window is over. */
  complete: boolean;
  window: { beforeMs: number; afterMs: number; startedAt: string; endedAt: string | null };
  durationMs: number | null;
  rollback: { reason: string; detectedAfterMs: number; tookMs: number | null } | null;
  cutConnections: number;
  steps: Array<{
    seq: number;
    kind: string;
    status: string;
    tMs: number;
    durationMs: number | null;
  }>;
  weights: Array<{ tMs: number; weights: Record<string, number> }>;
  verdicts: VerdictEntry[];
  /** strategy.postPromotion: the watch after this rollout succeeded; null without one. */
  watch: WatchSummary | null;
  timeline: TimelineEntry[];
  phases: PhaseStats[];
  /** CPU and memory per instance over the whole sampling, from Docker stats. */
  instances: InstanceUsageSummary[];
  /** Seconds since the start where the charts draw a line: the end of the rollout, a rollback. */
  marks: Array<{ t: number; label: string }>;
  charts: {
    requestsPerSec: Series;
    errorRatePct: Series;
    p50: Series;
    p95: Series;
    p99: Series;
    cpuPct: Series;
    memoryMb: Series;
    weightPct: Series;
  };
}

/** The report of rollout `id`, or of the service's latest rollout. */
export function buildReport(store: Store, service: string, id?: number): ImpactReport {
  const rollout = id === undefined ? store.rollouts.list(service, 1)[0] : store.rollouts.get(id);
  if (!rollout || rollout.service !== service) {
    throw new HotswapError(
      'NOT_FOUND',
      id === undefined
        ? `service ${service} has no rollout`
        : `rollout #${id} of service ${service} not found`,
    );
  }
  const meta = store.reports.meta(rollout.id);
  const startMs = meta?.startedMs ?? Date.parse(rollout.startedAt);
  const endMs = meta?.endedMs ?? (rollout.finishedAt ? Date.parse(rollout.finishedAt) : null);
  const journal = store.journal.list({ rolloutId: rollout.id, limit: 100_000 });
  const traffic = store.reports.traffic(rollout.id);
  const usage = store.reports.usage(rollout.id);
  const rel = (at: string): number => Date.parse(at) - startMs;
  const weights = weightEvents(journal, rel);
  return {
    rollout,
    sampled: meta !== null,
    // A daemon stopped during the after window leaves it unmarked; it is over all the same.
    complete:
      meta !== null &&
      (meta.complete || (endMs !== null && Date.now() > endMs + meta.afterMs + AFTER_GRACE_MS)),
    window: {
      beforeMs: meta?.beforeMs ?? 0,
      afterMs: meta?.afterMs ?? 0,
      startedAt: new Date(startMs).toISOString(),
      endedAt: endMs === null ? null : new Date(endMs).toISOString(),
    },
    durationMs: rollout.finishedAt
      ? Date.parse(rollout.finishedAt) - Date.parse(rollout.startedAt)
      : null,
    rollback: rollbackOf(journal, rel),
    cutConnections: rollout.cutConnections,
    steps: store.rollouts.steps(rollout.id).map((s) => ({
      seq: s.seq,
      kind: s.kind,
      status: s.status,
      tMs: rel(s.startedAt),
      durationMs: s.finishedAt ? Date.parse(s.finishedAt) - Date.parse(s.startedAt) : null,
    })),
    weights,
    verdicts: journal
      .filter((e) => e.event === 'analysis.verdict')
      .map((e) => {
        const v = e.data as { result?: string; reasons?: string[]; metrics?: unknown };
        return {
          tMs: rel(e.at),
          result: v.result ?? '?',
          reasons: v.reasons ?? [],
          metrics: v.metrics ?? null,
        };
      }),
    watch: watchOf(journal, rel),
    timeline: journal.map((e) => ({
      tMs: rel(e.at),
      at: e.at,
      event: e.event,
      text: describeEvent(e),
    })),
    phases: phaseStats(traffic, {
      before: meta?.beforeMs ?? 0,
      during: (endMs ?? Date.now()) - startMs,
      after:
        endMs === null || !meta
          ? 0
          : meta.complete
            ? meta.afterMs
            : Math.max(0, Math.min(meta.afterMs, Date.now() - endMs)),
    }),
    instances: usageSummary(usage),
    marks: marksOf(journal, rel, endMs === null ? null : endMs - startMs),
    charts: {
      ...trafficCharts(traffic, startMs),
      ...usageCharts(usage, startMs),
      weightPct: weightChart(
        weights,
        rollout.fromRevision,
        endMs === null ? null : endMs - startMs,
      ),
    },
  };
}

function phaseStats(traffic: TrafficSample[], spans: Record<ReportPhase, number>): PhaseStats[] {
  const groups = new Map<string, TrafficSample[]>();
  for (const s of traffic) {
    const key = `${s.phase}:${s.revision}`;
    const g = groups.get(key);
    if (g) g.push(s);
    else groups.set(key, [s]);
  }
  const order: ReportPhase[] = ['before', 'during', 'after'];
  const out: PhaseStats[] = [];
  for (const g of groups.values()) {
    let n = 0;
    for (const s of g) n += s.latencies.length;
    const all = new Float32Array(n);
    let off = 0;
    for (const s of g) {
      all.set(s.latencies, off);
      off += s.latencies.length;
    }
    all.sort();
    const requests = sum(g, (s) => s.requests);
    const failed = sum(g, (s) => s.failed);
    const first = g[0]!;
    out.push({
      phase: first.phase,
      revision: first.revision,
      spanMs: spans[first.phase],
      requests,
      failed,
      errorRate: requests ? failed / requests : 0,
      ...pcts(all),
    });
  }
  return out.sort(
    (a, b) => order.indexOf(a.phase) - order.indexOf(b.phase) || a.revision - b.revision,
  );
}

function pcts(sorted: ArrayLike<number>): {
  p50: number | null;
  p95: number | null;
  p99: number | null;
} {
  if (sorted.length === 0) return { p50: null, p95: null, p99: null };
  const p = (q: number): number => round(percentileSorted(sorted, q));
  return { p50: p(50), p95: p(95), p99: p(99) };
}

/** Per-interval series of the during and after phases, one line per revision. */
function trafficCharts(
  traffic: TrafficSample[],
  startMs: number,
): Pick<ImpactReport['charts'], 'requestsPerSec' | 'errorRatePct' | 'p50' | 'p95' | 'p99'> {
  const rows = traffic.filter((s) => s.phase !== 'before');
  const axis = timeAxis(
    rows.map((s) => s.atMs),
    startMs,
  );
  const revisions = [...new Set(rows.map((s) => s.revision))].sort((a, b) => a - b);
  const make = (): Series => ({
    t: axis.t,
    lines: Object.fromEntries(revisions.map((r) => [`r${r}`, axis.t.map(() => null)])),
  });
  const charts = {
    requestsPerSec: make(),
    errorRatePct: make(),
    p50: make(),
    p95: make(),
    p99: make(),
  };
  for (const s of rows) {
    const i = axis.index.get(s.atMs)!;
    const key = `r${s.revision}`;
    charts.requestsPerSec.lines[key]![i] = round((s.requests * 1000) / s.spanMs);
    charts.errorRatePct.lines[key]![i] = round((100 * s.failed) / s.requests);
    const sorted = s.latencies.slice().sort();
    const p = pcts(sorted);
    charts.p50.lines[key]![i] = p.p50;
    charts.p95.lines[key]![i] = p.p95;
    charts.p99.lines[key]![i] = p.p99;
  }
  return charts;
}

function usageCharts(
  usage: UsageSample[],
  startMs: number,
): Pick<ImpactReport['charts'], 'cpuPct' | 'memoryMb'> {
  // Each instance is read on its own, so readings of one round land a few ms apart: on the
  // sampling interval's grid they share a point, and each instance's line is unbroken.
  const GRID_MS = DEFAULT_SAMPLING.intervalMs;
  const at = (u: UsageSample): number => Math.round(u.atMs / GRID_MS) * GRID_MS;
  const axis = timeAxis(usage.map(at), startMs);
  const names = new Map<string, string>();
  for (const u of usage) names.set(u.instanceId, `r${u.revision} ${u.instanceId.slice(0, 8)}`);
  const make = (): Series => ({
    t: axis.t,
    lines: Object.fromEntries([...names.values()].map((n) => [n, axis.t.map(() => null)])),
  });
  const cpuPct = make();
  const memoryMb = make();
  for (const u of usage) {
    const i = axis.index.get(at(u))!;
    const name = names.get(u.instanceId)!;
    cpuPct.lines[name]![i] = u.cpuPercent === null ? null : round(u.cpuPercent);
    memoryMb.lines[name]![i] = u.memoryBytes === null ? null : round(u.memoryBytes / 2 ** 20);
  }
  return { cpuPct, memoryMb };
}

/** Weights as traffic shares in %, held until the next change (drawn as steps). */
function weightChart(
  weights: ImpactReport['weights'],
  from: number | null,
  endT: number | null,
): Series {
  const points = [...weights];
  // Before the first change all traffic was on the revision serving then.
  if (from !== null && (points.length === 0 || points[0]!.tMs > 0))
    points.unshift({ tMs: 0, weights: { [String(from)]: 1 } });
  const last = points.at(-1);
  if (last && endT !== null && endT > last.tMs) points.push({ tMs: endT, weights: last.weights });
  const revisions = [...new Set(points.flatMap((w) => Object.keys(w.weights)))].sort(
    (a, b) => Number(a) - Number(b),
  );
  const t = points.map((p) => round(p.tMs / 1000));
  const lines: Series['lines'] = {};
  for (const r of revisions) {
    lines[`r${r}`] = points.map((p) => {
      const total = Object.values(p.weights).reduce((a, b) => a + b, 0);
      return total > 0 ? round((100 * (p.weights[r] ?? 0)) / total) : 0;
    });
  }
  return { t, lines };
}

function timeAxis(atMs: number[], startMs: number): { t: number[]; index: Map<number, number> } {
  const unique = [...new Set(atMs)].sort((a, b) => a - b);
  return {
    t: unique.map((a) => round((a - startMs) / 1000)),
    index: new Map(unique.map((a, i) => [a, i])),
  };
}

function weightEvents(
  journal: JournalEntry[],
  rel: (at: string) => number,
): ImpactReport['weights'] {
  return journal
    .filter((e) => e.event === 'weights.set')
    .map((e) => ({
      tMs: rel(e.at),
      weights: (e.data as { weights?: Record<string, number> }).weights ?? {},
    }));
}

function rollbackOf(
  journal: JournalEntry[],
  rel: (at: string) => number,
): ImpactReport['rollback'] {
  const started = journal.find((e) => e.event === 'rollback.started');
  if (!started) return null;
  const done = journal.find((e) => e.event === 'rollback.finished' && e.seq > started.seq);
  return {
    reason: (started.data as { reason?: string }).reason ?? '',
    detectedAfterMs: rel(started.at),
    tookMs: done ? Date.parse(done.at) - Date.parse(started.at) : null,
  };
}

function usageSummary(usage: UsageSample[]): InstanceUsageSummary[] {
  const by = new Map<string, UsageSample[]>();
  for (const u of usage) {
    const xs = by.get(u.instanceId);
    if (xs) xs.push(u);
    else by.set(u.instanceId, [u]);
  }
  return [...by.entries()].map(([instance, xs]) => {
    const cpu = xs.map((x) => x.cpuPercent).filter((x) => x !== null);
    const mem = xs.map((x) => x.memoryBytes).filter((x) => x !== null);
    return {
      instance,
      revision: xs[0]!.revision,
      samples: xs.length,
      cpuMeanPct: cpu.length ? round(sum(cpu, (x) => x) / cpu.length) : null,
      cpuMaxPct: cpu.length ? round(Math.max(...cpu)) : null,
      memoryMaxMb: mem.length ? round(Math.max(...mem) / 2 ** 20) : null,
    };
  });
}

function marksOf(
  journal: JournalEntry[],
  rel: (at: string) => number,
  endT: number | null,
): ImpactReport['marks'] {
  const marks = [{ t: 0, label: 'start' }];
  const rollback = journal.find((e) => e.event === 'rollback.started');
  if (rollback) marks.push({ t: round(rel(rollback.at) / 1000), label: 'rollback' });
  if (endT !== null) marks.push({ t: round(endT / 1000), label: 'end' });
  return marks;
}

function describeEvent(e: JournalEntry): string {
  const d = (e.data ?? {}) as Record<string, unknown>;
  switch (e.event) {
    case 'weights.set':
      return `weights ${JSON.stringify(d['weights'])}`;
    case 'analysis.verdict':
      return `${String(d['result'])}: ${((d['reasons'] as string[] | undefined) ?? []).join('; ')}`;
    case 'step.started':
      return `${String(d['kind'])} (old ${String(d['old'])}, new ${String(d['next'])})`;
    case 'rollback.started':
    case 'rollout.failed':
      return (d['reason'] as string | undefined) ?? '';
    case 'watch.verdict':
      return `${String(d['result'])}: ${((d['reasons'] as string[] | undefined) ?? []).join('; ')}`;
    case 'watch.started':
      return `r${String(d['revision'])} watched until ${String(d['endsAt'])}`;
    case 'watch.failed':
    case 'watch.cancelled':
      return (d['reason'] as string | undefined) ?? '';
    case 'watch.rolledback':
      return `rollout #${String(d['rolloutId'])}: ${String(d['outcome'])}${d['instant'] ? ` (instant, ${String(d['flipMs'])} ms)` : ''}`;
    case 'rollout.started':
      return `r${(d['from'] as number | null) ?? '-'} → r${String(d['to'])}`;
    default:
      return '';
  }
}

function sum<T>(xs: T[], f: (x: T) => number): number {
  let s = 0;
  for (const x of xs) s += f(x);
  return s;
}

function round(n: number): number {
  return Math.round(n * 1000) / 1000;
}
