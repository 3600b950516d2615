// Records what an impact report needs while a rollout runs: once, the proxy's window of the
// minutes before it; then every interval, requests, failures and latencies per revision (from
// the proxy's sliding window) and CPU/memory per instance (Docker stats); and after it ends, the
// same for an after window. A sampler never fails or slows a rollout: every error is swallowed,
// a tick still running when the next is due is skipped, and its timers do not keep Node alive.
import { HotswapError } from '../errors.js';
import type { Router, ServiceStats } from '../proxy/types.js';
import { formatDuration, parseDuration } from '../spec/duration.js';
import { cpuPercent } from '../runtime/docker/usage.js';
import { usageReads } from './read-gate.js';
import type { InstanceUsage, Runtime } from '../runtime/types.js';
import type { ReportPhase, Store, TrafficSample, UsageSample } from '../store/index.js';

export interface ReportSampling {
  /** The proxy's window read at the start: traffic before the rollout. At most 1 h. */
  beforeMs: number;
  /** How long sampling goes on after the rollout ended. */
  afterMs: number;
  intervalMs: number;
}

export const DEFAULT_SAMPLING: ReportSampling = {
  beforeMs: 60_000,
  afterMs: 60_000,
  intervalMs: 1000,
};

export interface SamplerDeps {
  router: Router;
  runtime: Runtime;
  store: Store;
}

/** Samplers still recording (their after window included), so a closing daemon can stop them. */
const running = new Set<RolloutSampler>();

export function stopSamplers(): void {
  for (const s of [...running]) s.stop();
}

export class RolloutSampler {
  private phase: ReportPhase = 'during';
  private lastAt = Date.now();
  private timer: NodeJS.Timeout | null = null;
  private usageTimer: NodeJS.Timeout | null = null;
  private afterTimer: NodeJS.Timeout | null = null;
  private trafficBusy = false;
  private stopped = false;
  /** Instances in the proxy's table at the last traffic read: whose Docker stats are read. */
  private instances: ServiceStats['instances'] = {};
  private readonly prevUsage = new Map<string, InstanceUsage>();
  /** Instances whose last stats read has not come back: not asked again until it does. */
  private readonly pendingReads = new Set<string>();

  constructor(
    private readonly deps: SamplerDeps,
    private readonly service: string,
    private readonly rolloutId: number,
    private readonly opts: ReportSampling,
  ) {}

  start(): this {
    const now = Date.now();
    this.lastAt = now;
    this.safely(() =>
      this.deps.store.reports.begin({
        rolloutId: this.rolloutId,
        service: this.service,
        beforeMs: this.opts.beforeMs,
        afterMs: this.opts.afterMs,
        startedMs: now,
      }),
    );
    running.add(this);
    void this.recordBefore(now).then(() => this.startUsage());
    this.timer = setInterval(() => void this.tick(), this.opts.intervalMs);
    this.timer.unref();
    return this;
  }

  /** The rollout is over (either way): sample the after window, then stop. */
  ended(): void {
    if (this.phase === 'after') return;
    void this.tick().finally(() => {
      this.phase = 'after';
      this.safely(() => this.deps.store.reports.ended(this.rolloutId, Date.now()));
      this.afterTimer = setTimeout(() => this.finish(), this.opts.afterMs);
      this.afterTimer.unref();
    });
  }

  stop(): void {
    this.stopped = true;
    if (this.timer) clearInterval(this.timer);
    if (this.usageTimer) clearInterval(this.usageTimer);
    if (this.afterTimer) clearTimeout(this.afterTimer);
    this.timer = this.afterTimer = this.usageTimer = null;
    running.delete(this);
  }

  private finish(): void {
    this.stop();
    this.safely(() => this.deps.store.reports.complete(this.rolloutId));
  }

  private async recordBefore(now: number): Promise<void> {
    try {
      const stats = await this.deps.router.stats(this.service, { windowMs: this.opts.beforeMs });
      this.saveTraffic(stats, 'before', now - this.opts.beforeMs, this.opts.beforeMs);
      this.instances = stats.instances;
    } catch {
      // No proxy numbers before the rollout (a first deploy has no service yet): the report says so.
    }
  }

  private async tick(): Promise<void> {
    if (this.trafficBusy) return;
    this.trafficBusy = true;
    try {
      const now = Date.now();
      const span = Math.max(1, now - this.lastAt);
      this.lastAt = now;
      const stats = await this.deps.router.stats(this.service, { windowMs: span });
      this.saveTraffic(stats, this.phase, now, span);
      this.instances = stats.instances;
      this.readNewInstances();
    } catch {
      // A missed interval shows as a gap in the charts.
    } finally {
      this.trafficBusy = false;
    }
  }

  private saveTraffic(stats: ServiceStats, phase: ReportPhase, atMs: number, spanMs: number): void {
    const rows: TrafficSample[] = [];
    for (const [rev, r] of Object.entries(stats.revisions)) {
      const requests = r.windowRequests ?? 0;
      if (requests === 0) continue;
      rows.push({
        atMs,
        spanMs,
        phase,
        revision: Number(rev),
        requests,
        failed: r.windowErrors ?? 0,
        latencies: Float32Array.from(r.samples ?? []),
      });
    }
    if (rows.length) this.safely(() => this.deps.store.reports.addTraffic(this.rolloutId, rows));
  }

  /**
   * Docker stats of every instance in the proxy's table, on a timer of its own: the engine can
   * take a second per reading, which must not hold up the traffic samples. Each instance is read
   * on its own, once per interval, and never asked again while its read is out: a stats call on a
   * container being stopped or removed can hang for seconds, and when reads waited for each other
   * the new instances of a short rollout got one reading (a CPU chart of two dots). The first
   * round, at the start, gives the old instances' memory and the CPU baseline; CPU % needs two
   * readings of the same instance.
   */
  private startUsage(): void {
    if (this.stopped || this.deps.runtime.instanceUsage === undefined) return;
    const round = (): void => {
      for (const [id, inst] of Object.entries(this.instances)) {
        if (!this.pendingReads.has(id)) void this.readUsage(id, inst.revision);
      }
    };
    round();
    this.usageTimer = setInterval(round, this.opts.intervalMs);
    this.usageTimer.unref();
  }

  /** An instance new in the proxy's table is read at once: its CPU % needs a first reading. */
  private readNewInstances(): void {
    if (this.usageTimer === null) return; // not started, or stopped
    for (const [id, inst] of Object.entries(this.instances)) {
      if (!this.prevUsage.has(id) && !this.pendingReads.has(id))
        void this.readUsage(id, inst.revision);
    }
  }

  private async readUsage(id: string, revision: number): Promise<void> {
    const runtime = this.deps.runtime;
    this.pendingReads.add(id);
    try {
      const cur = await usageReads
        .run(() => (this.stopped ? Promise.resolve(null) : runtime.instanceUsage!(id)))
        .catch(() => null);
      if (cur === null || this.stopped) return;
      const prev = this.prevUsage.get(id);
      this.prevUsage.set(id, cur);
      const row: UsageSample = {
        atMs: cur.atMs,
        instanceId: id,
        revision,
        cpuPercent: prev ? cpuPercent(prev, cur) : null,
        memoryBytes: cur.memoryBytes,
      };
      this.safely(() => this.deps.store.reports.addUsage(this.rolloutId, [row]));
    } finally {
      this.pendingReads.delete(id);
    }
  }

  private safely(fn: () => void): void {
    try {
      fn();
    } catch {
      // The store is closed (daemon shutting down) or busy: the report misses this sample.
    }
  }
}

/**
 * The daemon's sampling windows: HOTSWAP_REPORT_BEFORE and HOTSWAP_REPORT_AFTER (durations like
 * "30s"); a value that does not parse is refused at start, naming the variable.
 */
export function samplingFromEnv(env: NodeJS.ProcessEnv): ReportSampling {
  const read = (name: string, fallback: number, max: number): number => {
    const raw = env[name];
    if (raw === undefined || raw === '') return fallback;
    const ms = parseDuration(raw);
    if (typeof ms === 'string' || ms > max)
      throw new HotswapError(
        'USAGE',
        `${name}=${raw}: expected a duration up to ${formatDuration(max)}, like "30s"`,
      );
    return ms;
  };
  return {
    beforeMs: Math.max(1000, read('HOTSWAP_REPORT_BEFORE', DEFAULT_SAMPLING.beforeMs, 3_600_000)),
    afterMs: read('HOTSWAP_REPORT_AFTER', DEFAULT_SAMPLING.afterMs, 3_600_000),
    intervalMs: DEFAULT_SAMPLING.intervalMs,
  };
}
