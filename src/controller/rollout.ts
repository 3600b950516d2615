// Runs one rollout: asks the strategy for the next step, writes it to the journal, carries it out
// against the runtime and the router, and on any failure puts the stable revision back.
import type { Verdict } from '../analysis/index.js';
import { HotswapError, toHotswapError } from '../errors.js';
import type { Router } from '../proxy/types.js';
import type { Runtime } from '../runtime/types.js';
import type { AnalysisRun, ServiceSpec } from '../spec/types.js';
import type { RevisionRecord, RolloutKind, RolloutRecord, Store } from '../store/index.js';
import { nextStep, usesPercentWeights, type Step } from '../strategies/index.js';
import { runAnalysis } from './analysis-run.js';
import { RolloutControl } from './control.js';
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

const MAX_STEPS = 10_000;

export class Rollout {
  readonly control = new RolloutControl();
  private old: LiveInstance[];
  private next: LiveInstance[];
  /** Percent of traffic on the target, for canary and blue-green; null: weights follow counts. */
  private percent: number | null;
  private unjudged = false;
  private previewOpen = false;
  private readonly ops: InstanceOps;
  private record!: RolloutRecord;

  constructor(
    private readonly deps: RolloutDeps,
    private readonly plan: RolloutPlan,
    private readonly report: Reporter,
  ) {
    this.old = plan.serving.filter((i) => i.revision !== plan.target.number);
    this.next = plan.serving.filter((i) => i.revision === plan.target.number);
    this.percent = usesPercentWeights(plan.spec.strategy) ? 0 : null;
    this.ops = new InstanceOps(deps, plan.spec, (event, message, data) =>
      this.journal(event, message, data),
    );
  }

  get id(): number {
    return this.record.id;
  }

  async run(onStart?: (r: Rollout) => void): Promise<RolloutOutcome> {
    const { store } = this.deps;
    const { spec, target, stable, kind } = this.plan;
    this.record = store.rollouts.start({
      service: spec.name,
      kind,
      from: stable?.number ?? null,
      to: target.number,
      strategy: spec.strategy.type,
    });
    onStart?.(this);
    this.journal(
      'rollout.started',
      `rollout #${this.record.id}: r${stable?.number ?? '-'} → r${target.number} (${spec.strategy.type})`,
      { from: stable?.number ?? null, to: target.number, kind },
    );
    try {
      await this.deps.router.ensureService(spec.name, serviceConfig(spec));
      await this.runSteps();
    } catch (err) {
      const reason = toHotswapError(
        this.control.signal.aborted ? this.control.signal.reason : err,
      ).message;
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
    this.finishSucceeded();
    return { rollout: store.rollouts.get(this.record.id)!, ok: true, reason: null };
  }

  private async runSteps(): Promise<void> {
    const firstDeploy = this.old.length === 0;
    for (let index = 0, n = 0; n < MAX_STEPS; n++) {
      await this.control.checkpoint();
      const step = this.stepAt(index, firstDeploy);
      if (step.kind === 'done') return;
      await this.runStep(step);
      index++;
    }
    throw new HotswapError('INTERNAL', 'strategy did not converge');
  }

  /** A first deploy has nothing to compare with or fall back to: it just starts and promotes. */
  private stepAt(index: number, firstDeploy: boolean): Step {
    const { spec } = this.plan;
    const counts = {
      desired: spec.replicas,
      old: this.old.length,
      next: this.next.length,
      unjudged: this.unjudged,
    };
    const planned = this.percent !== null;
    if (planned && (firstDeploy || this.control.fullPromotion)) {
      if (this.next.length < spec.replicas) return { kind: 'scale', replicas: spec.replicas };
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
      this.deps.store.rollouts.endStep(row.id, 'failed');
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
        const how = await this.control.pauseStep(step.durationMs);
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
    const keepMs = previous ? this.keepWarmMs() : 0;
    if (keepMs > 0) this.ops.park(victims, keepMs);
    else await Promise.all(victims.map((v) => this.ops.retire(v.id)));
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
    const config = serviceConfig(spec);
    // The preview is served like the service (TLS too), minus its redirect listener.
    const tls = config.tls == null ? null : { ...config.tls, redirect: undefined };
    await this.deps.router.ensureService(name, {
      ...config,
      tls,
      listen: spec.strategy.previewListen,
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
    this.previewOpen = false;
    await this.deps.router.removeService(previewName(this.plan.spec.name));
  }

  /** All traffic to the target, then the old group leaves (warm for an instant rollback, or retired). */
  private async promote(): Promise<void> {
    this.percent = 100;
    const leaving = this.old;
    this.old = [];
    await this.applyWeights();
    await this.closePreview();
    this.journal('promoted', `r${this.plan.target.number} takes all traffic`, {});
    await this.leave(leaving, true);
  }

  /** Puts all traffic back on the stable revision and removes what this rollout started. */
  private async rollBack(reason: string): Promise<boolean> {
    this.journal('rollback.started', `rolling back: ${reason}`, { reason });
    try {
      const { stable, target, spec } = this.plan;
      // A failed scale of the stable revision keeps the instances that served before it.
      const keep = (i: LiveInstance): boolean =>
        stable?.number === target.number && this.plan.serving.some((s) => s.id === i.id);
      const leaving = this.next.filter((i) => !keep(i));
      this.next = this.next.filter(keep);
      this.percent = this.percent === null ? null : 0;
      await this.applyWeights();
      await this.closePreview();
      await this.leave(leaving, false);
      await this.ops.removePending();
      const missing = spec.replicas - this.old.length;
      if (stable && stable.number !== target.number && missing > 0) {
        const back = await this.ops.startReady(stable, missing);
        for (const live of back) await this.deps.router.addBackend(spec.name, live);
        this.old.push(...back);
        await this.applyWeights();
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

  private finishSucceeded(): void {
    const { store } = this.deps;
    const { spec, target } = this.plan;
    markStable(store, spec, target);
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
