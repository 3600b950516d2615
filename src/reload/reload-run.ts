// One reload of a service: one instance at a time, its old files read back, the new ones copied
// in, the trigger, the verify. When any of it fails, every instance already touched (the failing
// one included) gets its old files back and the trigger again. Recorded as a rollout of kind
// `reload` (from = to = the serving revision), with a step per instance and its outcome.
import { toHotswapError } from '../errors.js';
import type { ServiceSpec, ReloadSpec } from '../spec/types.js';
import type { RolloutRecord, Store } from '../store/index.js';
import type { InstanceFile } from '../runtime/types.js';
import { asArchive, describeFiles, instanceFiles } from './files.js';
import type { ReloadRuntime } from './runtime.js';
import { trigger } from './trigger.js';
import { verify } from './verify.js';

export interface ReloadTarget {
  id: string;
  address: string;
}

export interface ReloadPlan {
  /** The service with the reload section (and files) to apply. */
  spec: ServiceSpec & { reload: ReloadSpec };
  /** The revision that serves; a reload does not change it. */
  revision: number;
  instances: ReloadTarget[];
  /** Why: a spec whose only change is reload files, or `hotswap reload` by hand. */
  cause: 'apply' | 'manual';
}

export interface ReloadEvent {
  event: string;
  message: string;
  data: unknown;
}

export interface ReloadOutcome {
  rollout: RolloutRecord;
  ok: boolean;
  reason: string | null;
}

/** What a target held before the reload; null: the file did not exist (it is left in place). */
type Snapshot = Map<string, Buffer | null>;

export async function runReload(
  deps: { runtime: ReloadRuntime; store: Store },
  plan: ReloadPlan,
  onEvent: (record: RolloutRecord, e: ReloadEvent) => void,
): Promise<ReloadOutcome> {
  const { store, runtime } = deps;
  const { spec } = plan;
  const record = store.rollouts.start({
    service: spec.name,
    kind: 'reload',
    from: plan.revision,
    to: plan.revision,
    strategy: 'reload',
  });
  const say = (event: string, message: string, data: unknown = {}): void =>
    onEvent(record, { event, message, data });
  const files = instanceFiles(spec);
  say(
    'reload.started',
    `reload #${record.id}: ${files.length} file(s) into ${plan.instances.length} instance(s) of r${plan.revision} (${plan.cause})`,
    { files: describeFiles(spec.reload), instances: plan.instances.length, cause: plan.cause },
  );
  const touched: Array<{ instance: ReloadTarget; before: Snapshot }> = [];
  try {
    for (const instance of plan.instances) {
      const step = store.rollouts.beginStep(record.id, 'reload', { instance: instance.id });
      try {
        const before = await snapshot(runtime, instance.id, files);
        touched.push({ instance, before });
        await applyOne(runtime, spec, instance, files);
        store.rollouts.endStep(step.id, 'done');
        say('reload.instance', `${instance.id.slice(0, 12)} reloaded`, { id: instance.id });
      } catch (err) {
        store.rollouts.endStep(step.id, 'failed');
        throw err;
      }
    }
  } catch (err) {
    const reason = toHotswapError(err).message;
    say('reload.undo', `reload failed (${reason}); restoring ${touched.length} instance(s)`, {
      reason,
    });
    const undone = await undo(runtime, spec, touched, say);
    const full = undone ? reason : `${reason}; restoring the old files failed too`;
    store.rollouts.finish(record.id, 'failed', full);
    say('reload.failed', `reload #${record.id} failed: ${full}`, { reason: full });
    return { rollout: store.rollouts.get(record.id)!, ok: false, reason: full };
  }
  store.rollouts.finish(record.id, 'succeeded', null);
  say('reload.succeeded', `reload #${record.id} done: ${plan.instances.length} instance(s)`, {});
  return { rollout: store.rollouts.get(record.id)!, ok: true, reason: null };
}

async function applyOne(
  runtime: ReloadRuntime,
  spec: ServiceSpec & { reload: ReloadSpec },
  instance: ReloadTarget,
  files: InstanceFile[],
): Promise<void> {
  const { reload } = spec;
  await runtime.putFiles(instance.id, '/', asArchive(files));
  await trigger(runtime, instance, reload.trigger, reload.timeoutMs);
  const target = { instanceId: instance.id, address: instance.address, runtime };
  await verify(target, reload.verify, spec.health, reload.timeoutMs);
}

async function snapshot(
  runtime: ReloadRuntime,
  id: string,
  files: InstanceFile[],
): Promise<Snapshot> {
  const out: Snapshot = new Map();
  for (const f of files) {
    try {
      out.set(f.path, await runtime.readFile(id, f.path));
    } catch (err) {
      if (toHotswapError(err).code !== 'NOT_FOUND') throw err;
      out.set(f.path, null);
    }
  }
  return out;
}

/** Old files back and the trigger again, on every touched instance; false if any could not be. */
async function undo(
  runtime: ReloadRuntime,
  spec: ServiceSpec & { reload: ReloadSpec },
  touched: Array<{ instance: ReloadTarget; before: Snapshot }>,
  say: (event: string, message: string, data?: unknown) => void,
): Promise<boolean> {
  let ok = true;
  for (const { instance, before } of touched) {
    const old = [...before].flatMap(([path, data]) => (data ? [{ path, data }] : []));
    try {
      if (old.length) await runtime.putFiles(instance.id, '/', asArchive(old));
      await trigger(runtime, instance, spec.reload.trigger, spec.reload.timeoutMs);
      say('reload.restored', `${instance.id.slice(0, 12)}: old files restored and reloaded`, {
        id: instance.id,
        newFilesLeft: [...before].filter(([, d]) => d === null).map(([p]) => p),
      });
    } catch (err) {
      ok = false;
      say(
        'reload.restore-failed',
        `${instance.id.slice(0, 12)}: restoring failed: ${toHotswapError(err).message}`,
        { id: instance.id },
      );
    }
  }
  return ok;
}
