// Runs one rollout: asks the strategy for the next step, writes it to the journal, carries it out
// against the runtime and the router, and on any failure puts the stable revision back.
import { HotswapError, toHotswapError } from '../errors.js';
import { waitReady } from '../health/index.js';
import type { Router } from '../proxy/types.js';
import type { InstanceRequest, Runtime } from '../runtime/types.js';
import type { ServiceSpec } from '../spec/types.js';
import type { RevisionRecord, RolloutKind, RolloutRecord, Store } from '../store/index.js';
import { nextStep, type Step } from '../strategies/index.js';
import { pickToStop, weightsFor, type LiveInstance } from './live-group.js';
import type { Reporter } from './progress.js';

export interface RolloutDeps {
  runtime: Runtime;
  router: Router;
  store: Store;
}

export interface RolloutPlan {
  kind: RolloutKind;
  spec: ServiceSpec;
  target: RevisionRecord;
  /** The revision serving before; restored on failure. Null on a first deploy. */
  stable: RevisionRecord | null;
  /** Instances in the proxy when the rollout starts. */
  serving: LiveInstance[];
}

export interface RolloutOutcome {
  rollout: RolloutRecord;
  ok: boolean;
  reason: string | null;
}

const MAX_STEPS = 1000;

export class Rollout {
  private old: LiveInstance[];
  private next: LiveInstance[];
  /** Containers this rollout started that are not serving yet: removed if it fails. */
  private readonly pending = new Set<string>();
  /** Instances this rollout put into the proxy. */
  private readonly added = new Set<string>();
  private record!: RolloutRecord;

  constructor(
    private readonly deps: RolloutDeps,
    private readonly plan: RolloutPlan,
    private readonly report: Reporter,
    private readonly signal?: AbortSignal,
  ) {
    this.old = plan.serving.filter((i) => i.revision !== plan.target.number);
    this.next = plan.serving.filter((i) => i.revision === plan.target.number);
  }

  async run(): Promise<RolloutOutcome> {
    const { store } = this.deps;
    const { spec, target, stable, kind } = this.plan;
    this.record = store.rollouts.start({
      service: spec.name,
      kind,
      from: stable?.number ?? null,
      to: target.number,
      strategy: spec.strategy.type,
    });
    this.journal(
      'rollout.started',
      `rollout #${this.record.id}: r${stable?.number ?? '-'} → r${target.number} (${spec.strategy.type})`,
      {
        from: stable?.number ?? null,
        to: target.number,
        kind,
      },
    );
    try {
      await this.deps.router.ensureService(spec.name, spec.listen);
      await this.runSteps();
    } catch (err) {
      const reason = toHotswapError(err).message;
      const restored = await this.rollBack(reason);
      const fullReason = restored ? reason : `${reason}; restoring the stable revision failed too`;
      store.rollouts.finish(this.record.id, 'failed', fullReason);
      if (target.status === 'pending')
        store.revisions.setStatus(spec.name, target.number, 'failed');
      this.journal('rollout.failed', `rollout #${this.record.id} failed: ${fullReason}`, {
        reason: fullReason,
      });
      return { rollout: store.rollouts.get(this.record.id)!, ok: false, reason: fullReason };
    }
    this.promote();
    return { rollout: store.rollouts.get(this.record.id)!, ok: true, reason: null };
  }

  private async runSteps(): Promise<void> {
    for (let i = 0; i < MAX_STEPS; i++) {
      this.signal?.throwIfAborted();
      const step = nextStep(this.plan.spec.strategy, {
        desired: this.plan.spec.replicas,
        old: this.old.length,
        next: this.next.length,
      });
      if (step.kind === 'done') return;
      await this.runStep(step);
    }
    throw new HotswapError('INTERNAL', 'strategy did not converge');
  }

  private async runStep(step: Exclude<Step, { kind: 'done' }>): Promise<void> {
    const detail = { ...step, old: this.old.length, next: this.next.length };
    const row = this.deps.store.rollouts.beginStep(this.record.id, step.kind, detail);
    try {
      if (step.kind === 'start') await this.startInstances(this.plan.target, step.count, 'next');
      else await this.stopInstances(step.group, step.count);
      this.deps.store.rollouts.endStep(row.id, 'done');
    } catch (err) {
      this.deps.store.rollouts.endStep(row.id, 'failed');
      throw err;
    }
  }

  /** Starts instances, waits for each to pass its probe healthyThreshold times, then lets them serve. */
  private async startInstances(
    revision: RevisionRecord,
    count: number,
    into: 'old' | 'next',
  ): Promise<void> {
    const { runtime, router } = this.deps;
    const name = this.plan.spec.name;
    this.journal('instances.starting', `starting ${count} instance(s) of r${revision.number}`, {
      revision: revision.number,
      count,
    });
    const request = instanceRequest(this.plan.spec, revision);
    const started = await Promise.allSettled(
      Array.from({ length: count }, () => runtime.startInstance(request)),
    );
    const instances = started.flatMap((r) => (r.status === 'fulfilled' ? [r.value] : []));
    instances.forEach((i) => this.pending.add(i.id));
    const failed = started.find((r): r is PromiseRejectedResult => r.status === 'rejected');
    if (failed) throw toHotswapError(failed.reason);

    const abort = new AbortController();
    const onOuterAbort = (): void => abort.abort(this.signal?.reason);
    this.signal?.addEventListener('abort', onOuterAbort, { once: true });
    try {
      await Promise.all(
        instances.map((inst) =>
          waitReady({
            runtime,
            instanceId: inst.id,
            address: inst.address!,
            health: this.plan.spec.health,
            signal: abort.signal,
          }),
        ),
      );
    } catch (err) {
      abort.abort(err);
      throw err;
    } finally {
      this.signal?.removeEventListener('abort', onOuterAbort);
    }

    for (const inst of instances) {
      const live = { id: inst.id, revision: revision.number, address: inst.address! };
      this.journal(
        'instance.joining',
        `${inst.name} healthy at ${inst.address}, joining the proxy`,
        live,
      );
      await router.addBackend(name, live);
      this[into].push(live);
      this.added.add(inst.id);
      this.pending.delete(inst.id);
    }
    await this.applyWeights();
  }

  /** Zero-downtime rule 2: out of the balancer, drain in-flight, then SIGTERM, SIGKILL after the grace period. */
  private async stopInstances(group: 'old' | 'next', count: number): Promise<void> {
    const victims = pickToStop(this[group], count);
    const ids = new Set(victims.map((v) => v.id));
    this[group] = this[group].filter((i) => !ids.has(i.id));
    this.journal('instances.stopping', `draining and stopping ${victims.length} instance(s)`, {
      ids: [...ids],
    });
    await this.applyWeights();
    await Promise.all(victims.map((v) => this.retire(v.id, true)));
  }

  private async retire(id: string, inProxy: boolean): Promise<void> {
    const { router, runtime } = this.deps;
    const { spec } = this.plan;
    if (inProxy) {
      const drained = await router.drain(spec.name, id, spec.drain.timeoutMs);
      this.journal('instance.drained', `${id.slice(0, 12)} drained in ${drained.waitedMs} ms`, {
        id,
        ...drained,
      });
    }
    await runtime.stopInstance(id, spec.stopGracePeriodMs);
    await runtime.removeInstance(id);
  }

  /** Weights follow instance counts; the proxy must confirm them before the next step. */
  private async applyWeights(): Promise<void> {
    const { router } = this.deps;
    const name = this.plan.spec.name;
    const weights = weightsFor([...this.old, ...this.next]);
    weights[String(this.plan.target.number)] ??= 0;
    this.journal('weights.set', `weights ${JSON.stringify(weights)}`, { weights });
    await router.setWeights(name, weights);
    if (!(await router.verifyWeights(name, weights))) {
      throw new HotswapError(
        'PROXY_REJECTED',
        `proxy did not confirm weights ${JSON.stringify(weights)}`,
      );
    }
  }

  /** Puts all traffic back on the stable revision and removes what this rollout started. */
  private async rollBack(reason: string): Promise<boolean> {
    this.journal('rollback.started', `rolling back: ${reason}`, { reason });
    try {
      // A failed scale of the stable revision keeps the instances that served before it.
      const keep = (i: LiveInstance): boolean =>
        this.plan.stable?.number === this.plan.target.number && !this.added.has(i.id);
      const leaving = this.next.filter((i) => !keep(i));
      this.next = this.next.filter(keep);
      await this.applyWeights();
      await Promise.all([
        ...leaving.map((i) => this.retire(i.id, true)),
        ...[...this.pending].map((id) => this.retire(id, false)),
      ]);
      this.pending.clear();
      const stable = this.plan.stable;
      const missing = this.plan.spec.replicas - this.old.length;
      if (stable && stable.number !== this.plan.target.number && missing > 0) {
        await this.startInstances(stable, missing, 'old');
      }
      this.journal('rollback.finished', `traffic back on r${stable?.number ?? '-'}`, {
        serving: this.old.length,
      });
      return true;
    } catch (err) {
      this.journal('rollback.error', `rollback step failed: ${toHotswapError(err).message}`, {});
      return false;
    }
  }

  private promote(): void {
    const { store } = this.deps;
    const { spec, target } = this.plan;
    for (const rev of store.revisions.list(spec.name)) {
      if (rev.number !== target.number && rev.status === 'active')
        store.revisions.setStatus(spec.name, rev.number, 'retired');
    }
    store.revisions.setStatus(spec.name, target.number, 'active');
    store.services.upsert(spec);
    store.services.setStable(spec.name, target.number);
    store.rollouts.finish(this.record.id, 'succeeded', null);
    this.journal(
      'rollout.succeeded',
      `rollout #${this.record.id} done: r${target.number} serves ${this.next.length} instance(s)`,
      {
        revision: target.number,
      },
    );
  }

  /** Journal first, then tell the user: the journal is what recovery reads. */
  private journal(event: string, message: string, data: unknown): void {
    const entry = this.deps.store.journal.append({
      service: this.plan.spec.name,
      rolloutId: this.record?.id ?? null,
      event,
      data,
    });
    this.report({
      at: entry.at,
      service: this.plan.spec.name,
      rolloutId: this.record?.id,
      event,
      message,
      data,
    });
  }
}

export function instanceRequest(spec: ServiceSpec, revision: RevisionRecord): InstanceRequest {
  // Containers run the revision's recorded image id, not the tag: a tag can move, a revision cannot.
  const rev = revision.spec;
  return {
    service: spec.name,
    revision: revision.number,
    image: revision.imageId,
    env: rev.env,
    command: rev.command,
    port: rev.port,
    volumes: rev.volumes,
    stopGracePeriodMs: spec.stopGracePeriodMs,
  };
}
