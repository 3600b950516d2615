// The Docker Swarm backend of the Runtime contract (issue 17), driven through one manager's
// Engine API. Each instance is its own Swarm service with one replica, not one task among the
// replicas of a revision's service: the controller stops *a chosen* instance after draining it
// from the proxy, and Swarm cannot remove a chosen task of a service (scaling down picks the
// task itself). With one service per instance, stopInstance and removeInstance act on exactly
// the instance that was drained, so the zero-downtime rules hold as on a single host. The
// revision's instances share the hotswap.* labels; spreading them is asked of Swarm's
// scheduler with constraints (spread.ts).
//
// Tasks live on the home's overlay network (endpoint mode dnsrr); an instance's address is its
// task's overlay IP. The daemon (in the host's network) cannot reach those addresses, so HTTP
// and TCP probes go through a proxy on the overlay (`reach`, set by the daemon).
import { randomBytes } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import { HotswapError } from '../../errors.js';
import type {
  ImageInfo,
  Instance,
  InstanceRequest,
  LogRequest,
  PullPolicy,
  Runtime,
} from '../types.js';
import { DockerClient } from '../docker/client.js';
import { LABEL_MANAGED, LABEL_REVISION, LABEL_SCOPE, LABEL_SERVICE } from '../docker/labels.js';
import { collectOutput, demuxStream } from '../docker/stream.js';
import { SwarmApi, type SwarmNode, type SwarmService, type SwarmTask } from './api.js';
import { pinnedImage } from './images.js';
import { instanceServiceSpec, nameSafe } from './service-spec.js';
import { isDown, spreadConstraints, usableNodes } from './spread.js';
import { latestTask, removableAfterStop, taskReason, toInstance } from './tasks.js';
import { assertManager } from './manager-check.js';
import { LABEL_ROLE } from './proxy-service.js';

/** An HTTP or TCP check of an address on the overlay, run where the overlay is reachable. */
export type Reach = (
  check: { type: 'http'; path: string } | { type: 'tcp' },
  address: string,
  timeoutMs: number,
) => Promise<{ ok: boolean; detail: string }>;

export interface SwarmRuntimeOptions {
  client: DockerClient;
  scope: string;
  /** The overlay network instances and proxies share; default hotswap-<scope>. */
  network?: string;
  /** Without a deadline in the request: how long a node may take to run a new instance. */
  startTimeoutMs?: number;
}

/** A task held back by soft spread constraints this long gets them dropped. */
const SOFT_SPREAD_MS = 4_000;
const POLL_MS = 250;

export class SwarmRuntime implements Runtime {
  readonly client: DockerClient;
  readonly api: SwarmApi;
  readonly scope: string;
  readonly networkName: string;
  private network: Promise<string> | null = null;
  /** Set by the daemon once the proxies run: how probes reach overlay addresses. */
  reach?: Reach;

  constructor(private readonly opts: SwarmRuntimeOptions) {
    this.client = opts.client;
    this.api = new SwarmApi(opts.client);
    this.scope = opts.scope;
    this.networkName = opts.network ?? `hotswap-${nameSafe(opts.scope)}`;
  }

  get scopeLabels(): Record<string, string> {
    return { [LABEL_MANAGED]: 'true', [LABEL_SCOPE]: this.scope };
  }

  /** The engine answers, is in a Swarm, and is a manager (else a clear error). */
  async ping(): Promise<void> {
    await this.client.ping();
    await this.client.negotiate();
    await assertManager(this.api, this.client.socketPath);
  }

  /** The overlay network's id, created (attachable, labelled) on first use. */
  networkId(): Promise<string> {
    this.network ??= (async () => {
      const found = await this.api.networkId(this.networkName);
      if (found !== null) return found;
      try {
        return await this.api.createNetwork(this.networkName, this.scopeLabels);
      } catch (err) {
        const again = await this.api.networkId(this.networkName); // created by a racing call
        if (again !== null) return again;
        throw err;
      }
    })();
    this.network.catch(() => (this.network = null));
    return this.network;
  }

  inspectImage(image: string): Promise<ImageInfo> {
    return pinnedImage(this.api, image);
  }

  /** Nodes pull for themselves; here the tag is resolved to the registry's digest, once. */
  async ensureImage(
    image: string,
    _pull: PullPolicy,
    progress?: (message: string) => void,
  ): Promise<ImageInfo> {
    const info = await pinnedImage(this.api, image);
    progress?.(`${image} is ${info.id} in its registry; the nodes pull it by digest`);
    return info;
  }

  async startInstance(req: InstanceRequest): Promise<Instance> {
    const networkId = await this.networkId();
    const hard = req.placement?.constraints ?? [];
    const soft = await this.softSpread(req);
    const name = [
      'hs',
      nameSafe(this.scope).slice(0, 20),
      nameSafe(req.service),
      `r${req.revision}`,
      randomBytes(3).toString('hex'),
    ].join('-');
    const spec = instanceServiceSpec(req, {
      scope: this.scope,
      name,
      networkId,
      constraints: [...hard, ...soft],
    });
    const id = await this.api.createService(spec);
    try {
      return await this.waitRunning(id, req, soft.length > 0);
    } catch (err) {
      await this.removeInstance(id).catch(() => undefined);
      throw err;
    }
  }

  async inspectInstance(id: string): Promise<Instance | null> {
    const service = await this.findService(id);
    if (service === null) return null;
    const [tasks, nodes, networkId] = await Promise.all([
      this.api.tasks({ service: [service.ID] }),
      this.api.nodes(),
      this.networkId(),
    ]);
    return this.instanceOf(service, tasks, downNodes(nodes), networkId);
  }

  signalInstance(id: string, signal: string): Promise<void> {
    return Promise.reject(
      new HotswapError(
        'UNSUPPORTED',
        `cannot send ${signal} to ${id.slice(0, 12)}: a Swarm manager cannot signal a task ` +
          '(use an http drain notice on the Swarm backend)',
      ),
    );
  }

  /**
   * Scales the instance's service to 0: Swarm stops its task (SIGTERM, then SIGKILL) and deletes
   * it; returns when it is gone (or at the grace period plus 10 s).
   */
  async stopInstance(id: string, graceMs: number): Promise<void> {
    const service = await this.findService(id);
    if (service === null) return;
    const mode = service.Spec.Mode;
    if ('Replicated' in mode && mode.Replicated.Replicas !== 0) {
      const spec = { ...service.Spec, Mode: { Replicated: { Replicas: 0 } } };
      await this.api.updateService(service.ID, service.Version.Index, spec).catch((err) => {
        if (!(err instanceof HotswapError && err.code === 'NOT_FOUND')) throw err;
      });
    }
    const deadline = Date.now() + graceMs + 10_000;
    while (Date.now() < deadline) {
      // Stopped, and reaped: a removal that follows cannot race Swarm's task reaper.
      if (removableAfterStop(await this.api.tasks({ service: [service.ID] }))) return;
      await sleep(POLL_MS);
    }
  }

  async removeInstance(id: string): Promise<void> {
    try {
      await this.api.removeService(id);
    } catch (err) {
      if (err instanceof HotswapError && err.code === 'NOT_FOUND') return;
      throw err;
    }
  }

  async listInstances(filter: { service?: string; revision?: number } = {}): Promise<Instance[]> {
    const labels: Record<string, string> = { ...this.scopeLabels };
    if (filter.service !== undefined) labels[LABEL_SERVICE] = filter.service;
    if (filter.revision !== undefined) labels[LABEL_REVISION] = String(filter.revision);
    // The proxy service carries the home's labels too, but it is no instance.
    const services = (await this.api.services(labels)).filter(isInstanceService);
    if (services.length === 0) return [];
    const [tasks, nodes, networkId] = await Promise.all([
      this.api.tasks({ service: services.map((s) => s.ID) }),
      this.api.nodes(),
      this.networkId(),
    ]);
    const down = downNodes(nodes);
    return services
      .map((s) => this.instanceOf(s, tasks, down, networkId))
      .sort((a, b) => a.createdAt.localeCompare(b.createdAt) || a.name.localeCompare(b.name));
  }

  /** One instance on the most loaded node when another usable node has two fewer. */
  async crowded(service: string, revision: number): Promise<string[]> {
    const services = (
      await this.api.services({
        ...this.scopeLabels,
        [LABEL_SERVICE]: service,
        [LABEL_REVISION]: String(revision),
      })
    ).filter(isInstanceService);
    if (services.length < 2) return [];
    const [tasks, nodes] = await Promise.all([
      this.api.tasks({ service: services.map((s) => s.ID) }),
      this.api.nodes(),
    ]);
    const usable = usableNodes(nodes);
    const onNode = new Map<string, string[]>(usable.map((n) => [n.ID, []]));
    for (const s of services) {
      const t = latestTask(tasks.filter((x) => x.ServiceID === s.ID));
      if (t?.Status.State === 'running' && t.NodeID) onNode.get(t.NodeID)?.push(s.ID);
    }
    const lists = [...onNode.values()].sort((a, b) => b.length - a.length);
    const most = lists[0] ?? [];
    const least = lists.at(-1) ?? [];
    return most.length - least.length >= 2 ? [most[0]!] : [];
  }

  async logs(id: string, opts: LogRequest = {}): Promise<string> {
    const res = await this.client.stream({
      path: `/services/${encodeURIComponent(id)}/logs`,
      query: logQuery(opts, false),
    });
    return (await collectOutput(res.body)).combined;
  }

  async *followLogs(id: string, opts: LogRequest, signal: AbortSignal): AsyncIterable<string> {
    const res = await this.client.stream({
      path: `/services/${encodeURIComponent(id)}/logs`,
      query: logQuery(opts, true),
      signal,
    });
    try {
      for await (const frame of demuxStream(res.body)) yield frame.data.toString('utf8');
    } catch (err) {
      if (!signal.aborted) throw err;
    } finally {
      res.body.destroy();
    }
  }

  async close(): Promise<void> {
    await this.client.close();
  }

  /** Constraints that steer the new instance away from nodes its revision already crowds. */
  private async softSpread(req: InstanceRequest): Promise<string[]> {
    const attribute = req.placement?.spread ?? 'node.id';
    const services = await this.api.services({
      ...this.scopeLabels,
      [LABEL_SERVICE]: req.service,
      [LABEL_REVISION]: String(req.revision),
    });
    if (services.length === 0) return [];
    const [tasks, nodes] = await Promise.all([
      this.api.tasks({ service: services.map((s) => s.ID) }),
      this.api.nodes(),
    ]);
    const placed = services.flatMap((s) => {
      const t = latestTask(tasks.filter((x) => x.ServiceID === s.ID));
      return t?.NodeID && t.DesiredState === 'running' ? [t.NodeID] : [];
    });
    return spreadConstraints(nodes, placed, attribute);
  }

  /**
   * Until the task runs with an address on the overlay. A task Swarm cannot place (a constraint
   * no node satisfies) waits until the deadline, then fails with Swarm's reason.
   */
  private async waitRunning(id: string, req: InstanceRequest, soft: boolean): Promise<Instance> {
    const t0 = Date.now();
    const deadline = t0 + (req.startDeadlineMs ?? this.opts.startTimeoutMs ?? 60_000);
    let softLeft = soft;
    for (;;) {
      const instance = await this.inspectInstance(id);
      const task = latestTask(await this.api.tasks({ service: [id] }));
      if (instance?.state === 'running' && instance.address !== null) return instance;
      if (instance === null) throw new HotswapError('INSTANCE_EXITED', `service ${id} vanished`);
      if (instance.state === 'exited' || instance.state === 'dead') {
        throw new HotswapError(
          'INSTANCE_EXITED',
          `instance ${instance.name} of ${req.service} r${req.revision} did not start: ` +
            taskReason(task),
          { details: { id, name: instance.name, exitCode: instance.exitCode } },
        );
      }
      if (softLeft && Date.now() - t0 > SOFT_SPREAD_MS && unplaceable(task)) {
        softLeft = false;
        await this.dropSoftConstraints(id, req.placement?.constraints ?? []);
      }
      if (Date.now() > deadline) {
        throw new HotswapError(
          'HEALTH_DEADLINE',
          `instance ${instance.name} of ${req.service} r${req.revision} was not running after ` +
            `${Math.round((Date.now() - t0) / 1000)} s: ${taskReason(task)}`,
          { details: { id, name: instance.name, reason: taskReason(task) } },
        );
      }
      await sleep(POLL_MS);
    }
  }

  private async dropSoftConstraints(id: string, hard: string[]): Promise<void> {
    const service = await this.api.inspectService(id);
    const spec = structuredClone(service.Spec);
    spec.TaskTemplate.Placement = { ...spec.TaskTemplate.Placement, Constraints: hard };
    await this.api.updateService(id, service.Version.Index, spec);
  }

  private async findService(id: string): Promise<SwarmService | null> {
    try {
      const s = await this.api.inspectService(id);
      return s.Spec.Labels[LABEL_SCOPE] === this.scope && isInstanceService(s) ? s : null;
    } catch (err) {
      if (err instanceof HotswapError && err.code === 'NOT_FOUND') return null;
      throw err;
    }
  }

  private instanceOf(
    service: SwarmService,
    tasks: SwarmTask[],
    down: Set<string>,
    networkId: string,
  ): Instance {
    const task = latestTask(tasks.filter((t) => t.ServiceID === service.ID));
    return toInstance(service, task, {
      networkId,
      nodeDown: task?.NodeID !== undefined && down.has(task.NodeID),
    });
  }
}

function isInstanceService(s: SwarmService): boolean {
  return LABEL_SERVICE in s.Spec.Labels && !(LABEL_ROLE in s.Spec.Labels);
}

/**
 * Nodes the managers lost. Not `unknown`: a new leader marks every node unknown until it hears
 * from it again, and their tasks keep running meanwhile.
 */
function downNodes(nodes: SwarmNode[]): Set<string> {
  return new Set(nodes.filter((n) => isDown(n)).map((n) => n.ID));
}

/** Swarm's scheduler found no node for the task ("no suitable node (...)"). */
function unplaceable(task: SwarmTask | null): boolean {
  return (
    task !== null &&
    task.Status.State === 'pending' &&
    /no suitable node/i.test(task.Status.Err ?? task.Status.Message ?? '')
  );
}

function logQuery(opts: LogRequest, follow: boolean): Record<string, string | number | boolean> {
  const q: Record<string, string | number | boolean> = {
    stdout: true,
    stderr: true,
    follow,
    timestamps: opts.timestamps ?? false,
    tail: opts.tail ?? 'all',
  };
  if (opts.since !== undefined) q.since = opts.since;
  return q;
}
