// The autoscale loop (issue 16): every tick, for each service with `autoscale` that no operation
// holds, it reads the proxy's request rate per instance and Docker's CPU per instance, asks the
// policy, and scales through the controller's `scale` — the same desired state the reconcile
// loop reads. Every decision goes to the journal: each scale, and each hold whose reason changed.
import { toHotswapError } from '../errors.js';
import type { Router } from '../proxy/types.js';
import type { Runtime } from '../runtime/types.js';
import type { ServiceSpec } from '../spec/types.js';
import type { Store } from '../store/index.js';
import { AutoscalePolicy, type Decision, type Observation } from './autoscale-policy.js';
import { fromBackends, type LiveInstance } from './live-group.js';

export interface AutoscalerDeps {
  store: Store;
  router: Router;
  runtime: Runtime;
  busy: (service: string) => boolean;
  /** Scales the service; resolves once the instances run (or the scale failed). */
  scale: (service: string, replicas: number) => Promise<{ outcome: string; reason: string | null }>;
  intervalMs?: number;
}

export const AUTOSCALE_INTERVAL_MS = 1000;
/** The proxy's sliding window for the request rate. */
export const RATE_WINDOW_MS = 3000;

interface State {
  policy: AutoscalePolicy;
  /** The spec the policy was made for: a changed autoscale spec starts a new one. */
  key: string;
  cpu: Map<string, { cpuNs: number; atMs: number }>;
  lastHold: string | null;
}

export class Autoscaler {
  private readonly states = new Map<string, State>();
  private timer: NodeJS.Timeout | null = null;
  private running = false;

  constructor(private readonly deps: AutoscalerDeps) {}

  start(): void {
    const every = this.deps.intervalMs ?? AUTOSCALE_INTERVAL_MS;
    this.timer = setInterval(() => void this.tick().catch(() => undefined), every);
    this.timer.unref();
  }

  stop(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
  }

  /** One pass over the autoscaled services; exposed for tests. */
  async tick(now = Date.now()): Promise<void> {
    if (this.running) return;
    this.running = true;
    try {
      const services = this.deps.store.services.list();
      for (const svc of services)
        if (!svc.spec.autoscale || svc.stableRevision === null) this.states.delete(svc.name);
      const scaled = services.filter((s) => s.spec.autoscale && s.stableRevision !== null);
      // Most homes autoscale nothing: the proxy is not asked for its table every second then.
      if (scaled.length === 0) return;
      const table = await this.deps.router.table();
      for (const svc of scaled) {
        const spec = svc.spec;
        if (this.deps.busy(svc.name)) continue;
        const serving = fromBackends(table.services[svc.name]?.backends ?? []);
        await this.service(spec, serving, now);
      }
    } finally {
      this.running = false;
    }
  }

  private async service(spec: ServiceSpec, serving: LiveInstance[], now: number): Promise<void> {
    const state = this.stateOf(spec);
    const observation: Observation = {
      at: now,
      replicas: spec.replicas,
      rpsPerInstance: await this.rate(spec, serving),
      cpuPercent: spec.autoscale!.targetCpu === null ? null : await this.cpu(state, serving),
    };
    const decision = state.policy.decide(observation);
    if (decision.action === 'hold') {
      // Once per kind of hold and wanted count: the figures move every tick, the decision does not.
      const key = `${decision.kind}:${decision.wanted}`;
      if (key !== state.lastHold) this.journal(spec.name, 'autoscale.hold', decision, observation);
      state.lastHold = key;
      return;
    }
    state.lastHold = null;
    this.journal(spec.name, 'autoscale.scale', decision, observation);
    try {
      const r = await this.deps.scale(spec.name, decision.to);
      if (r.outcome === 'failed')
        this.journal(
          spec.name,
          'autoscale.failed',
          { ...decision, reason: r.reason ?? '' },
          observation,
        );
    } catch (err) {
      const reason = toHotswapError(err).message;
      this.journal(spec.name, 'autoscale.failed', { ...decision, reason }, observation);
    }
    state.policy.changed(Date.now());
  }

  private stateOf(spec: ServiceSpec): State {
    const key = JSON.stringify(spec.autoscale);
    let state = this.states.get(spec.name);
    if (!state || state.key !== key) {
      state = { policy: new AutoscalePolicy(spec.autoscale!), key, cpu: new Map(), lastHold: null };
      this.states.set(spec.name, state);
    }
    return state;
  }

  /** Requests per second per serving instance over the proxy's window. */
  private async rate(spec: ServiceSpec, serving: LiveInstance[]): Promise<number | null> {
    if (spec.autoscale!.targetRps === null || serving.length === 0) return null;
    const stats = await this.deps.router.stats(spec.name, { windowMs: RATE_WINDOW_MS });
    const requests = Object.values(stats.revisions).reduce(
      (a, r) => a + (r.windowRequests ?? 0),
      0,
    );
    return requests / (RATE_WINDOW_MS / 1000) / serving.length;
  }

  /** Mean CPU % (100 = one core) of the serving instances since the last tick; null at first. */
  private async cpu(state: State, serving: LiveInstance[]): Promise<number | null> {
    const sample = this.deps.runtime.cpuSample?.bind(this.deps.runtime);
    if (!sample) return null;
    const percents: number[] = [];
    const seen = new Set<string>();
    for (const i of serving) {
      seen.add(i.id);
      const now = await sample(i.id).catch(() => null);
      if (!now) continue;
      const before = state.cpu.get(i.id);
      state.cpu.set(i.id, now);
      const wallNs = before ? (now.atMs - before.atMs) * 1e6 : 0;
      if (before && wallNs > 0) percents.push(((now.cpuNs - before.cpuNs) / wallNs) * 100);
    }
    for (const id of state.cpu.keys()) if (!seen.has(id)) state.cpu.delete(id);
    return percents.length ? percents.reduce((a, b) => a + b, 0) / percents.length : null;
  }

  private journal(service: string, event: string, d: Decision, o: Observation): void {
    this.deps.store.journal.append({
      service,
      event,
      data: {
        message:
          d.action === 'scale'
            ? `autoscale ${d.from} → ${d.to}: ${d.reason}`
            : `autoscale holds ${d.from}: ${d.reason}`,
        from: d.from,
        to: d.to,
        wanted: d.wanted,
        reason: d.reason,
        rpsPerInstance: o.rpsPerInstance,
        cpuPercent: o.cpuPercent,
      },
    });
  }
}
