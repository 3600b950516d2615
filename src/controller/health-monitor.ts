// Keeps probing the instances that serve. One that fails unhealthyThreshold probes in a row
// leaves the balancer (drained like any old instance); it comes back after healthyThreshold
// passes in a row. A service with a rollout in progress is left to its rollout.
import { probe, type ProbeTarget } from '../health/index.js';
import type { Router } from '../proxy/types.js';
import type { ServiceSpec } from '../spec/types.js';
import type { Store } from '../store/index.js';
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

export class HealthMonitor {
  private readonly tracked = new Map<string, Tracked>();
  private timer: NodeJS.Timeout | null = null;
  private running = false;

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

  /** One pass over every service; exposed for tests. */
  async tick(now = Date.now()): Promise<void> {
    if (this.running) return;
    this.running = true;
    try {
      const table = await this.deps.router.table();
      for (const svc of this.deps.store.services.list()) {
        if (this.deps.busy(svc.name)) continue;
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
    this.note(spec.name, 'instance.unhealthy', {
      id: t.instance.id,
      fails: t.fails,
      lastProbe: detail,
    });
    await this.deps.router
      .drain(spec.name, t.instance.id, spec.drain.timeoutMs)
      .catch(() => undefined);
  }

  private async restore(spec: ServiceSpec, t: Tracked): Promise<void> {
    t.ejected = false;
    t.fails = 0;
    this.note(spec.name, 'instance.recovered', { id: t.instance.id, passes: t.passes });
    await this.deps.router.addBackend(spec.name, t.instance);
  }

  private note(service: string, event: string, data: unknown): void {
    this.deps.store.journal.append({ service, event, data });
  }
}
