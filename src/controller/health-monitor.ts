// Keeps probing the instances that serve. One that fails unhealthyThreshold probes in a row
// leaves the balancer (drained like any old instance); it comes back after healthyThreshold
// passes in a row. A service with a rollout in progress is left to its rollout.
import { probe, type ProbeTarget } from '../health/index.js';
import type { RouteTable, Router } from '../proxy/types.js';
import type { ServiceSpec } from '../spec/types.js';
import type { ServiceRecord, Store } from '../store/index.js';
import { fromBackends, type LiveInstance } from './live-group.js';

interface Tracked {
  service: string;
  instance: LiveInstance;
  fails: number;
  passes: number;
  ejected: boolean;
  nextProbeAt: number;
}

export interface MonitorDeps {
  router: Router;
  store: Store;
  /** True while a rollout or another operation owns the service. */
  busy: (service: string) => boolean;
  /** For exec and docker probes. */
  runtime: ProbeTarget['runtime'];
  /** Whether the container still exists; a removed one is forgotten. */
  exists: (id: string) => Promise<boolean>;
}

const TICK_MS = 250;
/** How long the route table and the service list read by a tick are used again. */
const VIEW_MS = 1000;

interface View {
  at: number;
  table: RouteTable;
  services: ServiceRecord[];
  busy: Set<string>;
  busyKey: string;
}

export class HealthMonitor {
  private readonly tracked = new Map<string, Tracked>();
  private timer: NodeJS.Timeout | null = null;
  private running = false;
  private cached: View | null = null;

  constructor(private readonly deps: MonitorDeps) {}

  start(): void {
    // A tick fails when the proxy is away (being restarted or upgraded): the next tick retries.
    this.timer = setInterval(() => void this.tick().catch(() => undefined), TICK_MS);
    this.timer.unref();
  }

  stop(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
  }

  /** Taken out of the balancer by this monitor and waiting to pass its probes again. */
  isEjected(id: string): boolean {
    return this.tracked.get(id)?.ejected ?? false;
  }

  /**
   * The services and what serves them, read again at most every VIEW_MS: with many services the
   * route table and the specs are most of an idle daemon's work (and of the proxy's). A change of
   * which services are busy (a rollout or a reconcile pass began or ended) or a route this monitor
   * changed itself reads them at once, so a stale view never outlives the change that made it.
   */
  private async view(now: number): Promise<View> {
    const services = this.cached?.services ?? this.deps.store.services.list();
    const busy = new Set(services.filter((s) => this.deps.busy(s.name)).map((s) => s.name));
    const key = [...busy].join('\n');
    if (this.cached && now - this.cached.at < VIEW_MS && this.cached.busyKey === key)
      return this.cached;
    const table = await this.deps.router.table();
    const fresh = this.deps.store.services.list();
    const freshBusy = new Set(fresh.filter((s) => this.deps.busy(s.name)).map((s) => s.name));
    this.cached = {
      at: now,
      table,
      services: fresh,
      busy: freshBusy,
      busyKey: [...freshBusy].join('\n'),
    };
    return this.cached;
  }

  /** One pass over every service; exposed for tests. */
  async tick(now = Date.now()): Promise<void> {
    if (this.running) return;
    this.running = true;
    try {
      const { table, services, busy } = await this.view(now);
      for (const svc of services) {
        if (busy.has(svc.name)) continue;
        const serving = fromBackends(table.services[svc.name]?.backends ?? []);
        await this.checkService(svc.spec, serving, now);
      }
    } finally {
      this.running = false;
    }
  }

  private async checkService(
    spec: ServiceSpec,
    serving: LiveInstance[],
    now: number,
  ): Promise<void> {
    for (const i of serving) {
      if (!this.tracked.has(i.id)) {
        this.tracked.set(i.id, {
          service: spec.name,
          instance: i,
          fails: 0,
          passes: 0,
          ejected: false,
          nextProbeAt: now,
        });
      }
    }
    const servingIds = new Set(serving.map((i) => i.id));
    const mine = [...this.tracked.values()].filter((t) => t.service === spec.name);
    for (const t of mine) {
      if (!servingIds.has(t.instance.id) && !t.ejected) this.tracked.delete(t.instance.id); // left by a rollout or down
    }
    const left = { serving: serving.length };
    const due = mine.filter((t) => this.tracked.has(t.instance.id) && t.nextProbeAt <= now);
    await Promise.all(due.map((t) => this.check(spec, t, now, left)));
  }

  private async check(
    spec: ServiceSpec,
    t: Tracked,
    now: number,
    left: { serving: number },
  ): Promise<void> {
    const { health } = spec;
    t.nextProbeAt = now + health.intervalMs;
    if (t.ejected && !(await this.deps.exists(t.instance.id))) {
      this.tracked.delete(t.instance.id);
      return;
    }
    const target = {
      instanceId: t.instance.id,
      address: t.instance.address,
      runtime: this.deps.runtime,
    };
    const result = await probe(health.check, target, health.timeoutMs);
    t.fails = result.ok ? 0 : t.fails + 1;
    t.passes = result.ok ? t.passes + 1 : 0;
    // The last serving instance stays: a degraded answer beats a 503 for everyone.
    if (!t.ejected && t.fails >= health.unhealthyThreshold && left.serving > 1) {
      left.serving--;
      await this.eject(spec, t, result.detail);
    } else if (t.ejected && t.passes >= health.healthyThreshold) await this.restore(spec, t);
  }

  private async eject(spec: ServiceSpec, t: Tracked, detail: string): Promise<void> {
    t.ejected = true;
    this.cached = null;
    this.note(spec.name, 'instance.unhealthy', {
      id: t.instance.id,
      fails: t.fails,
      lastProbe: detail,
    });
    await this.deps.router
      .drain(spec.name, t.instance.id, spec.drain.timeoutMs, { unhealthy: true })
      .catch(() => undefined);
  }

  private async restore(spec: ServiceSpec, t: Tracked): Promise<void> {
    t.ejected = false;
    this.cached = null;
    t.fails = 0;
    this.note(spec.name, 'instance.recovered', { id: t.instance.id, passes: t.passes });
    await this.deps.router.addBackend(spec.name, t.instance);
  }

  private note(service: string, event: string, data: unknown): void {
    this.deps.store.journal.append({ service, event, data });
  }
}
