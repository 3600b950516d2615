// The level-triggered half of the controller. Desired state is in the store (each service's
// spec and stable revision); actual state is read from Docker (containers by label) and from
// the proxy (its route table). A pass, run at start, on Docker events and every few seconds,
// converges the two for every service no operation holds, and writes each action to the journal
// with its reason. Rollouts a crash interrupted are handed to recovery.
import { setTimeout as sleep } from 'node:timers/promises';
import { toHotswapError } from '../errors.js';
import type { Router, RouteTable, ServiceConfig, ServiceRoute } from '../proxy/types.js';
import type { Instance, Runtime } from '../runtime/types.js';
import type { ServiceSpec } from '../spec/types.js';
import type { RolloutRecord, ServiceRecord, Store } from '../store/index.js';
import { CALM_MS, Healing } from './healing.js';
import { InstanceOps } from './instance-ops.js';
import type { LiveInstance } from './live-group.js';
import { dropDead } from './recovery.js';
import type { Rollout } from './rollout.js';
import { previewName, serviceConfig } from './service-config.js';
import { canonicalJson } from '../spec/index.js';
import { RECONCILE, type ServiceLocks } from './service-lock.js';
import { trafficWeights } from './weights.js';
import { answersHealth, observeService, sameWeights, type ServiceWorld } from './world.js';

/** A container event worth a pass: the service it belongs to and what happened. */
export interface RuntimeEvent {
  service: string | null;
  action: string;
  /** The container's id. */
  id?: string;
}

export interface ReconcilerDeps {
  runtime: Runtime;
  router: Router;
  store: Store;
  locks: ServiceLocks;
  active: Map<string, Rollout>;
  /** Ejected by the health monitor and waiting to recover: not an orphan while it runs. */
  isEjected: (id: string) => boolean;
  /** Starts recovering an interrupted rollout (in the background, under the service lock). */
  recover: (record: RolloutRecord) => void;
  /** Docker's container events; the stream is followed again whenever it ends. */
  events?: (signal: AbortSignal) => AsyncIterable<RuntimeEvent>;
  intervalMs?: number;
  log?: (line: string) => void;
}

export const RECONCILE_INTERVAL_MS = 5000;
const CONVERGE_CONCURRENCY = 4;
const PREVIEW_SUFFIX = previewName('');
const EVENT_ACTIONS = new Set(['die', 'destroy', 'oom', 'stop', 'kill']);

export class Reconciler {
  private readonly healing = new Healing();
  private timer: NodeJS.Timeout | null = null;
  private aborter: AbortController | null = null;
  private running: Promise<void> | null = null;
  private again: string | null = null;
  private debounce: NodeJS.Timeout | null = null;
  private lastError: string | null = null;
  /** Containers Docker reported dead; its list can show them running for a moment longer. */
  private readonly died = new Map<string, number>();

  constructor(private readonly deps: ReconcilerDeps) {}

  start(): void {
    this.aborter = new AbortController();
    const every = this.deps.intervalMs ?? RECONCILE_INTERVAL_MS;
    this.timer = setInterval(() => void this.kick('periodic'), every);
    this.timer.unref();
    if (this.deps.events) void this.follow(this.deps.events, this.aborter.signal);
    void this.kick('daemon start');
  }

  stop(): void {
    if (this.timer) clearInterval(this.timer);
    if (this.debounce) clearTimeout(this.debounce);
    this.timer = null;
    this.aborter?.abort();
  }

  degraded(service: string): string | null {
    return this.healing.degraded(service);
  }

  /** Runs a pass now, or right after the one in progress. Resolves when that pass ends. */
  kick(reason: string): Promise<void> {
    if (this.running) {
      this.again = reason;
      return this.running;
    }
    this.running = this.pass(reason)
      .catch((err: unknown) => this.error(err))
      .finally(() => {
        this.running = null;
        const next = this.again;
        this.again = null;
        if (next !== null) void this.kick(next);
      });
    return this.running;
  }

  /** Several events in a burst (a dockerd restart kills everything) make one pass. */
  soon(reason: string, delayMs = 200): void {
    if (this.debounce) return;
    this.debounce = setTimeout(() => {
      this.debounce = null;
      void this.kick(reason);
    }, delayMs);
    this.debounce.unref();
  }

  private async follow(
    events: (signal: AbortSignal) => AsyncIterable<RuntimeEvent>,
    signal: AbortSignal,
  ): Promise<void> {
    while (!signal.aborted) {
      try {
        for await (const e of events(signal)) {
          if (e.id && (e.action === 'die' || e.action === 'oom')) this.died.set(e.id, Date.now());
          if (EVENT_ACTIONS.has(e.action)) this.soon(`docker: ${e.action} (${e.service ?? '?'})`);
        }
      } catch {
        // The engine went away (restarting?); follow it again below.
      }
      if (signal.aborted) return;
      await sleep(1000, undefined, { signal }).catch(() => undefined);
      this.soon('docker events followed again');
    }
  }

  private async pass(reason: string): Promise<void> {
    const { store, router, runtime, locks } = this.deps;
    if (!store.writes.flush()) {
      // Writes wait for room on the disk: the store is behind what happened (a rollout undone,
      // a new stable revision), and acting on it would undo what is right.
      this.error(`reconcile waits: ${store.writes.backlog()?.error ?? 'the store cannot write'}`);
      return;
    }
    const table = await router.table();
    const containers = this.withDeaths(await runtime.listInstances());
    this.lastError = null;
    const unfinished = new Set<string>();
    for (const r of store.rollouts.unfinished()) {
      unfinished.add(r.service);
      if (locks.busy(r.service) === null) this.deps.recover(r);
    }
    const services = store.services.list();
    const todo: string[] = [];
    for (const svc of services) {
      if (locks.busy(svc.name) !== null) {
        await this.repairRolloutRoute(svc.name, table);
        continue;
      }
      if (unfinished.has(svc.name)) continue;
      if (this.needsWork(svc, observeService(svc.name, table, containers))) todo.push(svc.name);
      else this.calm(svc.name);
    }
    // On a cluster, a service at rest whose instances crowd a node (a lost node came back) is
    // spread again, one instance at a time (converge → respread).
    if (runtime.crowded) {
      for (const svc of services) {
        const busy = locks.busy(svc.name) !== null || unfinished.has(svc.name);
        if (busy || todo.includes(svc.name) || svc.stableRevision === null) continue;
        const crowded = await runtime.crowded(svc.name, svc.stableRevision).catch(() => []);
        if (crowded.length > 0) todo.push(svc.name);
      }
    }
    // Services converge side by side (after a dockerd restart all of them need new instances),
    // a few at a time so health gating does not starve the machine.
    await inParallel(todo, CONVERGE_CONCURRENCY, (name) =>
      locks
        .with(name, RECONCILE, () => this.converge(name, reason))
        .catch((err: unknown) => this.error(err, name)),
    );
    await this.removeStrays(services, table, containers, reason);
  }

  /** The list, corrected with the deaths the event stream already told of. */
  private withDeaths(list: Instance[]): Instance[] {
    const now = Date.now();
    for (const [id, at] of this.died) if (now - at > 60_000) this.died.delete(id);
    return list.map((c) =>
      this.died.has(c.id) && c.state === 'running' ? { ...c, state: 'exited', address: null } : c,
    );
  }

  private needsWork(svc: ServiceRecord, world: ServiceWorld): boolean {
    const stable = svc.stableRevision;
    const want = stable === null ? 0 : svc.spec.replicas;
    if (!world.route) return want > 0 || world.containers.length > 0;
    if (!sameConfig(world.route, serviceConfig(svc.spec))) return true;
    if (world.dead.length > 0) return true;
    if (world.serving.length !== want || world.serving.some((i) => i.revision !== stable))
      return true;
    if (!sameWeights(world.route.weights, trafficWeights([], world.serving, stable ?? 0, null)))
      return true;
    const known = this.knownIds(svc.name, world);
    return world.containers.some((c) => !known.has(c.id));
  }

  private knownIds(service: string, world: ServiceWorld): Set<string> {
    return new Set([
      ...world.serving.map((i) => i.id),
      ...world.draining,
      ...this.deps.store.warm.list(service).map((w) => w.instanceId),
      ...world.containers
        .filter((c) => c.state === 'running' && this.deps.isEjected(c.id))
        .map((c) => c.id),
    ]);
  }

  /** Brings one service at rest to its declared state. Runs under the service lock. */
  private async converge(name: string, reason: string): Promise<void> {
    const { store, router, runtime } = this.deps;
    const svc = store.services.get(name);
    if (!svc) return;
    const spec = svc.spec;
    const rev = svc.stableRevision === null ? null : store.revisions.get(name, svc.stableRevision);
    const note = this.noter(name, reason);
    const world = observeService(
      name,
      await router.table(),
      this.withDeaths(await runtime.listInstances({ service: name })),
    );
    if (!world.route || !sameConfig(world.route, serviceConfig(spec))) {
      await router.ensureService(name, serviceConfig(spec));
      note('route.restored', `route of ${name} pushed to the proxy again`, {
        reason: world.route ? 'the proxy route differs from the spec' : 'the proxy had no route',
      });
    }
    for (const b of world.dead) await dropDead({ router, runtime }, name, b, note);
    // Instances that die together (a dockerd restart, a host OOM) count as one failure.
    if (world.dead.length > 0) this.failed(name, `${world.dead.length} instance(s) exited`, note);
    const ops = new InstanceOps({ runtime, router, store }, spec, (e, m, d) => note(e, m, d));
    const want = rev ? spec.replicas : 0;
    const known = this.knownIds(name, world);
    for (const b of world.dead) known.add(b.id); // removed with its backend above
    const good = world.serving.filter((i) => i.revision === rev?.number);
    const others = world.serving.filter((i) => i.revision !== rev?.number);
    const stable = rev?.number ?? 0;
    let weights = world.route?.weights;
    if (rev) await this.adopt(spec, rev.number, world.containers, known, good, note);
    // Adopted instances take traffic now, not after the replacements below are healthy.
    weights = await this.setWeights(name, stable, good, others, weights, note);
    await this.removeOrphans(world.containers, known, note);
    if (rev && good.length < want)
      await this.replace(spec, rev.number, ops, good, want - good.length, note);
    // Extra instances of the stable revision, and any of another revision once the stable one is
    // at full strength, leave: out of the weights first, then drained, then stopped.
    const extra = good.splice(want);
    const leaving = [...extra, ...(good.length >= want ? others.splice(0) : [])];
    await this.setWeights(name, stable, good, others, weights, note);
    for (const i of leaving) {
      note('instance.retired', `${i.id.slice(0, 12)} (r${i.revision}) leaves`, {
        id: i.id,
        reason:
          i.revision === rev?.number
            ? 'more instances than declared'
            : `r${i.revision} is not the stable revision`,
      });
      await ops.drain(i).catch(() => 0);
      await ops.retire(i.id);
    }
    if (rev && leaving.length === 0 && good.length === want)
      await this.respread(spec, rev.number, ops, good, note);
  }

  /**
   * Cluster backends: an instance on a crowded node is replaced by one the backend places on the
   * emptiest node; the new one serves (health-gated) before the old one is drained and stopped.
   */
  private async respread(
    spec: ServiceSpec,
    revision: number,
    ops: InstanceOps,
    good: LiveInstance[],
    note: Note,
  ): Promise<void> {
    const crowded = (await this.deps.runtime.crowded?.(spec.name, revision)) ?? [];
    const move = good.find((i) => crowded.includes(i.id));
    if (!move) return;
    note('instance.respread', `${move.id.slice(0, 12)} moves off a crowded node`, {
      id: move.id,
      reason: 'its node holds two more instances than another',
    });
    try {
      const [fresh] = await ops.startReady(this.deps.store.revisions.get(spec.name, revision)!, 1);
      await this.deps.router.addBackend(spec.name, fresh!);
    } catch (err) {
      await ops.removePending().catch(() => undefined);
      note('instance.respread-failed', `respread failed: ${toHotswapError(err).message}`, {});
      return;
    }
    await ops.drain(move).catch(() => 0);
    await ops.retire(move.id);
  }

  /** Containers of the stable revision that run and answer but the proxy lost: served again. */
  private async adopt(
    spec: ServiceSpec,
    revision: number,
    containers: Instance[],
    known: Set<string>,
    good: LiveInstance[],
    note: Note,
  ): Promise<void> {
    for (const c of containers) {
      if (good.length >= spec.replicas) return;
      if (
        known.has(c.id) ||
        c.revision !== revision ||
        !(await answersHealth(spec, c, this.deps.runtime))
      )
        continue;
      const live = { id: c.id, revision, address: c.address! };
      await this.deps.router.addBackend(spec.name, live);
      good.push(live);
      known.add(c.id);
      note('instance.adopted', `${c.name} runs and answers: back in the proxy`, {
        id: c.id,
        reason: 'running and healthy, missing from the proxy',
      });
    }
  }

  private async removeOrphans(
    containers: Instance[],
    known: Set<string>,
    note: Note,
  ): Promise<void> {
    for (const c of containers) {
      if (known.has(c.id)) continue;
      const reason =
        c.state === 'running' ? 'unknown to the store and the proxy' : `${c.state} and not serving`;
      note('orphan.removed', `removing ${c.name}: ${reason}`, {
        id: c.id,
        revision: c.revision,
        state: c.state,
        reason,
      });
      await this.deps.runtime.removeInstance(c.id);
    }
  }

  /** Self-healing: new instances of the stable revision, health-gated, with backoff. */
  private async replace(
    spec: ServiceSpec,
    revision: number,
    ops: InstanceOps,
    good: LiveInstance[],
    missing: number,
    note: Note,
  ): Promise<void> {
    const wait = this.healing.waitMs(spec.name);
    if (wait > 0) {
      note('instances.backoff', `replacing ${missing} instance(s) of ${spec.name} in ${wait} ms`, {
        waitMs: wait,
        reason: 'backoff after failures',
      });
      setTimeout(() => this.soon('backoff ended', 0), wait).unref();
      return;
    }
    const rev = this.deps.store.revisions.get(spec.name, revision)!;
    note('instances.replacing', `starting ${missing} instance(s) of r${revision}`, {
      missing,
      reason: `${good.length} of ${spec.replicas} declared instance(s) serve`,
    });
    try {
      const started = await ops.startReady(rev, missing);
      for (const live of started) {
        await this.deps.router.addBackend(spec.name, live);
        good.push(live);
      }
    } catch (err) {
      await ops.removePending().catch(() => undefined);
      this.failed(spec.name, `replacement failed: ${toHotswapError(err).message}`, note);
    }
  }

  private async setWeights(
    name: string,
    stable: number,
    good: LiveInstance[],
    others: LiveInstance[],
    current: Record<string, number> | undefined,
    note: Note,
  ): Promise<Record<string, number>> {
    const weights = trafficWeights(others, good, stable, null);
    if (current && sameWeights(current, weights)) return current;
    await this.deps.router.setWeights(name, weights);
    note('weights.restored', `weights of ${name} set to ${JSON.stringify(weights)}`, {
      weights,
      reason: 'the proxy weights differ from the instances that serve',
    });
    return weights;
  }

  /** Containers of services the store does not know, and proxy routes of no service. */
  private async removeStrays(
    services: ServiceRecord[],
    table: RouteTable,
    containers: Instance[],
    reason: string,
  ): Promise<void> {
    const { locks } = this.deps;
    const names = new Set(services.map((s) => s.name));
    const strays = new Set(containers.filter((c) => !names.has(c.service)).map((c) => c.service));
    for (const route of Object.keys(table.services)) if (!names.has(route)) strays.add(route);
    for (const stray of strays) {
      // A preview route belongs to its service's blue-green rollout while one runs.
      const owner = stray.endsWith(PREVIEW_SUFFIX) ? stray.slice(0, -PREVIEW_SUFFIX.length) : stray;
      if (locks.busy(owner) !== null) continue;
      await locks
        .with(owner, RECONCILE, () => this.removeStray(stray, reason))
        .catch((err: unknown) => this.error(err, stray));
    }
  }

  private async removeStray(stray: string, reason: string): Promise<void> {
    const { router, runtime, store } = this.deps;
    if (store.services.get(stray)) return; // created since the pass began
    const note = this.noter(stray, reason);
    const route = (await router.table()).services[stray];
    if (route) {
      for (const b of route.backends.filter((x) => x.state === 'active'))
        await router.drain(stray, b.id, route.longConnections.timeoutMs).catch(() => undefined);
      await router.removeService(stray);
      note('route.removed', `proxy route ${stray} removed`, {
        reason: 'no service of the store owns it',
      });
    }
    await this.removeOrphans(await runtime.listInstances({ service: stray }), new Set(), note);
  }

  /** A rollout holds the service: if the proxy lost its route, push what the rollout serves. */
  private async repairRolloutRoute(name: string, table: RouteTable): Promise<void> {
    const rollout = this.deps.active.get(name);
    if (!rollout || table.services[name]) return;
    const { backends, weights } = rollout.desiredRoute();
    await this.deps.router.ensureService(name, serviceConfig(rollout.spec));
    for (const b of backends) await this.deps.router.addBackend(name, b);
    await this.deps.router.setWeights(name, weights);
    this.noter(name, 'proxy lost the route')(
      'route.restored',
      `route of ${name} pushed again mid-rollout`,
      {
        reason: 'the proxy had no route while a rollout ran',
      },
    );
  }

  private failed(service: string, why: string, note: Note): void {
    const degraded = this.healing.failed(service, why);
    if (degraded !== null)
      note('service.degraded', `${service} is degraded: ${degraded}`, { reason: degraded });
  }

  /** Called when a pass finds the service converged. */
  private calm(service: string): void {
    if (this.healing.calm(service))
      this.noter(service, 'calm')('service.recovered', `${service} serves at full strength again`, {
        reason: `no failure for ${CALM_MS / 1000} s`,
      });
  }

  private noter(service: string, reason: string): Note {
    return (event, message, data = {}) => {
      this.deps.store.journal.append({
        service,
        event,
        data: { trigger: reason, message, ...(data as object) },
        message,
      });
    };
  }

  private error(err: unknown, service?: string): void {
    const message = toHotswapError(err).message;
    if (message === this.lastError) return;
    this.lastError = message;
    try {
      // The daemon's log shows every journal entry: this one too.
      this.deps.store.journal.append({
        service: service ?? null,
        event: 'reconcile.error',
        data: { message },
        message: `reconcile: ${message}`,
      });
    } catch {
      // The store itself failing: the log line is all that is left.
      this.deps.log?.(`reconcile${service ? ` ${service}` : ''}: ${message}`);
    }
  }
}

type Note = (event: string, message: string, data?: unknown) => void;

/** Runs `fn` over the items, at most `limit` at a time. */
async function inParallel<T>(
  items: T[],
  limit: number,
  fn: (item: T) => Promise<unknown>,
): Promise<void> {
  const queue = [...items];
  const worker = async (): Promise<void> => {
    for (let item = queue.shift(); item !== undefined; item = queue.shift()) await fn(item);
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
}

/** Whether the proxy's route has the listener and rules the spec declares. */
function sameConfig(route: ServiceRoute, want: ServiceConfig): boolean {
  const norm = (c: ServiceConfig): string =>
    canonicalJson([
      c.listen,
      c.mode ?? 'http',
      c.hosts ?? [],
      c.pathPrefix ?? null,
      c.sticky ?? null,
      c.longConnections ?? null,
      c.private ?? [],
    ]);
  return norm(route) === norm(want);
}
