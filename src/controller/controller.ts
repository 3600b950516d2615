// The controller: the only writer of desired state. Turns "this spec" or "that revision" into a
// rollout, one service at a time, and answers what is running and what happened.
import { HotswapError } from '../errors.js';
import type { Router } from '../proxy/types.js';
import type { CheckpointSupport } from '../runtime/index.js';
import type { Instance, LogRequest, Runtime } from '../runtime/types.js';
import { assertCheckpointUsable } from './checkpoint-gate.js';
import { configHash } from '../spec/index.js';
import type { ServiceSpec, Spec } from '../spec/types.js';
import type { RevisionRecord, RolloutRecord, Store } from '../store/index.js';
import { HealthMonitor } from './health-monitor.js';
import { PostPromotionWatches } from './post-promotion.js';
import { fromBackends, type LiveInstance } from './live-group.js';
import { silentReporter, type Reporter } from './progress.js';
import { Reconciler, type RuntimeEvent } from './reconciler.js';
import { recoverRollout, specForRevision } from './recovery.js';
import { Rollout, type RolloutDeps } from './rollout.js';
import { stopSamplers, type ReportSampling } from '../report/sampler.js';
import { resizeInstances } from './resize.js';
import { Autoscaler } from './autoscaler.js';
import { previewName, serviceConfig } from './service-config.js';
import { ServiceLocks } from './service-lock.js';
import { followServiceLogs, type LogLine } from './log-follow.js';
import { planSpec, type ServicePlan } from './plan.js';
import { applyChains, DEFAULT_APPLY_PARALLEL, runBounded } from './parallel-apply.js';
import { isFilesOnlyChange, reloadService } from './reload-service.js';
import { attachNetworks, removeUnusedNetworks, withPeers } from './networks.js';

export interface DeployResult {
  service: string;
  outcome: 'succeeded' | 'failed' | 'unchanged';
  revision: number;
  rolloutId: number | null;
  reason: string | null;
  durationMs: number;
  /** Instant rollback: time from the command to the proxy confirming all traffic on the target. */
  flipMs?: number;
  /** Long connections the proxy cut while old instances drained. */
  cutConnections?: number;
}

export type RolloutAction = 'promote' | 'promote-full' | 'abort' | 'pause' | 'resume';

export interface ServiceStatus {
  name: string;
  listen: string;
  image: string;
  replicas: number;
  stableRevision: number | null;
  busy: string | null;
  weights: Record<string, number>;
  /** warmUntil: kept running out of the balancer for an instant rollback until then. */
  instances: Array<Instance & { serving: boolean; warmUntil: string | null }>;
  lastRollout: RolloutRecord | null;
  /** Why self-healing cannot keep the declared replicas (a crash loop), or null. */
  degraded: string | null;
  /** Private networks, with the gateway where the proxy answers for it on each (issue 16). */
  networks: Array<{ name: string; internal: boolean; gateway: string }>;
}

export interface ControllerOptions {
  /** Docker's container events, followed by the reconcile loop. */
  events?: (signal: AbortSignal) => AsyncIterable<RuntimeEvent>;
  reconcileIntervalMs?: number;
  /** How long undoing a failed rollout retries transient errors. */
  undoDeadlineMs?: number;
  log?: (line: string) => void;
  /** Impact reports: sample traffic and resources around each rollout (the daemon turns it on). */
  reports?: ReportSampling;
  autoscaleIntervalMs?: number;
  /** Whether docker checkpoint works here, found out at daemon start (issue 16). */
  checkpoint?: Promise<CheckpointSupport>;
}

const HOUSEKEEPING_MS = 1000;

export class Controller {
  private readonly locks = new ServiceLocks();
  private readonly active = new Map<string, Rollout>();
  private housekeeping: NodeJS.Timeout | null = null;
  private readonly monitor: HealthMonitor;
  private readonly reconciler: Reconciler;
  private readonly autoscaler: Autoscaler;
  private readonly recovering = new Set<number>();
  private readonly recoveryErrors = new Map<number, string>();
  private readonly watches: PostPromotionWatches;

  constructor(
    private readonly runtime: Runtime,
    private readonly router: Router,
    private readonly store: Store,
    private readonly options: ControllerOptions = {},
  ) {
    this.monitor = new HealthMonitor({
      router,
      store,
      busy: (service) => this.locks.busy(service) !== null,
      runtime,
      exists: async (id) => (await runtime.inspectInstance(id)) !== null,
    });
    this.reconciler = new Reconciler({
      runtime,
      router,
      store,
      locks: this.locks,
      active: this.active,
      isEjected: (id) => this.monitor.isEjected(id),
      recover: (record) => this.recover(record),
      events: options.events,
      intervalMs: options.reconcileIntervalMs,
      log: options.log,
    });
    this.watches = new PostPromotionWatches({
      router,
      store,
      rollback: (service, to) => this.rollback(service, to, silentReporter),
    });
    this.autoscaler = new Autoscaler({
      store,
      router,
      runtime,
      busy: (service) => this.locks.busy(service) !== null,
      scale: (service, replicas) => this.scale(service, replicas, silentReporter),
      intervalMs: options.autoscaleIntervalMs,
    });
  }

  /** Housekeeping and the reconcile loop, whose first pass recovers interrupted rollouts. */
  start(): void {
    this.startHousekeeping();
    this.reconciler.start();
    this.autoscaler.start();
  }

  /**
   * Stops the loops. Rollouts in progress are left as they are, for the next daemon to resume;
   * `abortRollouts` ends them here (tests, where a "crashed" controller shares the process).
   */
  close(opts: { abortRollouts?: boolean } = {}): void {
    this.stopHousekeeping();
    this.watches.stop();
    this.reconciler.stop();
    stopSamplers();
    this.autoscaler.stop();
    if (opts.abortRollouts)
      for (const r of this.active.values()) r.control.abort('controller closed');
  }

  /** A pass of the reconcile loop now (the proxy came back, a test wants convergence). */
  reconcileNow(reason: string): Promise<void> {
    return this.reconciler.kick(reason);
  }

  /** Runs the recovery of an interrupted rollout in the background, under the service lock. */
  private recover(record: RolloutRecord): void {
    if (this.recovering.has(record.id)) return;
    this.recovering.add(record.id);
    const deps = this.rolloutDeps();
    void this.locks
      .with(record.service, record.kind, async () => {
        const found = await recoverRollout(deps, record, silentReporter);
        if (!found) return;
        const { rollout, action, reason } = found;
        const register = (r: Rollout): void => void this.active.set(record.service, r);
        try {
          const outcome =
            action === 'resume'
              ? await rollout.run(register)
              : await rollout.undo(reason, register);
          this.options.log?.(
            `rollout #${record.id} of ${record.service} recovered (${action}): ${outcome.ok ? 'succeeded' : `failed: ${outcome.reason}`}`,
          );
        } finally {
          this.active.delete(record.service);
          this.watches.scan(); // a watch after promotion starts now, not at the next pass
        }
      })
      .catch((err: unknown) => {
        const message = (err as Error).message;
        // Retried every pass (Docker may be away for a while): said once per distinct error.
        if (this.recoveryErrors.get(record.id) === message) return;
        this.recoveryErrors.set(record.id, message);
        this.store.journal.append({
          service: record.service,
          rolloutId: record.id,
          event: 'recovery.error',
          data: { message, reason: 'retried by the next reconcile pass' },
          message: `recovering rollout #${record.id} failed: ${message}`,
        });
      })
      .finally(() => this.recovering.delete(record.id));
  }

  private rolloutDeps(): RolloutDeps {
    return {
      runtime: this.runtime,
      router: this.router,
      store: this.store,
      undoDeadlineMs: this.options.undoDeadlineMs,
      reports: this.options.reports,
    };
  }

  /** What apply would do, changing nothing (up --dry-run, diff). */
  plan(spec: Spec, only: string | undefined): Promise<ServicePlan[]> {
    return planSpec({ store: this.store, runtime: this.runtime }, spec, only);
  }

  /**
   * Brings each service of the spec (or just `only`) to its declared state. Independent services
   * roll in parallel, `parallel` at most at once (services sharing an address in turn); results
   * come in the spec's order.
   */
  async apply(
    spec: Spec,
    only: string | undefined,
    report: Reporter,
    parallel = DEFAULT_APPLY_PARALLEL,
  ): Promise<DeployResult[]> {
    const services =
      only === undefined ? spec.services : spec.services.filter((s) => s.name === only);
    if (only !== undefined && services.length === 0) {
      throw new HotswapError('NOT_FOUND', `service "${only}" is not declared in ${spec.file}`);
    }
    await assertCheckpointUsable(services, this.options.checkpoint);
    // Networks first: a name taken by a network hotswap did not create stops everything here.
    const peered = withPeers(this.store, services, spec.services);
    const attached = await attachNetworks(this.runtime, this.store, peered, spec.services);
    const byChain = await runBounded(applyChains(attached), parallel, async (chain) => {
      const out: DeployResult[] = [];
      for (const svc of chain)
        out.push(await this.locks.with(svc.name, 'update', () => this.deploy(svc, report)));
      return out;
    });
    const byName = new Map(byChain.flat().map((r) => [r.service, r]));
    return attached.map((s) => byName.get(s.name)!);
  }

  /**
   * Returns a service to an earlier revision (default: the one before the current). Within the
   * keepPrevious window the previous instances are still running: the proxy flips back to them
   * without re-running any step. After it, rollback is a normal rollout of the old revision.
   */
  async rollback(service: string, to: number | undefined, report: Reporter): Promise<DeployResult> {
    return this.locks.with(service, 'rollback', async () => {
      const current = this.requireService(service);
      const number = to ?? this.previousRevision(service, current.stableRevision);
      const target = this.store.revisions.get(service, number);
      if (!target)
        throw new HotswapError('NOT_FOUND', `service "${service}" has no revision ${number}`);
      // Replicas, listener, strategy and drain are the service's current ones; the revision brings
      // what its containers run.
      const spec: ServiceSpec = specForRevision(current.spec, target);
      const instant = await this.instantRollback(spec, target, current.stableRevision, report);
      if (instant) return instant;
      await this.revisionImage(target, report);
      return this.runRollout('rollback', spec, target, report);
    });
  }

  /**
   * New instances of what runs now, through the service's own strategy (rolling, canary, …). The
   * fresh instances get a revision number of their own, identical in content to the stable one:
   * strategies tell old from new by revision, and history shows the restart.
   */
  async restart(service: string, report: Reporter): Promise<DeployResult> {
    return this.locks.with(service, 'restart', async () => {
      const current = this.requireService(service);
      const stable =
        current.stableRevision === null
          ? null
          : this.store.revisions.get(service, current.stableRevision);
      if (!stable)
        throw new HotswapError('NOT_FOUND', `service "${service}" has no revision to restart`);
      await this.revisionImage(stable, report);
      const target = this.store.revisions.create({
        service,
        image: stable.image,
        imageId: stable.imageId,
        repoDigest: stable.repoDigest,
        configHash: stable.configHash,
        spec: stable.spec,
      });
      return this.runRollout('update', current.spec, target, report);
    });
  }

  /**
   * Sets the number of instances (`hotswap scale`). The new count is the service's desired state
   * (the reconcile loop then keeps it) once the instances run: more start health-gated, fewer
   * drain first, then stop, whatever the strategy. A later `up` brings the spec file's count back.
   */
  async scale(service: string, replicas: number, report: Reporter): Promise<DeployResult> {
    return this.locks.with(service, 'scale', async () => {
      const current = this.requireService(service);
      const stable =
        current.stableRevision === null
          ? null
          : this.store.revisions.get(service, current.stableRevision);
      if (!stable)
        throw new HotswapError('NOT_FOUND', `service "${service}" has no revision to scale`);
      const auto = current.spec.autoscale;
      if (auto && (replicas < auto.min || replicas > auto.max))
        throw new HotswapError(
          'USAGE',
          `${service} is autoscaled between ${auto.min} and ${auto.max} instances; ${replicas} is outside (change autoscale in the spec to go beyond)`,
        );
      this.note(
        report,
        service,
        'scale.requested',
        `scale ${service}: ${current.spec.replicas} → ${replicas}`,
        {
          from: current.spec.replicas,
          to: replicas,
        },
      );
      return this.runRollout('update', { ...current.spec, replicas }, stable, report);
    });
  }

  /** The image a revision ran; pulled again by its digest when it was removed from the host. */
  private async revisionImage(target: RevisionRecord, report: Reporter): Promise<void> {
    try {
      await this.runtime.inspectImage(target.imageId);
    } catch (err) {
      if (!(err instanceof HotswapError && err.code === 'IMAGE_NOT_FOUND') || !target.repoDigest)
        throw err;
      await this.runtime.ensureImage(target.repoDigest, 'missing', (message) =>
        this.note(report, target.service, 'image.pull', message),
      );
    }
  }

  control(
    service: string,
    action: RolloutAction,
  ): { rolloutId: number; action: RolloutAction; warning?: string } {
    const rollout = this.active.get(service);
    if (!rollout) throw new HotswapError('NOT_FOUND', `no rollout of "${service}" is in progress`);
    if (action === 'abort') rollout.control.abort(`aborted by user`);
    else if (action === 'promote' || action === 'promote-full')
      rollout.control.promote(action === 'promote-full');
    else if (action === 'pause') rollout.control.pause();
    else rollout.control.resume();
    this.store.journal.append({
      service,
      rolloutId: rollout.id,
      event: `control.${action}`,
      data: {},
    });
    const warning = this.storeWarning();
    return warning ? { rolloutId: rollout.id, action, warning } : { rolloutId: rollout.id, action };
  }

  /** Null while the store writes; else why it cannot (a full disk) and what waits. */
  storeWarning(): string | null {
    const b = this.store.writes.backlog();
    if (!b) return null;
    return (
      `the store cannot write since ${b.since.slice(11, 19)} (${b.error}); ${b.pending} write(s) ` +
      `wait in memory${b.dropped ? `, ${b.dropped} dropped` : ''}: free space in ${this.store.file}'s folder`
    );
  }

  /** Stops warm instances whose window ended and watches serving ones. Started by the daemon. */
  startHousekeeping(): void {
    this.housekeeping = setInterval(() => {
      void this.expireWarm().catch(() => undefined);
      this.watches.scan();
    }, HOUSEKEEPING_MS);
    this.housekeeping.unref();
    this.monitor.start();
  }

  stopHousekeeping(): void {
    if (this.housekeeping) clearInterval(this.housekeeping);
    this.housekeeping = null;
    this.monitor.stop();
  }

  private async expireWarm(): Promise<void> {
    for (const w of this.store.warm.takeExpired(new Date())) {
      this.store.journal.append({
        service: w.service,
        event: 'warm.expired',
        data: { id: w.instanceId, revision: w.revision },
      });
      await this.runtime.stopInstance(w.instanceId, 10_000).catch(() => undefined);
      await this.runtime.removeInstance(w.instanceId).catch(() => undefined);
    }
  }

  private async instantRollback(
    spec: ServiceSpec,
    target: RevisionRecord,
    stableNumber: number | null,
    report: Reporter,
  ): Promise<DeployResult | null> {
    if (target.number === stableNumber) return null;
    const candidates = this.store.warm.list(spec.name).filter((w) => w.revision === target.number);
    if (candidates.length === 0) return null;
    const t0 = Date.now();
    const running = await Promise.all(
      candidates.map(async (w) =>
        (await this.runtime.inspectInstance(w.instanceId))?.state === 'running' ? w : null,
      ),
    );
    const warm = running.filter((w) => w !== null);
    if (warm.length === 0) return null;
    this.store.warm.take(spec.name, target.number);
    // Only the proxy is asked what serves now: the flip must not wait on Docker.
    const table = await this.router.table();
    const rollout = new Rollout(
      this.rolloutDeps(),
      {
        kind: 'rollback',
        spec,
        target,
        stable: stableNumber === null ? null : this.store.revisions.get(spec.name, stableNumber),
        serving: fromBackends(table.services[spec.name]?.backends ?? []),
        warm: warm.map((w) => ({ id: w.instanceId, revision: w.revision, address: w.address })),
      },
      report,
    );
    let outcome;
    try {
      outcome = await rollout.run((r) => this.active.set(spec.name, r));
    } finally {
      this.active.delete(spec.name);
      this.watches.scan(); // a watch after promotion starts now, not at the next pass
    }
    return {
      service: spec.name,
      outcome: outcome.ok ? 'succeeded' : 'failed',
      revision: target.number,
      rolloutId: outcome.rollout.id,
      reason: outcome.reason,
      durationMs: Date.now() - t0,
      ...(rollout.flippedAt === null ? {} : { flipMs: rollout.flippedAt - t0 }),
      cutConnections: outcome.rollout.cutConnections,
    };
  }

  async down(service: string | undefined, report: Reporter): Promise<string[]> {
    const names =
      service === undefined
        ? this.store.services.list().map((s) => s.name)
        : [this.requireService(service).name];
    for (const name of names) {
      await this.endRollout(name, report);
      await this.locks.with(name, 'down', () => this.removeService(name, report));
    }
    const removed = await removeUnusedNetworks(this.runtime, this.store);
    if (removed.length > 0) this.options.log?.(`removed network(s) ${removed.join(', ')}`);
    return names;
  }

  /** `down` of a service mid-rollout (at a pause, say): the rollout is aborted and undone first. */
  private async endRollout(service: string, report: Reporter): Promise<void> {
    const rollout = this.active.get(service);
    if (!rollout) return;
    this.note(report, service, 'rollout.aborting', `aborting rollout #${rollout.id} before down`);
    rollout.control.abort('aborted by down');
    this.store.journal.append({
      service,
      rolloutId: rollout.id,
      event: 'control.abort',
      data: { by: 'down' },
    });
    await this.locks.released(service);
  }

  async status(): Promise<ServiceStatus[]> {
    const table = await this.router.table();
    const out: ServiceStatus[] = [];
    for (const svc of this.store.services.list()) {
      const route = table.services[svc.name];
      const serving = new Set(fromBackends(route?.backends ?? []).map((b) => b.id));
      const instances = await this.runtime.listInstances({ service: svc.name });
      const warm = new Map(this.store.warm.list(svc.name).map((w) => [w.instanceId, w.until]));
      out.push({
        name: svc.name,
        listen: svc.spec.listen,
        image: svc.spec.image,
        replicas: svc.spec.replicas,
        stableRevision: svc.stableRevision,
        busy: this.locks.busy(svc.name),
        weights: route?.weights ?? {},
        instances: instances.map((i) => ({
          ...i,
          serving: serving.has(i.id),
          warmUntil: warm.get(i.id) ?? null,
        })),
        lastRollout: this.store.rollouts.list(svc.name, 1)[0] ?? null,
        degraded: this.reconciler.degraded(svc.name),
        networks: (svc.spec.attached?.networks ?? []).map((n) => ({
          name: n.name,
          internal: n.internal,
          gateway: n.gateway,
        })),
      });
    }
    return out;
  }

  /** The latest rollout of a service with its steps, and its journal entries (verdicts among them). */
  rolloutStatus(service: string): {
    rollout: RolloutRecord | null;
    steps: unknown[];
    events: unknown[];
    active: boolean;
    paused: boolean;
  } {
    const rollout = this.store.rollouts.list(service, 1)[0] ?? null;
    if (!rollout) this.requireService(service);
    const live = this.active.get(service);
    return {
      rollout,
      steps: rollout ? this.store.rollouts.steps(rollout.id) : [],
      events: rollout ? this.store.journal.list({ rolloutId: rollout.id }) : [],
      active: live !== undefined,
      paused: live?.control.isPaused ?? false,
    };
  }

  history(service: string): { revisions: RevisionRecord[]; rollouts: RolloutRecord[] } {
    if (this.store.revisions.list(service).length === 0) this.requireService(service);
    return {
      revisions: this.store.revisions.list(service),
      rollouts: this.store.rollouts.list(service),
    };
  }

  async logs(
    service: string,
    opts: LogRequest,
  ): Promise<Array<{ instance: string; revision: number; text: string }>> {
    this.requireService(service);
    const instances = await this.runtime.listInstances({ service });
    return Promise.all(
      instances.map(async (i) => ({
        instance: i.name,
        revision: i.revision,
        text: await this.runtime.logs(i.id, opts),
      })),
    );
  }

  /** Log lines of every instance of a service as they come, new instances included. */
  followLogs(
    service: string,
    opts: LogRequest,
    signal: AbortSignal,
    emit: (line: LogLine) => void,
  ) {
    this.requireService(service);
    return followServiceLogs(this.runtime, service, opts, signal, emit);
  }

  private async deploy(declared: ServiceSpec, report: Reporter): Promise<DeployResult> {
    const svc = this.withAutoscaledReplicas(declared);
    // preflight: nothing changes if the image is missing or cannot be pulled
    const image = await this.runtime.ensureImage(svc.image, svc.pull ?? 'missing', (message) =>
      this.note(report, svc.name, 'image.pull', message),
    );
    await this.assertDockerHealth(svc, image.id);
    const hash = configHash(svc);
    const target =
      this.store.revisions.findIdentical(svc.name, image.id, hash) ??
      this.store.revisions.create({
        service: svc.name,
        image: svc.image,
        imageId: image.id,
        repoDigest: image.repoDigest,
        configHash: hash,
        spec: svc,
      });
    // Only reload files changed (issue 16): copied into the running instances, no new revision.
    let reloaded: DeployResult | null = null;
    if (isFilesOnlyChange(this.store.services.get(svc.name), svc, target.number)) {
      reloaded = await reloadService(this.rolloutDeps(), svc, target.number, 'apply', report);
      if (reloaded.outcome === 'failed') return reloaded;
    }
    const result = await this.runRollout('update', svc, target, report);
    return reloaded && result.outcome === 'unchanged' ? reloaded : result;
  }

  /** `hotswap reload`: the service's stored reload files applied again to its instances. */
  async reload(service: string, report: Reporter): Promise<DeployResult> {
    return this.locks.with(service, 'reload', async () => {
      const current = this.requireService(service);
      if (current.stableRevision === null)
        throw new HotswapError('NOT_FOUND', `service "${service}" has no serving revision`);
      return reloadService(
        this.rolloutDeps(),
        current.spec,
        current.stableRevision,
        'manual',
        report,
      );
    });
  }

  /** `health.docker: true` on an image without a HEALTHCHECK could never pass: said now. */
  private async assertDockerHealth(svc: ServiceSpec, imageId: string): Promise<void> {
    if (svc.health.check.type !== 'docker' || !this.runtime.imageHasHealthcheck) return;
    if (await this.runtime.imageHasHealthcheck(imageId)) return;
    throw new HotswapError(
      'USAGE',
      `${svc.name}: health.docker is true but image ${svc.image} declares no HEALTHCHECK; use health.http, tcp or exec`,
      { details: { service: svc.name, image: svc.image } },
    );
  }

  /**
   * With autoscale the autoscaler owns the count: an update keeps the current one (within the
   * new min..max) instead of going back to the file's `replicas`, which is only the start.
   */
  private withAutoscaledReplicas(svc: ServiceSpec): ServiceSpec {
    const a = svc.autoscale;
    if (!a) return svc;
    const current = this.store.services.get(svc.name)?.spec.replicas ?? svc.replicas;
    return { ...svc, replicas: Math.min(a.max, Math.max(a.min, current)) };
  }

  private async runRollout(
    kind: 'update' | 'rollback',
    spec: ServiceSpec,
    target: RevisionRecord,
    report: Reporter,
  ): Promise<DeployResult> {
    const t0 = Date.now();
    const existing = this.store.services.get(spec.name);
    if (!existing) this.store.services.upsert(spec);
    const stableNumber = existing?.stableRevision ?? null;
    const stable = stableNumber === null ? null : this.store.revisions.get(spec.name, stableNumber);
    // Same revision: a change of resources is applied live (a refusal throws before any change).
    if (kind === 'update' && stableNumber === target.number)
      await resizeInstances(this.runtime, spec, existing?.spec.resources, (event, message, data) =>
        this.note(report, spec.name, event, message, data),
      );
    await this.router.ensureService(spec.name, serviceConfig(spec));
    const serving = await this.servingInstances(spec.name, report);
    if (this.isUnchanged(spec, target, stableNumber, serving)) {
      this.store.services.upsert(spec);
      return {
        service: spec.name,
        outcome: 'unchanged',
        revision: target.number,
        rolloutId: null,
        reason: null,
        durationMs: Date.now() - t0,
      };
    }
    const rollout = new Rollout(
      this.rolloutDeps(),
      { kind, spec, target, stable, serving },
      report,
    );
    let outcome;
    try {
      outcome = await rollout.run((r) => this.active.set(spec.name, r));
    } finally {
      this.active.delete(spec.name);
      this.watches.scan(); // a watch after promotion starts now, not at the next pass
    }
    return {
      service: spec.name,
      outcome: outcome.ok ? 'succeeded' : 'failed',
      revision: target.number,
      rolloutId: outcome.rollout.id,
      reason: outcome.reason,
      durationMs: Date.now() - t0,
      cutConnections: outcome.rollout.cutConnections,
    };
  }

  private isUnchanged(
    spec: ServiceSpec,
    target: RevisionRecord,
    stable: number | null,
    serving: LiveInstance[],
  ): boolean {
    return (
      stable === target.number &&
      serving.length === spec.replicas &&
      serving.every((i) => i.revision === target.number)
    );
  }

  /**
   * Instances that serve now: active in the proxy and running. Containers of the service that do
   * not serve (left by a crash) and proxy backends whose container is gone are cleaned up here.
   */
  private async servingInstances(service: string, report: Reporter): Promise<LiveInstance[]> {
    const table = await this.router.table();
    const backends = fromBackends(table.services[service]?.backends ?? []);
    const running = new Map((await this.runtime.listInstances({ service })).map((i) => [i.id, i]));
    const serving = backends.filter((b) => running.get(b.id)?.state === 'running');
    const servingIds = new Set(serving.map((b) => b.id));
    for (const b of backends.filter((x) => !servingIds.has(x.id)))
      await this.router
        .drain(service, b.id, 0, { longConnections: { policy: 'close', timeoutMs: 0 } })
        .catch(ignoreNotFound);
    const warm = new Set(this.store.warm.list(service).map((w) => w.instanceId));
    for (const inst of running.values()) {
      if (servingIds.has(inst.id) || warm.has(inst.id)) continue;
      this.note(
        report,
        service,
        'orphan.removed',
        `removing ${inst.name}: not serving (left by an earlier run)`,
      );
      await this.runtime.removeInstance(inst.id);
    }
    return serving;
  }

  private async removeService(name: string, report: Reporter): Promise<void> {
    const svc = this.requireService(name);
    this.note(report, name, 'service.removing', `removing service ${name}`);
    const table = await this.router.table();
    const backends = table.services[name]?.backends ?? [];
    await this.router.setWeights(name, {}).catch(() => undefined);
    await Promise.all(
      backends.map((b) =>
        this.router.drain(name, b.id, svc.spec.drain.timeoutMs).catch(ignoreNotFound),
      ),
    );
    const instances = await this.runtime.listInstances({ service: name });
    await Promise.all(
      instances.map(async (i) => {
        await this.runtime.stopInstance(i.id, svc.spec.stopGracePeriodMs);
        await this.runtime.removeInstance(i.id);
      }),
    );
    this.store.warm.takeService(name);
    await this.router.removeService(name);
    await this.router.removeService(previewName(name));
    for (const rev of this.store.revisions.list(name)) {
      if (rev.status === 'active') this.store.revisions.setStatus(name, rev.number, 'retired');
    }
    this.store.services.remove(name);
    this.note(
      report,
      name,
      'service.removed',
      `service ${name} removed (${instances.length} instance(s))`,
    );
  }

  private previousRevision(service: string, stable: number | null): number {
    const last = this.store.rollouts
      .list(service)
      .find((r) => r.status === 'succeeded' && r.toRevision === stable && r.fromRevision !== null);
    if (last?.fromRevision != null) return last.fromRevision;
    throw new HotswapError(
      'NOT_FOUND',
      `service "${service}" has no earlier revision to roll back to; use --to N`,
    );
  }

  private requireService(name: string) {
    const svc = this.store.services.get(name);
    if (!svc) throw new HotswapError('NOT_FOUND', `no service named "${name}"`);
    return svc;
  }

  private note(
    report: Reporter,
    service: string,
    event: string,
    message: string,
    data: object = {},
  ): void {
    const entry = this.store.journal.append({
      service,
      event,
      data: { message, ...data },
      message,
    });
    report({ at: entry.at, service, event, message });
  }
}

/** Draining a backend the proxy no longer knows is already done. */
function ignoreNotFound(err: unknown): void {
  if ((err as { code?: string }).code !== 'NOT_FOUND') throw err;
}
