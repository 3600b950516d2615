// Runs one rollout: asks the strategy for the next step, writes it to the journal, carries it out
// against the runtime and the router, and on any failure puts the stable revision back.
import { setTimeout as sleep } from 'node:timers/promises';
import type { Verdict } from '../analysis/index.js';
import { HotswapError, toHotswapError } from '../errors.js';
import type { Router } from '../proxy/types.js';
import { RolloutSampler, type ReportSampling } from '../report/sampler.js';
import type { Runtime } from '../runtime/types.js';
import type { AnalysisRun, ServiceSpec } from '../spec/types.js';
import type { RevisionRecord, RolloutKind, RolloutRecord, Store } from '../store/index.js';
import { nextStep, usesPercentWeights, type Step } from '../strategies/index.js';
import { runAnalysis } from './analysis-run.js';
import { captureBaseline, type WatchStart } from './post-promotion.js';
import { RolloutControl } from './control.js';
import { captureBeforeStop, handOffToFresh, type CapturedState } from './handoff-step.js';
import { InstanceOps } from './instance-ops.js';
import { pickToStop, type LiveInstance } from './live-group.js';
import type { Reporter } from './progress.js';
import { previewName, serviceConfig } from './service-config.js';
import { markStable } from './stable.js';
import { trafficWeights } from './weights.js';

export interface RolloutDeps {
  runtime: Runtime;
  router: Router;
  store: Store;
  /** Default UNDO_DEADLINE_MS; tests shorten it. */
  undoDeadlineMs?: number;
  /** Record an impact report around each rollout (src/report); off when absent. */
  reports?: ReportSampling;
}

export interface RolloutPlan {
  kind: RolloutKind;
  spec: ServiceSpec;
  target: RevisionRecord;
  /** The revision serving before; restored on failure. Null on a first deploy. */
  stable: RevisionRecord | null;
  /** Instances in the proxy when the rollout starts. */
  serving: LiveInstance[];
  /** Set when a new daemon picks up a rollout a crash interrupted (see recovery.ts). */
  resume?: ResumePoint;
  /**
   * Instant rollback: instances of the target kept warm (running, out of the balancer). The
   * rollout adds them and promotes at once: one step, the same journal and failure path.
   */
  warm?: LiveInstance[];
}

/** Where an interrupted rollout stands, rebuilt from its steps, its journal and the world. */
export interface ResumePoint {
  record: RolloutRecord;
  /** Index of the next step to run (the one running at the crash runs again). */
  index: number;
  firstDeploy: boolean;
  percent: number | null;
  previewOpen: boolean;
  /** Time left of a timed pause the crash interrupted. */
  pauseLeftMs: number | null;
}

/** How long an undo keeps retrying transient proxy and Docker errors before it gives up. */
export const UNDO_DEADLINE_MS = 120_000;

export interface RolloutOutcome {
  rollout: RolloutRecord;
  ok: boolean;
  reason: string | null;
}

const MAX_STEPS = 10_000;

export class Rollout {
  readonly control = new RolloutControl();
  private old: LiveInstance[];
  /** recreate with a hand-off: states of the old instances, read before they stopped. */
  private readonly captured: CapturedState[] = [];
  private next: LiveInstance[];
  /** Percent of traffic on the target, for canary and blue-green; null: weights follow counts. */
  private percent: number | null;
  private unjudged = false;
  private previewOpen = false;
  private readonly ops: InstanceOps;
  private record!: RolloutRecord;
  /** When the proxy confirmed all traffic on the target (promotion). */
  flippedAt: number | null = null;

  constructor(
    private readonly deps: RolloutDeps,
    private readonly plan: RolloutPlan,
    private readonly report: Reporter,
  ) {
    this.old = plan.serving.filter((i) => i.revision !== plan.target.number);
    this.next = plan.serving.filter((i) => i.revision === plan.target.number);
    // A planned strategy starts with the target at 0% — unless the target already serves alone
    // (a change of replicas only): then it has all the traffic and keeps it while it scales.
    const alone = this.old.length === 0 && this.next.length > 0;
    this.percent = usesPercentWeights(plan.spec.strategy) || plan.warm ? (alone ? 100 : 0) : null;
    if (plan.resume) {
      this.record = plan.resume.record;
      this.percent = plan.resume.percent;
      this.previewOpen = plan.resume.previewOpen;
      // New instances met since the last judgement are judged again: the verdict died with the crash.
      this.unjudged = this.next.length > 0;
    }
    this.ops = new InstanceOps(deps, plan.spec, (event, message, data) =>
      this.journal(event, message, data),
    );
  }

  get id(): number {
    return this.record.id;
  }

  get spec(): ServiceSpec {
    return this.plan.spec;
  }

  async run(onStart?: (r: Rollout) => void): Promise<RolloutOutcome> {
    const { store } = this.deps;
    const { spec, target, stable, kind, resume } = this.plan;
    const firstDeploy = resume ? resume.firstDeploy : this.old.length === 0;
    if (resume) {
      onStart?.(this);
      this.journal(
        'rollout.resumed',
        `rollout #${this.record.id} resumed at step ${resume.index + 1} after a restart`,
        { index: resume.index, old: this.old.length, next: this.next.length },
      );
    } else {
      const strategy = this.plan.warm ? 'instant' : spec.strategy.type;
      this.record = store.rollouts.start({
        service: spec.name,
        kind,
        from: stable?.number ?? null,
        to: target.number,
        strategy,
      });
      onStart?.(this);
      // The spec travels in the journal: a daemon that picks the rollout up after a crash runs
      // exactly this one, not whatever the store holds for the service.
      this.journal(
        'rollout.started',
        `${this.plan.warm ? 'instant rollback' : 'rollout'} #${this.record.id}: r${stable?.number ?? '-'} → r${target.number} (${this.plan.warm ? `${this.plan.warm.length} warm instance(s)` : strategy})`,
        { from: stable?.number ?? null, to: target.number, kind, firstDeploy, spec },
      );
    }
    if (!resume) await this.recordBaseline();
    const sampler = this.deps.reports
      ? new RolloutSampler(this.deps, spec.name, this.record.id, this.deps.reports).start()
      : null;
    try {
      return await this.runToEnd(firstDeploy);
    } finally {
      sampler?.ended();
    }
  }

  /**
   * With strategy.postPromotion, the stable revision's traffic before anything changes: what the
   * watch after promotion judges the new revision against. Without one (a first deploy, a
   * rollback, no traffic to read) there is no watch; the rollout goes on either way.
   */
  private async recordBaseline(): Promise<void> {
    const { spec, kind, warm } = this.plan;
    const watch = spec.strategy.postPromotion;
    if (!watch || kind !== 'update' || warm || this.old.length === 0) return;
    const revisions = [...new Set(this.old.map((i) => i.revision))];
    try {
      const b = await captureBaseline(this.deps.router, spec.name, revisions, watch);
      this.journal(
        'watch.baseline',
        `baseline for the watch after promotion: ${b.requests} request(s), ${b.errors} error(s) on r${revisions.join(', r')} over ${b.windowMs} ms`,
        b,
      );
    } catch (err) {
      const reason = toHotswapError(err).message;
      this.journal('watch.skipped', `no watch after promotion: ${reason}`, { reason });
    }
  }

  private async runToEnd(firstDeploy: boolean): Promise<RolloutOutcome> {
    const { spec } = this.plan;
    try {
      await this.deps.router.ensureService(spec.name, serviceConfig(spec));
      await this.addWarm();
      await this.runSteps(this.plan.resume?.index ?? 0, firstDeploy);
    } catch (err) {
      const reason = toHotswapError(
        this.control.signal.aborted ? this.control.signal.reason : err,
      ).message;
      return this.fail(reason);
    }
    this.finishSucceeded();
    return { rollout: this.deps.store.rollouts.get(this.record.id)!, ok: true, reason: null };
  }

  /** Undoes a rollout a crash interrupted when resuming it is not safe; the reason is recorded. */
  async undo(reason: string, onStart?: (r: Rollout) => void): Promise<RolloutOutcome> {
    onStart?.(this);
    return this.fail(reason);
  }

  /** What the proxy should hold for this service now: used to push it again to a proxy that lost it. */
  desiredRoute(): { backends: LiveInstance[]; weights: Record<string, number> } {
    return {
      backends: [...this.old, ...this.next],
      weights: trafficWeights(this.old, this.next, this.plan.target.number, this.percent),
    };
  }

  private async fail(reason: string): Promise<RolloutOutcome> {
    const { store } = this.deps;
    const { spec, target } = this.plan;
    const restored = await this.rollBack(reason);
    const fullReason = restored ? reason : `${reason}; restoring the stable revision failed too`;
    // On a full disk these wait in memory (store.writes): the undo itself has completed.
    const id = this.record.id;
    const written = store.writes.run(() => {
      store.rollouts.finish(id, 'failed', fullReason);
      if (target.status === 'pending')
        store.revisions.setStatus(spec.name, target.number, 'failed');
    });
    this.journal('rollout.failed', `rollout #${id} failed: ${fullReason}`, {
      reason: fullReason,
    });
    if (written) return { rollout: store.rollouts.get(id)!, ok: false, reason: fullReason };
    const backlog = store.writes.backlog();
    const why = `${fullReason}; the store could not record it yet (${backlog?.error ?? 'disk full'})`;
    const rollout = { ...store.rollouts.get(id)!, status: 'failed' as const, reason: why };
    return { rollout, ok: false, reason: why };
  }

  private async runSteps(start: number, firstDeploy: boolean): Promise<void> {
    for (let index = start, n = 0; n < MAX_STEPS; n++) {
      await this.control.checkpoint();
      const step = this.stepAt(index, firstDeploy);
      if (step.kind === 'done') return;
      await this.runStep(step);
      index++;
    }
    throw new HotswapError('INTERNAL', 'strategy did not converge');
  }

  /** Warm instances join the proxy with no weight yet; the promote step flips traffic to them. */
  private async addWarm(): Promise<void> {
    const warm = this.plan.warm;
    if (!warm || this.plan.resume) return;
    await Promise.all(warm.map((w) => this.deps.router.addBackend(this.plan.spec.name, w)));
    this.next.push(...warm.filter((w) => !this.next.some((n) => n.id === w.id)));
  }

  /** A first deploy has nothing to compare with or fall back to: it just starts and promotes. */
  private stepAt(index: number, firstDeploy: boolean): Step {
    const { spec } = this.plan;
    if (this.plan.warm) return index === 0 ? { kind: 'promote' } : { kind: 'done' };
    const counts = {
      desired: spec.replicas,
      old: this.old.length,
      next: this.next.length,
      unjudged: this.unjudged,
    };
    const planned = this.percent !== null;
    if (planned && (firstDeploy || this.control.fullPromotion)) {
      if (this.next.length < spec.replicas) return { kind: 'scale', replicas: spec.replicas };
      // A scale-down of a canary or blue-green service: extra instances drain, then stop.
      if (this.next.length > spec.replicas && this.old.length === 0)
        return { kind: 'stop', group: 'next', count: this.next.length - spec.replicas };
      return this.percent === 100 && this.old.length === 0 ? { kind: 'done' } : { kind: 'promote' };
    }
    return nextStep(spec.strategy, counts, index);
  }

  private async runStep(step: Exclude<Step, { kind: 'done' }>): Promise<void> {
    const detail = { ...step, old: this.old.length, next: this.next.length };
    const row = this.deps.store.rollouts.beginStep(this.record.id, step.kind, detail);
    this.journal('step.started', describe(step), detail);
    try {
      await this.execute(step);
      this.deps.store.rollouts.endStep(row.id, 'done');
    } catch (err) {
      // A full disk must not hide why the step failed, nor stop the failure path.
      this.deps.store.writes.run(() => this.deps.store.rollouts.endStep(row.id, 'failed'));
      throw err;
    }
  }

  private async execute(step: Exclude<Step, { kind: 'done' }>): Promise<void> {
    switch (step.kind) {
      case 'start':
        await this.addNext(step.count);
        this.unjudged = true;
        return;
      case 'scale':
        if (this.next.length < step.replicas) await this.addNext(step.replicas - this.next.length);
        return;
      case 'stop':
        return this.removeGroup(step.group, step.count);
      case 'setWeight':
        this.percent = step.weight;
        return this.applyWeights();
      case 'pause': {
        const left = this.plan.resume?.pauseLeftMs ?? null;
        const how = await this.control.pauseStep(left ?? step.durationMs);
        if (this.plan.resume) this.plan.resume.pauseLeftMs = null;
        this.journal(
          'pause.ended',
          how === 'promoted' ? 'promoted: pause ended' : 'pause elapsed',
          { how },
        );
        return;
      }
      case 'analysis':
        await this.analyse(step.run, step.source);
        this.unjudged = false;
        return;
      case 'preview':
        return this.openPreview();
      case 'promote':
        return this.promote();
    }
  }

  private async addNext(count: number): Promise<void> {
    const started = await this.ops.startReady(this.plan.target, count, this.control.signal);
    await handOffToFresh(
      { runtime: this.deps.runtime, retire: (id) => this.ops.retire(id) },
      this.plan.spec,
      this.old,
      started,
      (event, message, data) => this.journal(event, message, data),
      this.captured,
    );
    for (const live of started) {
      await this.deps.router.addBackend(this.plan.spec.name, live);
      if (this.previewOpen)
        await this.deps.router.addBackend(previewName(this.plan.spec.name), live);
      this.next.push(live);
    }
    await this.applyWeights();
  }

  /** Zero-downtime rule 2: out of the balancer first, then drained, then stopped (or kept warm). */
  private async removeGroup(group: 'old' | 'next', count: number): Promise<void> {
    const victims = pickToStop(this[group], count);
    const ids = new Set(victims.map((v) => v.id));
    this[group] = this[group].filter((i) => !ids.has(i.id));
    await this.applyWeights();
    await this.leave(victims, group === 'old');
  }

  /** Old instances are kept warm for keepPrevious (blue-green: scaleDownDelay); the rest retire. */
  private async leave(victims: LiveInstance[], previous: boolean): Promise<void> {
    const cut = await Promise.all(victims.map((v) => this.ops.drain(v)));
    this.deps.store.rollouts.addCutConnections(
      this.record.id,
      cut.reduce((a, b) => a + b, 0),
    );
    if (previous) await this.captureBeforeStop(victims);
    const keepMs = previous ? this.keepWarmMs() : 0;
    if (keepMs > 0) this.ops.park(victims, keepMs);
    else await Promise.all(victims.map((v) => this.ops.retire(v.id)));
  }

  /**
   * recreate with a hand-off: the drained old instances' states, read before they stop. When that
   * fails under onFail: fail, they are still running: back into the balancer, then the rollout
   * fails, and they keep serving with their state.
   */
  private async captureBeforeStop(victims: LiveInstance[]): Promise<void> {
    const { spec } = this.plan;
    try {
      const journal = (event: string, message: string, data: unknown) =>
        this.journal(event, message, data);
      this.captured.push(...(await captureBeforeStop(this.deps.runtime, spec, victims, journal)));
    } catch (err) {
      for (const v of victims) await this.deps.router.addBackend(spec.name, v);
      this.old.push(...victims);
      await this.applyWeights();
      throw err;
    }
  }

  private keepWarmMs(): number {
    const { spec } = this.plan;
    const delay = spec.strategy.type === 'blue-green' ? spec.strategy.scaleDownDelayMs : 0;
    return Math.max(spec.keepPreviousMs, delay);
  }

  /** The proxy must confirm the weights before the next step. */
  private async applyWeights(): Promise<void> {
    const { router } = this.deps;
    const name = this.plan.spec.name;
    const weights = trafficWeights(this.old, this.next, this.plan.target.number, this.percent);
    this.journal('weights.set', `weights ${JSON.stringify(weights)}`, { weights });
    await router.setWeights(name, weights);
    if (!(await router.verifyWeights(name, weights))) {
      throw new HotswapError(
        'PROXY_REJECTED',
        `proxy did not confirm weights ${JSON.stringify(weights)}`,
      );
    }
  }

  private async analyse(run: AnalysisRun, source: 'service' | 'preview'): Promise<void> {
    const { spec, target } = this.plan;
    const verdicts = await runAnalysis(
      {
        router: this.deps.router,
        analysis: spec.analysis,
        service: spec.name,
        canaryService: source === 'preview' ? previewName(spec.name) : spec.name,
        baselineRevisions: [...new Set(this.old.map((i) => i.revision))],
        canaryRevision: target.number,
        record: (v, i, n) => this.recordVerdict(v, i, n),
        signal: this.control.signal,
      },
      run,
    );
    this.journal('analysis.passed', `analysis passed (${verdicts.length} judgement(s))`, {});
  }

  private recordVerdict(verdict: Verdict, index: number, count: number): void {
    this.journal(
      'analysis.verdict',
      `analysis ${index}/${count}: ${verdict.result} — ${verdict.reasons.join('; ')}`,
      verdict,
    );
  }

  private async openPreview(): Promise<void> {
    const { spec, target } = this.plan;
    if (spec.strategy.type !== 'blue-green' || spec.strategy.previewListen === null) return;
    const name = previewName(spec.name);
    // The preview is served like the service (TLS too), minus its redirect listener and its
    // private networks (the service's own name there must reach the stable revision).
    const config = serviceConfig(spec);
    const tls = config.tls == null ? null : { ...config.tls, redirect: undefined };
    await this.deps.router.ensureService(name, {
      ...config,
      tls,
      listen: spec.strategy.previewListen,
      private: [],
    });
    for (const live of this.next) await this.deps.router.addBackend(name, live);
    await this.deps.router.setWeights(name, { [String(target.number)]: 1 });
    this.previewOpen = true;
    this.journal(
      'preview.open',
      `r${target.number} previewed on ${spec.strategy.previewListen}`,
      {},
    );
  }

  private async closePreview(): Promise<void> {
    if (!this.previewOpen) return;
    await this.deps.router.removeService(previewName(this.plan.spec.name));
    this.previewOpen = false;
  }

  /**
   * All traffic to the target, then the old group leaves (warm for an instant rollback, or
   * retired). The old group stays known until the proxy confirmed the flip, so a failure puts
   * traffic back on it.
   */
  private async promote(): Promise<void> {
    this.percent = 100;
    await this.applyWeights();
    this.flippedAt = Date.now();
    const leaving = this.old;
    this.old = [];
    await this.closePreview();
    this.journal('promoted', `r${this.plan.target.number} takes all traffic`, {});
    await this.leave(leaving, true);
  }

  /**
   * Puts all traffic back on the stable revision and removes what this rollout started. Journaled
   * before it starts; each pass is idempotent, so transient proxy and Docker errors are retried
   * until it succeeds or the deadline ends.
   */
  private async rollBack(reason: string): Promise<boolean> {
    this.journal('rollback.started', `rolling back: ${reason}`, { reason });
    const { stable, target } = this.plan;
    // A failed scale of the stable revision keeps the instances that served before it.
    const keep = (i: LiveInstance): boolean =>
      stable?.number === target.number && this.plan.serving.some((s) => s.id === i.id);
    const leaving = this.next.filter((i) => !keep(i));
    this.next = this.next.filter(keep);
    this.percent = this.percent === null ? null : 0;
    const deadline = Date.now() + (this.deps.undoDeadlineMs ?? UNDO_DEADLINE_MS);
    for (let attempt = 1; ; attempt++) {
      try {
        await this.restoreStable(leaving);
        this.journal('rollback.finished', `traffic back on r${stable?.number ?? '-'}`, {
          serving: this.old.length,
        });
        return true;
      } catch (err) {
        const message = toHotswapError(err).message;
        const wait = Math.min(250 * 2 ** (attempt - 1), 5000);
        if (Date.now() + wait > deadline) {
          this.journal('rollback.error', `rollback step failed: ${message}`, { attempt });
          return false;
        }
        this.journal('rollback.retry', `rollback step failed (${message}); retrying`, {
          attempt,
          waitMs: wait,
        });
        await sleep(wait);
      }
    }
  }

  private async restoreStable(leaving: LiveInstance[]): Promise<void> {
    const { stable, target, spec } = this.plan;
    await this.applyWeights();
    await this.closePreview();
    await this.leaveQuietly(leaving);
    await this.ops.removePending();
    const missing = spec.replicas - this.old.length;
    if (stable && stable.number !== target.number && missing > 0) {
      const back = await this.ops.startReady(stable, missing);
      for (const live of back) await this.deps.router.addBackend(spec.name, live);
      this.old.push(...back);
      await this.applyWeights();
    }
  }

  /** Like leave(), for an undo that may run again: a backend already gone is already drained. */
  private async leaveQuietly(victims: LiveInstance[]): Promise<void> {
    await Promise.all(
      victims.map((v) =>
        this.ops.drain(v).catch((err: unknown) => {
          if ((err as { code?: string }).code !== 'NOT_FOUND') throw err;
        }),
      ),
    );
    await Promise.all(victims.map((v) => this.ops.retire(v.id)));
  }

  private finishSucceeded(): void {
    const { store } = this.deps;
    const { spec, target } = this.plan;
    markStable(store, spec, target);
    this.startWatch();
    store.rollouts.finish(this.record.id, 'succeeded', null);
    this.journal(
      'rollout.succeeded',
      `rollout #${this.record.id} done: r${target.number} serves ${this.next.length} instance(s)`,
      {
        revision: target.number,
      },
    );
  }

  /**
   * Written before the rollout is marked succeeded: a rollout that succeeded with a baseline has
   * its watch's end time in the journal, where the controller's watches find it (post-promotion.ts).
   */
  private startWatch(): void {
    const { spec, target, stable } = this.plan;
    const watch = spec.strategy.postPromotion;
    if (!watch || !stable || stable.number === target.number) return;
    const entries = this.deps.store.journal.list({ rolloutId: this.record.id, limit: 1_000_000 });
    if (!entries.some((e) => e.event === 'watch.baseline')) return;
    const start: WatchStart = {
      revision: target.number,
      previous: stable.number,
      windowMs: watch.windowMs,
      intervalMs: watch.intervalMs,
      endsAt: new Date(Date.now() + watch.windowMs).toISOString(),
      warmCovers: this.keepWarmMs() >= watch.windowMs,
    };
    this.journal(
      'watch.started',
      `watching r${target.number} for ${watch.windowMs} ms against r${stable.number}'s baseline (judged every ${watch.intervalMs} ms; ${start.warmCovers ? 'a breach flips back to the warm previous instances' : 'keepPrevious is shorter than the window: a late breach rolls the previous revision out again'})`,
      start,
    );
  }

  /** Journal first, then tell the user: the journal is what recovery reads. */
  private journal(event: string, message: string, data: unknown): void {
    const entry = this.deps.store.journal.append({
      service: this.plan.spec.name,
      rolloutId: this.record?.id ?? null,
      event,
      data,
      message,
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

function describe(step: Exclude<Step, { kind: 'done' }>): string {
  switch (step.kind) {
    case 'start':
      return `start ${step.count} new instance(s)`;
    case 'stop':
      return `stop ${step.count} ${step.group === 'old' ? 'old' : 'new'} instance(s)`;
    case 'scale':
      return `scale the new revision to ${step.replicas} instance(s)`;
    case 'setWeight':
      return `set weight ${step.weight}%`;
    case 'pause':
      return step.durationMs === null ? 'pause until promoted' : `pause ${step.durationMs} ms`;
    case 'analysis':
      return `analysis: ${step.run.count} × ${step.run.intervalMs} ms${step.source === 'preview' ? ' on the preview' : ''}`;
    case 'preview':
      return 'open the preview listener';
    case 'promote':
      return 'promote';
  }
}
