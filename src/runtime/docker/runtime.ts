// The Docker Engine backend of the Runtime contract: one container per instance, labelled with
// the hotswap home (scope), service and revision, its port published on 127.0.0.1 only.

import { applyHardening } from './hardening.js';
import { randomBytes } from 'node:crypto';
import { HotswapError } from '../../errors.js';
import type { ResourcesSpec, VolumeSpec } from '../../spec/types.js';
import { memoryInUse, resourcesOf, toDockerResources } from './resources.js';
import type {
  ImageInfo,
  Instance,
  InstanceHealth,
  InstanceFile,
  InstanceRequest,
  InstanceState,
  InstanceUsage,
  LogRequest,
  PullPolicy,
  Runtime,
} from '../types.js';
import { DockerClient } from './client.js';
import type {
  ContainerCreateBody,
  ContainerInspect,
  ContainerSummary,
  Mount,
} from './containers.js';
import type { DockerEvent } from './events.js';
import type { ExecResult, RunOptions } from './exec.js';
import { LABEL_MANAGED, LABEL_PORT, LABEL_REVISION, LABEL_SCOPE, LABEL_SERVICE } from './labels.js';
import { ensureImage } from './pull.js';
import { packTar } from './tar.js';
import { toUsage } from './usage.js';
import { Networks, type EngineNetwork } from './networks.js';

export interface DockerRuntimeOptions {
  /** Engine socket; default: the environment's endpoint (DOCKER_HOST, unix:// or tcp://). */
  socketPath?: string;
  /** Identifies the hotswap home; every container carries it as label hotswap.scope. */
  scope: string;
  /** Use an existing client (shares its connection pool); socketPath is then ignored. */
  client?: DockerClient;
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** Characters Docker accepts in a container name. */
function nameSafe(s: string): string {
  return s.replace(/[^a-zA-Z0-9_.-]+/g, '-').replace(/^[^a-zA-Z0-9]+/, '') || 'x';
}

export class DockerRuntime implements Runtime {
  readonly client: DockerClient;
  readonly scope: string;
  private readonly ownsClient: boolean;
  private readonly networks: Networks;

  constructor(opts: DockerRuntimeOptions) {
    if (!opts.scope) throw new HotswapError('USAGE', 'DockerRuntime needs a scope');
    this.scope = opts.scope;
    this.ownsClient = !opts.client;
    this.client = opts.client ?? new DockerClient({ socketPath: opts.socketPath });
    this.networks = new Networks(this.client, this.scope);
  }

  ensureNetwork(name: string, internal: boolean): Promise<EngineNetwork> {
    return this.networks.ensure(name, internal);
  }

  removeUnusedNetworks(keep: ReadonlySet<string>): Promise<string[]> {
    return this.networks.removeUnused(keep);
  }

  /** Labels every container of this hotswap home carries. */
  get scopeLabels(): Record<string, string> {
    return { [LABEL_MANAGED]: 'true', [LABEL_SCOPE]: this.scope };
  }

  async ping(): Promise<void> {
    await this.client.ping();
    await this.client.negotiate();
  }

  async inspectImage(image: string): Promise<ImageInfo> {
    try {
      const img = await this.client.images.inspect(image);
      return { id: img.Id, repoDigest: img.RepoDigests?.[0] ?? null };
    } catch (err) {
      if (err instanceof HotswapError && err.code === 'IMAGE_NOT_FOUND') {
        const hint = `docker pull ${image}, or let hotswap pull it (pull: missing)`;
        throw new HotswapError(
          'IMAGE_NOT_FOUND',
          `image ${image} is not present on this host (${hint})`,
          {
            details: { image },
            cause: err,
          },
        );
      }
      throw err;
    }
  }

  ensureImage(
    image: string,
    pull: PullPolicy,
    progress?: (message: string) => void,
  ): Promise<ImageInfo> {
    return ensureImage(this.client, image, pull, progress);
  }

  async startInstance(req: InstanceRequest): Promise<Instance> {
    const portKey = `${req.port}/tcp`;
    const name = [
      'hotswap',
      nameSafe(this.scope),
      nameSafe(req.service),
      `r${req.revision}`,
      randomBytes(3).toString('hex'),
    ].join('-');
    const labels = {
      ...this.scopeLabels,
      [LABEL_SERVICE]: req.service,
      [LABEL_REVISION]: String(req.revision),
      [LABEL_PORT]: String(req.port),
    };
    // A published port needs a network with outside access: the first such one is the primary.
    const nets = [...(req.networks ?? [])].sort((a, b) => Number(a.internal) - Number(b.internal));
    const publish = nets.length === 0 || !nets[0]!.internal;
    const body: ContainerCreateBody = {
      Image: req.image,
      Env: Object.entries(req.env).map(([k, v]) => `${k}=${v}`),
      Labels: labels,
      ExposedPorts: { [portKey]: {} },
      StopTimeout: Math.max(0, Math.ceil(req.stopGracePeriodMs / 1000)),
      HostConfig: {
        PortBindings: publish ? { [portKey]: [{ HostIp: '127.0.0.1', HostPort: '' }] } : {},
        RestartPolicy: { Name: 'no' },
        Mounts: req.volumes.map((v) => this.mount(v)),
        ...(nets.length > 0 ? { NetworkMode: nets[0]!.dockerName } : {}),
        ...(req.extraHosts?.length ? { ExtraHosts: req.extraHosts } : {}),
      },
    };
    if (req.command) body.Cmd = req.command;
    applyHardening(body, req.hardening);
    if (req.resources) Object.assign(body.HostConfig!, toDockerResources(req.resources));

    let created: { Id: string };
    try {
      created = await this.client.containers.create(body, { name });
    } catch (err) {
      if (err instanceof HotswapError && err.code === 'IMAGE_NOT_FOUND') {
        throw new HotswapError(
          'IMAGE_NOT_FOUND',
          `image ${req.image} is not present on this host`,
          {
            details: { image: req.image },
            cause: err,
          },
        );
      }
      throw err;
    }
    const id = created.Id;
    try {
      // Reload files are part of the instance's creation: it starts with the current ones.
      if (req.files?.length) await this.client.containers.putArchive(id, '/', filesTar(req.files));
      // API 1.41 takes one network at create; the others are joined before the start.
      for (const net of nets.slice(1)) await this.networks.connect(net.dockerName, id);
      await this.client.containers.start(id);
    } catch (err) {
      await this.client.containers.remove(id, { force: true, v: true }).catch(() => undefined);
      throw err;
    }

    // The port binding shows up in inspect once the container runs; allow a short lag.
    let c = await this.client.containers.inspect(id);
    for (let i = 0; i < 40 && c.State.Running && !reachableAt(c, req.port); i++) {
      await sleep(50);
      c = await this.client.containers.inspect(id);
    }
    if (!c.State.Running) {
      const logs = await this.logs(id, { tail: 20 }).catch(() => '');
      throw new HotswapError(
        'INSTANCE_EXITED',
        `instance ${name} of ${req.service} r${req.revision} exited right after start ` +
          `(exit code ${c.State.ExitCode})${logs ? `:\n${logs}` : ''}`,
        { details: { id, name, exitCode: c.State.ExitCode, logs } },
      );
    }
    if (!reachableAt(c, req.port)) {
      throw new HotswapError('DOCKER_API', `instance ${name}: port ${portKey} was not published`, {
        details: { id, name },
      });
    }
    return toInstance(c);
  }

  async inspectInstance(id: string): Promise<Instance | null> {
    const c = await this.client.containers.find(id);
    if (!c || c.Config.Labels?.[LABEL_SCOPE] !== this.scope) return null;
    return toInstance(c);
  }

  async signalInstance(id: string, signal: string): Promise<void> {
    await this.client.containers.kill(id, { signal });
  }

  async stopInstance(id: string, graceMs: number): Promise<void> {
    try {
      await this.client.containers.stop(id, { t: Math.max(0, Math.ceil(graceMs / 1000)) });
    } catch (err) {
      if (err instanceof HotswapError && err.code === 'NOT_FOUND') return;
      throw err;
    }
  }

  async removeInstance(id: string): Promise<void> {
    try {
      await this.client.containers.remove(id, { force: true, v: true });
    } catch (err) {
      if (err instanceof HotswapError && err.code === 'NOT_FOUND') return;
      // 409: removal already in progress (another caller got there first)
      if (err instanceof HotswapError && /already in progress/i.test(err.message)) return;
      throw err;
    }
  }

  async listInstances(filter: { service?: string; revision?: number } = {}): Promise<Instance[]> {
    const labels: Record<string, string> = { ...this.scopeLabels };
    if (filter.service !== undefined) labels[LABEL_SERVICE] = filter.service;
    if (filter.revision !== undefined) labels[LABEL_REVISION] = String(filter.revision);
    const list = await this.client.containers.list({ all: true, labels });
    return list
      .map(summaryToInstance)
      .sort((a, b) => ordinal(a.createdAt, b.createdAt) || ordinal(a.name, b.name));
  }

  async logs(id: string, opts: LogRequest = {}): Promise<string> {
    const out = await this.client.containers.logs(id, { ...opts, tail: opts.tail ?? 'all' });
    return out.combined;
  }

  async *followLogs(id: string, opts: LogRequest, signal: AbortSignal): AsyncIterable<string> {
    const frames = this.client.containers.followLogs(id, {
      ...opts,
      tail: opts.tail ?? 'all',
      signal,
    });
    for await (const frame of frames) yield frame.data.toString('utf8');
  }

  async instanceUsage(id: string): Promise<InstanceUsage | null> {
    try {
      return toUsage(await this.client.containers.stats(id), Date.now());
    } catch (err) {
      if (err instanceof HotswapError && err.code === 'NOT_FOUND') return null;
      throw err;
    }
  }

  // ---- beyond the Runtime contract: used by reload, hand-off and exec probes ----

  /** Runs a command in a running instance. */
  async exec(id: string, cmd: string[], opts?: RunOptions): Promise<ExecResult> {
    return this.client.exec.run(id, cmd, opts);
  }

  async imageHasHealthcheck(image: string): Promise<boolean> {
    const test = (await this.client.images.inspect(image)).Config?.Healthcheck?.Test ?? [];
    return test.length > 0 && test[0] !== 'NONE';
  }

  async instanceResources(id: string): Promise<{ limits: ResourcesSpec; memoryInUse: number }> {
    const [c, stats] = await Promise.all([
      this.client.containers.inspect(id),
      this.client.containers.stats(id),
    ]);
    return { limits: resourcesOf(c), memoryInUse: memoryInUse(stats) };
  }

  async cpuSample(id: string): Promise<{ cpuNs: number; atMs: number }> {
    const stats = await this.client.containers.stats(id);
    const at = Date.parse(stats.read);
    return {
      cpuNs: stats.cpu_stats.cpu_usage.total_usage,
      atMs: Number.isFinite(at) && at > 0 ? at : Date.now(),
    };
  }

  async updateResources(id: string, resources: ResourcesSpec): Promise<void> {
    await this.client.containers.update(id, toDockerResources(resources));
  }

  /** Writes files (relative names) under directory `dir` of the instance, which must exist. */
  async putFiles(
    id: string,
    dir: string,
    files: Record<string, string | Uint8Array>,
    opts: { mode?: number } = {},
  ): Promise<void> {
    const now = Math.floor(Date.now() / 1000);
    const tar = packTar(
      Object.entries(files).map(([name, data]) => ({ name, data, mode: opts.mode, mtime: now })),
    );
    await this.client.containers.putArchive(id, dir, tar);
  }

  async readFile(id: string, path: string): Promise<Buffer> {
    return this.client.containers.readFile(id, path);
  }

  /** Container events of this hotswap home until the signal aborts. */
  events(opts: { signal?: AbortSignal; since?: number } = {}): AsyncGenerator<DockerEvent> {
    return this.client.events.stream({
      labels: this.scopeLabels,
      types: ['container'],
      signal: opts.signal,
      since: opts.since,
    });
  }

  /** Closes the connection pool (when the runtime created its own client). */
  async close(): Promise<void> {
    if (this.ownsClient) await this.client.close();
  }

  private mount(v: VolumeSpec): Mount {
    if (v.source.startsWith('/')) {
      return { Type: 'bind', Source: v.source, Target: v.target, ReadOnly: v.readOnly };
    }
    return {
      Type: 'volume',
      Source: v.source,
      Target: v.target,
      ReadOnly: v.readOnly,
      VolumeOptions: { Labels: this.scopeLabels },
    };
  }
}

function publishedPort(c: ContainerInspect, port: number): string | null {
  const bindings = c.NetworkSettings.Ports?.[`${port}/tcp`] ?? [];
  const b = bindings.find((x) => x.HostIp === '127.0.0.1') ?? bindings[0];
  return b?.HostPort || null;
}

/** Where the proxy reaches the instance: its port on 127.0.0.1, else its first network address. */
function reachableAt(c: ContainerInspect, port: number): string | null {
  const hostPort = publishedPort(c, port);
  if (hostPort) return `127.0.0.1:${hostPort}`;
  const ip = networkAddress(c.NetworkSettings.Networks);
  return ip ? `${ip}:${port}` : null;
}

/** The address on the first user-defined network (internal networks publish no port). */
function networkAddress(networks: Record<string, { IPAddress?: string }> | null | undefined) {
  for (const [name, n] of Object.entries(networks ?? {}))
    if (name !== 'bridge' && n.IPAddress) return n.IPAddress;
  return null;
}

function labelsOf(labels: Record<string, string> | null | undefined) {
  const l = labels ?? {};
  return {
    service: l[LABEL_SERVICE] ?? '',
    revision: Number(l[LABEL_REVISION] ?? 0),
    port: Number(l[LABEL_PORT] ?? 0),
  };
}

function toInstance(c: ContainerInspect): Instance {
  const { service, revision, port } = labelsOf(c.Config.Labels);
  const state: InstanceState = c.State.Status;
  const address = state === 'running' ? reachableAt(c, port) : null;
  return {
    id: c.Id,
    name: c.Name.replace(/^\//, ''),
    service,
    revision,
    state,
    exitCode: state === 'exited' || state === 'dead' ? c.State.ExitCode : null,
    address,
    createdAt: new Date(c.Created).toISOString(),
    health: c.State.Health?.Status ?? 'none',
  };
}

function summaryToInstance(s: ContainerSummary): Instance {
  const { service, revision, port } = labelsOf(s.Labels);
  const state: InstanceState = s.State;
  const binding = s.Ports.find(
    (p) => p.PrivatePort === port && p.PublicPort && p.IP === '127.0.0.1',
  );
  const exit = /^Exited \((-?\d+)\)/.exec(s.Status);
  return {
    id: s.Id,
    name: (s.Names[0] ?? '').replace(/^\//, ''),
    service,
    revision,
    state,
    exitCode: exit ? Number(exit[1]) : null,
    address: state === 'running' ? summaryAddress(s, port, binding?.PublicPort) : null,
    createdAt: new Date(s.Created * 1000).toISOString(),
    health: healthFromStatus(s.Status),
  };
}

function summaryAddress(s: ContainerSummary, port: number, hostPort: number | undefined) {
  if (hostPort) return `127.0.0.1:${hostPort}`;
  const ip = networkAddress(s.NetworkSettings?.Networks);
  return ip ? `${ip}:${port}` : null;
}

function healthFromStatus(status: string): InstanceHealth {
  if (status.includes('(healthy)')) return 'healthy';
  if (status.includes('(unhealthy)')) return 'unhealthy';
  if (status.includes('(health: starting)')) return 'starting';
  return 'none';
}

/** A tar of files at absolute paths, to extract at "/" (Docker creates the parent folders). */
export function filesTar(files: InstanceFile[]): Buffer {
  const now = Math.floor(Date.now() / 1000);
  return packTar(
    files.map((f) => ({ name: f.path.replace(/^\/+/, ''), data: f.data, mtime: now })),
  );
}

/**
 * Code-unit order: ISO times and container names are ASCII. (localeCompare would load ICU's
 * collation data into the daemon, about 3 MiB of RSS, for the same order.)
 */
function ordinal(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}
