// Picks up a rollout that a crash of the daemon interrupted. Where it stood is rebuilt from what
// was written down (its steps, its journal) and what is true now (the proxy's table, Docker's
// containers); then it is resumed or, when resuming is not safe, undone with the reason recorded.
//
// The rule, per strategy (README "After a crash"):
// - rolling / recreate: resumed. They are count-driven, so the next step is computed from the
//   instances that serve now.
// - canary / blue-green: resumed at the step reached. The step running at the crash runs again
//   (a pause waits out what was left of it; an analysis starts over); promote, abort, pause and
//   resume sent before the crash are replayed, so a paused rollout stays paused.
// - instant rollback: finished as a rolling rollout to the same revision.
// - any strategy is undone instead when the undo had already begun, when it had been aborted,
//   when the service was removed, or when the target revision's image is no longer on the host.
import { toHotswapError } from '../errors.js';
import type { Backend } from '../proxy/types.js';
import type { ServiceSpec } from '../spec/types.js';
import type { JournalEntry, RevisionRecord, RolloutRecord, ServiceRecord } from '../store/index.js';
import { usesPercentWeights } from '../strategies/index.js';
import type { LiveInstance } from './live-group.js';
import type { Reporter } from './progress.js';
import { Rollout, type ResumePoint, type RolloutDeps } from './rollout.js';
import { previewName, serviceConfig } from './service-config.js';
import { answersHealth, observeService } from './world.js';

export interface Recovered {
  rollout: Rollout;
  action: 'resume' | 'undo';
  reason: string;
}

/** The spec a rollback runs: the service's settings with what the revision's containers run. */
export function specForRevision(current: ServiceSpec, target: RevisionRecord): ServiceSpec {
  return {
    ...current,
    image: target.spec.image,
    env: target.spec.env,
    command: target.spec.command,
    port: target.spec.port,
    volumes: target.spec.volumes,
    health: target.spec.health,
    hardening: target.spec.hardening,
    secretEnv: target.spec.secretEnv,
  };
}

export async function recoverRollout(
  deps: RolloutDeps,
  record: RolloutRecord,
  report: Reporter,
): Promise<Recovered | null> {
  const { store } = deps;
  const note = (event: string, message: string, data: unknown = {}): void => {
    const e = store.journal.append({
      service: record.service,
      rolloutId: record.id,
      event,
      data,
      message,
    });
    report({ at: e.at, service: record.service, rolloutId: record.id, event, message, data });
  };
  if (record.kind === 'reload') {
    // A reload has no instances to undo or resume: the stored spec still names the files that
    // were in place before it (it is updated only on success); `hotswap reload` applies them again.
    const reason = 'a reload is not resumed; run `hotswap reload` to apply the files again';
    store.rollouts.finish(record.id, 'failed', `interrupted by a restart; ${reason}`);
    note('rollout.failed', `reload #${record.id} failed: ${reason}`, { reason });
    return null;
  }
  const svc = store.services.get(record.service);
  const target = store.revisions.get(record.service, record.toRevision);
  if (!svc || !target) {
    const reason = !svc ? 'the service was removed' : `revision ${record.toRevision} is unknown`;
    store.rollouts.finish(record.id, 'failed', `interrupted by a restart; ${reason}`);
    note('rollout.failed', `rollout #${record.id} failed: ${reason}`, { reason });
    return null;
  }
  const stable =
    record.fromRevision === null ? null : store.revisions.get(record.service, record.fromRevision);
  const entries = store.journal.list({ rolloutId: record.id, limit: 1_000_000 });
  const spec = rolloutSpec(record, svc, target, entries);
  const table = await deps.router.table();
  const previewOpen = previewName(spec.name) in table.services;
  const serving = await reconcileWorld(deps, spec, [record.fromRevision, record.toRevision], note);
  const decision = await decide(deps, record, target, entries);
  const resume = { ...resumePoint(deps, record, spec, entries), previewOpen };
  const rollout = new Rollout(
    deps,
    { kind: record.kind, spec, target, stable, serving, resume },
    report,
  );
  replayControls(rollout, entries);
  note(
    decision.action === 'resume' ? 'recovery.resume' : 'recovery.undo',
    `rollout #${record.id} was interrupted by a restart: ${decision.action} (${decision.reason})`,
    { ...decision, index: resume.index },
  );
  return { rollout, ...decision };
}

/** The spec the rollout ran with, as its journal recorded it. */
function rolloutSpec(
  record: RolloutRecord,
  svc: ServiceRecord,
  target: RevisionRecord,
  entries: JournalEntry[],
): ServiceSpec {
  const started = entries.find((e) => e.event === 'rollout.started');
  const recorded = (started?.data as { spec?: ServiceSpec } | undefined)?.spec;
  if (record.strategy === 'instant') {
    // The flip itself is not replayed: a rolling rollout to the same revision ends it.
    return {
      ...specForRevision(svc.spec, target),
      strategy: { type: 'rolling', maxSurge: 1, maxUnavailable: 0, analysis: null },
    };
  }
  if (recorded) return recorded;
  return record.kind === 'rollback' ? specForRevision(svc.spec, target) : target.spec;
}

/**
 * Makes the service's corner of the world consistent before the rollout goes on: backends whose
 * container died leave the proxy, a route the proxy lost is rebuilt from the containers that
 * still answer, and containers nobody serves (started by the rollout and never added, or left
 * by a drain the proxy finished meanwhile) are removed. Returns the instances that serve.
 */
async function reconcileWorld(
  deps: RolloutDeps,
  spec: ServiceSpec,
  revisions: Array<number | null>,
  note: (event: string, message: string, data?: unknown) => void,
): Promise<LiveInstance[]> {
  const { router, runtime, store } = deps;
  const table = await router.table();
  const world = observeService(
    spec.name,
    table,
    await runtime.listInstances({ service: spec.name }),
  );
  for (const b of world.dead) await dropDead(deps, spec.name, b, note);
  const serving = [...world.serving];
  const known = new Set([
    ...serving.map((s) => s.id),
    ...world.draining,
    ...store.warm.list(spec.name).map((w) => w.instanceId),
  ]);
  if (!world.route) {
    await router.ensureService(spec.name, serviceConfig(spec));
    for (const c of world.containers) {
      if (!revisions.includes(c.revision) || known.has(c.id)) continue;
      if (!(await answersHealth(spec, c, deps.runtime))) continue;
      const live = { id: c.id, revision: c.revision, address: c.address! };
      await router.addBackend(spec.name, live);
      serving.push(live);
      known.add(c.id);
      note('instance.adopted', `${c.name} adopted: it runs and answers, the proxy lost its route`, {
        id: c.id,
        reason: 'route lost',
      });
    }
  }
  for (const c of world.containers) {
    if (known.has(c.id)) continue;
    note('orphan.removed', `removing ${c.name}: no proxy route serves it after the restart`, {
      id: c.id,
      revision: c.revision,
      state: c.state,
      reason: 'not serving after a restart',
    });
    await runtime.removeInstance(c.id);
  }
  return serving;
}

export async function dropDead(
  deps: Pick<RolloutDeps, 'router' | 'runtime'>,
  service: string,
  b: Backend,
  note: (event: string, message: string, data?: unknown) => void,
): Promise<void> {
  note(
    'instance.exited',
    `${b.id.slice(0, 12)} (r${b.revision}) no longer runs: out of the proxy`,
    {
      id: b.id,
      revision: b.revision,
      reason: 'container not running',
    },
  );
  await deps.router
    .drain(service, b.id, 0, { longConnections: { policy: 'close', timeoutMs: 0 } })
    .catch((err: unknown) => {
      if ((err as { code?: string }).code !== 'NOT_FOUND') throw err;
    });
  await deps.runtime.removeInstance(b.id);
}

async function decide(
  deps: RolloutDeps,
  record: RolloutRecord,
  target: RevisionRecord,
  entries: JournalEntry[],
): Promise<{ action: 'resume' | 'undo'; reason: string }> {
  const undo = entries.find((e) => e.event === 'rollback.started');
  if (undo) {
    const why = (undo.data as { reason?: string }).reason ?? 'unknown';
    return { action: 'undo', reason: `its undo had begun before the restart (${why})` };
  }
  if (entries.some((e) => e.event === 'control.abort'))
    return { action: 'undo', reason: 'aborted by user before the restart' };
  try {
    await deps.runtime.inspectImage(target.imageId);
  } catch (err) {
    return {
      action: 'undo',
      reason: `the image of r${target.number} is not usable: ${toHotswapError(err).message}`,
    };
  }
  return {
    action: 'resume',
    reason:
      record.strategy === 'instant'
        ? 'instant rollback finished as a rolling rollout'
        : `${record.strategy} resumes at the step reached`,
  };
}

function resumePoint(
  deps: RolloutDeps,
  record: RolloutRecord,
  spec: ServiceSpec,
  entries: JournalEntry[],
): ResumePoint {
  const steps = deps.store.rollouts.steps(record.id);
  const cut = steps.filter((s) => s.status === 'running');
  for (const s of cut) deps.store.rollouts.endStep(s.id, 'failed');
  const done = steps.filter((s) => s.status === 'done');
  let percent: number | null = usesPercentWeights(spec.strategy) ? 0 : null;
  for (const s of done) {
    const d = s.detail as { kind?: string; weight?: number };
    if (percent !== null && d.kind === 'setWeight' && typeof d.weight === 'number')
      percent = d.weight;
    if (percent !== null && d.kind === 'promote') percent = 100;
  }
  const started = entries.find((e) => e.event === 'rollout.started');
  const firstDeploy =
    (started?.data as { firstDeploy?: boolean } | undefined)?.firstDeploy ??
    record.fromRevision === null;
  const interrupted = cut.at(-1)?.detail as
    { kind?: string; durationMs?: number | null } | undefined;
  let pauseLeftMs: number | null = null;
  if (interrupted?.kind === 'pause' && typeof interrupted.durationMs === 'number') {
    const startedAt = Date.parse(cut.at(-1)!.startedAt);
    pauseLeftMs = Math.max(0, interrupted.durationMs - (Date.now() - startedAt));
  }
  return {
    record,
    index: record.strategy === 'instant' ? 0 : done.length,
    firstDeploy,
    percent,
    previewOpen: false,
    pauseLeftMs,
  };
}

/** Pause/resume and promote sent before the crash hold after it. */
function replayControls(rollout: Rollout, entries: JournalEntry[]): void {
  const lastStep = entries.findLast((e) => e.event === 'step.started')?.seq ?? 0;
  let paused = false;
  for (const e of entries) {
    if (e.event === 'control.pause') paused = true;
    if (e.event === 'control.resume') paused = false;
    if (e.event === 'control.promote-full') rollout.control.promote(true);
    else if (e.event === 'control.promote' && e.seq > lastStep) rollout.control.promote(false);
  }
  if (paused) rollout.control.pause();
}
