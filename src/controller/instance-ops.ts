// What a rollout does to instances: start them and wait until they are healthy, drain them out
// of the proxy (with a notice to the app first when the spec asks), stop them, or keep them warm.
import { readSecretEnv } from '../security/secrets.js';
import { instanceFiles } from '../reload/index.js';
import { setTimeout as sleep } from 'node:timers/promises';
import { toHotswapError } from '../errors.js';
import { waitReady } from '../health/index.js';
import type { Router } from '../proxy/types.js';
import type { InstanceRequest, Runtime } from '../runtime/types.js';
import type { ServiceSpec } from '../spec/types.js';
import type { RevisionRecord, Store } from '../store/index.js';
import type { LiveInstance } from './live-group.js';
import { ensureAttached } from './networks.js';

type Journal = (event: string, message: string, data: unknown) => void;

export class InstanceOps {
  /** Containers started here that are not serving yet: removed if the rollout fails. */
  private readonly pending = new Set<string>();

  constructor(
    private readonly deps: { runtime: Runtime; router: Router; store: Store },
    private readonly spec: ServiceSpec,
    private readonly journal: Journal,
  ) {}

  /** Starts instances and resolves once each passed its probe healthyThreshold times in a row. */
  async startReady(
    revision: RevisionRecord,
    count: number,
    signal?: AbortSignal,
  ): Promise<LiveInstance[]> {
    const { runtime } = this.deps;
    this.journal('instances.starting', `starting ${count} instance(s) of r${revision.number}`, {
      revision: revision.number,
      count,
    });
    await ensureAttached(runtime, this.spec, this.journal);
    const request = instanceRequest(this.spec, revision);
    const started = await Promise.allSettled(
      Array.from({ length: count }, () => runtime.startInstance(request)),
    );
    const instances = started.flatMap((r) => (r.status === 'fulfilled' ? [r.value] : []));
    instances.forEach((i) => this.pending.add(i.id));
    const failed = started.find((r): r is PromiseRejectedResult => r.status === 'rejected');
    if (failed) throw toHotswapError(failed.reason);

    const abort = new AbortController();
    const forward = (): void => abort.abort(signal?.reason);
    signal?.addEventListener('abort', forward, { once: true });
    try {
      await Promise.all(
        instances.map((inst) =>
          waitReady({
            runtime,
            instanceId: inst.id,
            address: inst.address!,
            health: this.spec.health,
            signal: abort.signal,
          }),
        ),
      );
    } catch (err) {
      abort.abort(err);
      throw err;
    } finally {
      signal?.removeEventListener('abort', forward);
    }
    return instances.map((inst) => {
      this.pending.delete(inst.id);
      this.journal('instance.ready', `${inst.name} healthy at ${inst.address}`, {
        id: inst.id,
        address: inst.address,
      });
      return { id: inst.id, revision: revision.number, address: inst.address! };
    });
  }

  /** Notice (if any), then the proxy drain. Returns the long connections the proxy cut. */
  async drain(instance: LiveInstance): Promise<number> {
    await this.notify(instance);
    const result = await this.deps.router.drain(
      this.spec.name,
      instance.id,
      this.spec.drain.timeoutMs,
    );
    this.journal(
      'instance.drained',
      `${instance.id.slice(0, 12)} drained in ${result.waitedMs} ms` +
        (result.long.atStart > 0
          ? ` (long connections: ${result.long.closedByPeer} closed by peer, ${result.long.cut} cut)`
          : ''),
      { id: instance.id, ...result },
    );
    return result.long.cut;
  }

  /** SIGTERM, SIGKILL after the grace period, then remove. */
  async retire(id: string): Promise<void> {
    await this.deps.runtime.stopInstance(id, this.spec.stopGracePeriodMs);
    await this.deps.runtime.removeInstance(id);
  }

  /** Out of the proxy but running, for an instant rollback until the window ends. */
  park(instances: LiveInstance[], keepMs: number): void {
    const until = new Date(Date.now() + keepMs).toISOString();
    for (const i of instances) {
      this.deps.store.warm.add({
        instanceId: i.id,
        service: this.spec.name,
        revision: i.revision,
        address: i.address,
        until,
      });
    }
    this.journal('instances.parked', `${instances.length} instance(s) kept warm until ${until}`, {
      ids: instances.map((i) => i.id),
      until,
    });
  }

  async removePending(): Promise<void> {
    const ids = [...this.pending];
    this.pending.clear();
    await Promise.all(ids.map((id) => this.retire(id)));
  }

  /**
   * Tells a draining instance its long connections are about to go, so it can ask its clients
   * to reconnect (they land on the new revision), then gives it the notice's grace period.
   */
  private async notify(instance: LiveInstance): Promise<void> {
    const notice = this.spec.drain.notify;
    if (!notice) return;
    try {
      if (notice.type === 'signal')
        await this.deps.runtime.signalInstance(instance.id, notice.signal);
      else
        await fetch(`http://${instance.address}${notice.path}`, {
          method: 'POST',
          signal: AbortSignal.timeout(2000),
        });
      this.journal(
        'instance.notified',
        `drain notice (${notice.type}) sent to ${instance.id.slice(0, 12)}`,
        { id: instance.id },
      );
    } catch (err) {
      this.journal(
        'instance.notify-failed',
        `drain notice to ${instance.id.slice(0, 12)} failed: ${toHotswapError(err).message}`,
        {},
      );
    }
    if (notice.graceMs > 0) await sleep(notice.graceMs);
  }
}

export function instanceRequest(spec: ServiceSpec, revision: RevisionRecord): InstanceRequest {
  // Containers run the revision's recorded image id, not the tag: a tag can move, a revision cannot.
  const rev = revision.spec;
  return {
    service: spec.name,
    revision: revision.number,
    image: revision.imageId,
    env: { ...rev.env, ...readSecretEnv(rev.secretEnv, `${spec.name} r${revision.number}`) },
    command: rev.command,
    port: rev.port,
    volumes: rev.volumes,
    stopGracePeriodMs: spec.stopGracePeriodMs,
    ...(rev.hardening ? { hardening: rev.hardening } : {}),
    // The service's current reload files, not the revision's: they change without a revision.
    ...(spec.reload ? { files: instanceFiles(spec) } : {}),
    // The service's current limits, not the revision's: resources change live, outside revisions.
    ...(spec.resources ? { resources: spec.resources } : {}),
    // The service's networks as the daemon resolved them, and where its peers answer (the proxy).
    ...(spec.attached
      ? {
          networks: spec.attached.networks.map((n) => ({
            dockerName: n.dockerName,
            internal: n.internal,
          })),
          extraHosts: spec.attached.hosts,
        }
      : {}),
    ...(rev.placement ? { placement: rev.placement } : {}),
    startDeadlineMs: spec.health.deadlineMs,
  };
}
