// The live state of one service: its config, targets, weights, balancer, per-revision counters,
// long-connection counts and passive ejection. Every change to targets, weights or ejections
// rebuilds the balancer, so the request path never has to filter draining targets or zero
// weights itself.
import { randomUUID } from 'node:crypto';
import type { IncomingHttpHeaders } from 'node:http';
import { HotswapError } from '../../errors.js';
import { Balancer } from './balancer.js';
import { cookieValue } from '../http/cookies.js';
import { hash32 } from './hash.js';
import { forcedRevision } from '../http/override.js';
import type { LongKind } from './long.js';
import { RevisionCounters, type Counters, type CountersDump } from './stats.js';
import { Target, type TargetOwner } from './targets.js';
import type {
  Backend,
  DrainResult,
  LongConnections,
  LongConnectionStats,
  ServiceRoute,
  ServiceStats,
} from '../types.js';
import { conflict, settingsToConfig, type ServiceSettings } from './validate.js';

/** Knobs shared by every service of one proxy. */
export interface Tuning {
  /** Consecutive connect failures that eject a backend. Default 3. */
  ejectAfterFailures: number;
  /** How long an ejected backend stays out before its trial request. Default 10 s. */
  ejectMs: number;
  /** Granularity of upstream idle and silence checks (fast path pools). Default 1 s. */
  upstreamTickMs: number;
}

export const DEFAULT_TUNING: Tuning = {
  ejectAfterFailures: 3,
  ejectMs: 10_000,
  upstreamTickMs: 1000,
};

export interface ServiceStatsDump {
  revisions: Record<string, CountersDump>;
  instances: Record<string, CountersDump>;
  unavailable: number;
  long: { opened: number; cut: number };
  /** Absent in dumps of older proxies. */
  events?: ServiceEvents;
}

/** Rare events counted per service for /metrics (none of them is on a request's success path). */
export interface ServiceEvents {
  /** Attempts sent again to another backend after a failed one. */
  retries: number;
  /** Backends taken out after consecutive connect failures. */
  ejections: number;
  /** Backends drained. */
  drains: number;
  /** HTTP requests still in flight when a drain's budget ended (cut). */
  drainCutRequests: number;
}

/** What GET /metrics renders of one service: counters as they are, and the backends now. */
export interface ServiceMetricsView {
  /** Only the revisions that have a backend or a weight now (bounded label cardinality). */
  revisions: Array<{ revision: number; counters: Counters; inFlight: number }>;
  backends: Array<{ revision: number; state: 'active' | 'draining' | 'ejected' }>;
  unavailable: number;
  long: LongConnectionStats;
  events: ServiceEvents;
}

const EVENT_KEYS = ['retries', 'ejections', 'drains', 'drainCutRequests'] as const;

export class ServiceRuntime implements TargetOwner {
  readonly name: string;
  settings: ServiceSettings;
  readonly balancer = new Balancer();
  /** Requests answered 503 (connections closed, in TCP mode) for want of a backend. */
  unavailable = 0;
  readonly events: ServiceEvents = { retries: 0, ejections: 0, drains: 0, drainCutRequests: 0 };
  /**
   * Set by pick() when it generated a sticky id for the request: the Set-Cookie value the
   * response must carry. Read right after pick(), before anything else can run.
   */
  newCookie: string | null = null;
  /**
   * Set by pick(): the request chose its revision through the configured override. Such a
   * request is not counted in the revision's numbers. Read right after pick(), like newCookie.
   */
  forced = false;
  private readonly long: LongConnectionStats = {
    open: 0,
    opened: 0,
    cut: 0,
    byKind: { websocket: 0, upgrade: 0, sse: 0, tcp: 0 },
  };
  private weights: Record<string, number> = {};
  private readonly targets = new Map<string, Target>();
  private readonly revisions = new Map<number, RevisionCounters>();

  constructor(
    name: string,
    settings: ServiceSettings,
    private readonly tuning: Tuning = DEFAULT_TUNING,
    private readonly log: (line: string, fields?: { service?: string }) => void = () => undefined,
  ) {
    this.name = name;
    this.settings = settings;
  }

  get listen(): string {
    return this.settings.listen;
  }

  /**
   * The backend for a new request or connection: a forced revision (header or cookie) when it
   * has an active backend, else the sticky choice when configured, else the weighted split.
   */
  pick(headers: IncomingHttpHeaders | null): Target | undefined {
    this.newCookie = null;
    this.forced = false;
    if (headers !== null) {
      const cookie = headers.cookie;
      const override = this.settings.override;
      if (override !== null) {
        const revision = forcedRevision(override, headers);
        const t = revision > 0 ? this.balancer.pickRevision(revision) : undefined;
        if (t !== undefined) {
          this.forced = true;
          return t;
        }
      }
      const sticky = this.settings.sticky;
      if (sticky !== null) {
        let key: string | undefined;
        if (sticky.header !== undefined) {
          const v = headers[sticky.header];
          key = Array.isArray(v) ? v[0] : v;
          if (key === '') key = undefined;
        }
        if (key === undefined && sticky.cookie !== undefined) {
          key = cookieValue(cookie, sticky.cookie);
          if (key === undefined || key === '') {
            key = randomUUID();
            this.newCookie = `${sticky.cookie}=${key}; Path=/; HttpOnly; SameSite=Lax`;
          }
        }
        if (key !== undefined) {
          const t = this.balancer.pickHashed(hash32(key));
          if (t !== undefined) return t;
        }
      }
    }
    return this.balancer.pick();
  }

  /** Adds an active target (true); the same id with the same revision and address is a no-op. */
  addBackend(backend: Omit<Backend, 'state'>): boolean {
    const existing = this.targets.get(backend.id);
    if (existing !== undefined) {
      if (existing.revision !== backend.revision) {
        throw conflict(
          'revision',
          `backend ${backend.id} exists with revision ${existing.revision}`,
        );
      }
      if (existing.address !== backend.address) {
        throw conflict('address', `backend ${backend.id} exists with address ${existing.address}`);
      }
      if (existing.state === 'draining') {
        throw conflict('id', `backend ${backend.id} is draining; add it again after the drain`);
      }
      return false;
    }
    this.targets.set(
      backend.id,
      new Target(backend, this.counters(backend.revision), this, this.tuning.upstreamTickMs),
    );
    this.rebuild();
    return true;
  }

  setWeights(weights: Record<string, number>): void {
    this.weights = { ...weights };
    this.rebuild();
  }

  getWeights(): Record<string, number> {
    return { ...this.weights };
  }

  /**
   * Takes the target out of the balancer at once and returns a promise for the end of its drain.
   * `onForget` runs when the target has been removed, before the promise settles.
   */
  drain(
    id: string,
    timeoutMs: number,
    how: { long?: LongConnections; unhealthy?: boolean },
    onForget: () => Promise<void>,
  ): Promise<DrainResult> {
    const target = this.targets.get(id);
    if (target === undefined) {
      throw new HotswapError('NOT_FOUND', `service ${this.name} has no backend ${id}`);
    }
    const wasActive = target.state === 'active';
    const result = target.drain(timeoutMs, how.long ?? this.settings.longConnections);
    if (how.unhealthy === true)
      target.cutMovable(`upstream ${target.address} failed its health probes`);
    if (!wasActive) return result; // joined a drain already under way
    this.events.drains++;
    this.rebuild();
    return result.then(async (r) => {
      this.events.drainCutRequests += r.inFlight;
      if (this.targets.get(id) === target) {
        this.targets.delete(id);
        if (target.ejectTimer !== null) clearTimeout(target.ejectTimer);
        this.rebuild();
      }
      await onForget();
      return r;
    });
  }

  // TargetOwner: passive ejection.
  connectFailed(target: Target): void {
    target.failures++;
    if (target.ejected || target.state !== 'active') return;
    if (!target.probing && target.failures < this.tuning.ejectAfterFailures) return;
    this.eject(target, `${target.failures} failed connects`);
  }

  hostUnreachable(target: Target, moved: number): void {
    this.log(
      `service ${this.name}: backend ${target.id} unreachable (a connect got no answer); ${moved} request(s) in flight moved`,
      { service: this.name },
    );
    if (!target.ejected && target.state === 'active') this.eject(target, 'an unanswered connect');
  }

  private eject(target: Target, why: string): void {
    let available = 0;
    for (const t of this.targets.values()) if (t.state === 'active' && !t.ejected) available++;
    // Never eject the last backend that could serve: a failing one beats none (and it takes
    // requests at full rate, not one trial at a time).
    if (available <= 1) {
      target.probing = false;
      return;
    }
    target.ejected = true;
    target.probing = false;
    target.ejections++;
    this.events.ejections++;
    this.rebuild();
    this.log(
      `service ${this.name}: backend ${target.id} ejected for ${this.tuning.ejectMs} ms after ${why}`,
      { service: this.name },
    );
    target.ejectTimer = setTimeout(() => {
      target.ejectTimer = null;
      if (this.targets.get(target.id) !== target || !target.ejected) return;
      target.ejected = false;
      target.probing = true;
      this.rebuild();
    }, this.tuning.ejectMs);
    target.ejectTimer.unref();
  }

  // TargetOwner: long-connection counts.
  get maxLongMs(): number {
    return this.settings.maxLongMs;
  }

  longChanged(kind: LongKind, delta: 1 | -1, cut: boolean): void {
    const long = this.long;
    long.open += delta;
    long.byKind[kind] += delta;
    if (delta > 0) long.opened++;
    if (cut) long.cut++;
  }

  /** Long connections end per the service's policy (used by a proxy handing over to a successor). */
  settleLong(reason: string): Promise<void> {
    const policy = this.settings.longConnections;
    return Promise.all([...this.targets.values()].map((t) => t.settleLong(policy, reason))).then(
      () => undefined,
    );
  }

  /** Cuts every long connection now. */
  cutLong(reason: string): void {
    for (const t of this.targets.values()) t.cutAllLong(reason);
  }

  /** Closes every pool and long connection; used when the service is removed or the proxy stops. */
  destroy(reason: string): void {
    for (const t of this.targets.values()) t.destroy(reason);
    this.targets.clear();
    this.rebuild();
  }

  toRoute(): ServiceRoute {
    return {
      ...settingsToConfig(this.settings),
      weights: { ...this.weights },
      backends: [...this.targets.values()].map((t) => t.toBackend()),
    };
  }

  stats(windowMs?: number): ServiceStats {
    const inFlight = new Map<number, number>();
    const instances: ServiceStats['instances'] = {};
    for (const t of this.targets.values()) {
      instances[t.id] = t.stats();
      inFlight.set(t.revision, (inFlight.get(t.revision) ?? 0) + t.inFlight);
    }
    const revisions: ServiceStats['revisions'] = {};
    for (const [rev, c] of this.revisions) {
      revisions[String(rev)] = c.snapshot(inFlight.get(rev) ?? 0, windowMs);
    }
    const long = this.long;
    return {
      revisions,
      instances,
      unavailable: this.unavailable,
      long: { open: long.open, opened: long.opened, cut: long.cut, byKind: { ...long.byKind } },
    };
  }

  dumpStats(): ServiceStatsDump {
    const revisions: Record<string, CountersDump> = {};
    for (const [rev, c] of this.revisions) revisions[String(rev)] = c.dump();
    const instances: Record<string, CountersDump> = {};
    for (const t of this.targets.values()) instances[t.id] = t.own.dump();
    return {
      revisions,
      instances,
      unavailable: this.unavailable,
      long: { opened: this.long.opened, cut: this.long.cut },
      events: { ...this.events },
    };
  }

  metricsView(): ServiceMetricsView {
    const inFlight = new Map<number, number>();
    const backends: ServiceMetricsView['backends'] = [];
    for (const t of this.targets.values()) {
      inFlight.set(t.revision, (inFlight.get(t.revision) ?? 0) + t.inFlight);
      const state = t.state === 'draining' ? 'draining' : t.ejected ? 'ejected' : 'active';
      backends.push({ revision: t.revision, state });
    }
    const revisions: ServiceMetricsView['revisions'] = [];
    for (const [revision, counters] of this.revisions) {
      const live = inFlight.has(revision) || (this.weights[String(revision)] ?? 0) > 0;
      if (live) revisions.push({ revision, counters, inFlight: inFlight.get(revision) ?? 0 });
    }
    return {
      revisions,
      backends,
      unavailable: this.unavailable,
      long: this.long,
      events: this.events,
    };
  }

  /** Zeroes every counter (the predecessor side of a handover, right after dumpStats). */
  resetStats(): void {
    for (const c of this.revisions.values()) c.reset();
    for (const t of this.targets.values()) t.own.reset();
    this.unavailable = 0;
    this.long.opened = 0;
    this.long.cut = 0;
    for (const k of EVENT_KEYS) this.events[k] = 0;
  }

  /** Adds counters from a predecessor process (cumulative numbers continue across an upgrade). */
  mergeStats(d: ServiceStatsDump): void {
    for (const [rev, dump] of Object.entries(d.revisions ?? {})) {
      const n = Number(rev);
      if (Number.isSafeInteger(n) && n > 0) this.counters(n).merge(dump);
    }
    for (const [id, dump] of Object.entries(d.instances ?? {})) {
      this.targets.get(id)?.own.merge(dump);
    }
    this.unavailable += Number(d.unavailable) || 0;
    this.long.opened += Number(d.long?.opened) || 0;
    this.long.cut += Number(d.long?.cut) || 0;
    for (const k of EVENT_KEYS) this.events[k] += Number(d.events?.[k]) || 0;
  }

  private counters(revision: number): RevisionCounters {
    let c = this.revisions.get(revision);
    if (c === undefined) {
      c = new RevisionCounters();
      this.revisions.set(revision, c);
    }
    return c;
  }

  private rebuild(): void {
    this.balancer.rebuild(this.targets.values(), this.weights);
  }
}
