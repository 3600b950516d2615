// Container endpoints: create, start, stop, kill, remove, inspect, list, wait, update, stats,
// logs and the archive (copy files in and out).

import { HotswapError } from '../../errors.js';
import type { DockerClient } from './client.js';
import { labelFilters } from './labels.js';
import type { LabelSelector } from './labels.js';
import { collectOutput, demuxStream } from './stream.js';
import type { Frame, Output } from './stream.js';
import { unpackTar } from './tar.js';

export interface PortBinding {
  HostIp?: string;
  HostPort?: string;
}

export interface Mount {
  Type: 'bind' | 'volume' | 'tmpfs';
  Source?: string;
  Target: string;
  ReadOnly?: boolean;
  VolumeOptions?: { Labels?: Record<string, string>; NoCopy?: boolean };
  [key: string]: unknown;
}

export interface RestartPolicy {
  Name: '' | 'no' | 'always' | 'unless-stopped' | 'on-failure';
  MaximumRetryCount?: number;
}

/** Resources that can be changed on a running container (POST /containers/{id}/update). */
export interface Resources {
  /** Bytes; 0 = unlimited. */
  Memory?: number;
  /** Memory + swap in bytes; -1 = unlimited swap. Must be ≥ Memory when both are set. */
  MemorySwap?: number;
  MemoryReservation?: number;
  /** CPUs in units of 1e-9 (1.5 CPUs = 1_500_000_000). */
  NanoCpus?: number;
  CpuShares?: number;
  CpuPeriod?: number;
  CpuQuota?: number;
  CpusetCpus?: string;
  PidsLimit?: number;
  RestartPolicy?: RestartPolicy;
}

export interface HostConfig extends Resources {
  PortBindings?: Record<string, PortBinding[]>;
  Binds?: string[];
  Mounts?: Mount[];
  Init?: boolean;
  AutoRemove?: boolean;
  NetworkMode?: string;
  [key: string]: unknown;
}

export interface HealthConfig {
  Test?: string[];
  Interval?: number;
  Timeout?: number;
  Retries?: number;
  StartPeriod?: number;
}

export interface ContainerCreateBody {
  Image: string;
  Cmd?: string[];
  Entrypoint?: string[];
  Env?: string[];
  Labels?: Record<string, string>;
  ExposedPorts?: Record<string, object>;
  /** Seconds between SIGTERM and SIGKILL on stop. */
  StopTimeout?: number;
  StopSignal?: string;
  WorkingDir?: string;
  User?: string;
  Tty?: boolean;
  Healthcheck?: HealthConfig;
  HostConfig?: HostConfig;
  [key: string]: unknown;
}

export type ContainerStatus =
  'created' | 'running' | 'paused' | 'restarting' | 'removing' | 'exited' | 'dead';

export interface HealthState {
  Status: 'none' | 'starting' | 'healthy' | 'unhealthy';
  FailingStreak: number;
  Log: { Start: string; End: string; ExitCode: number; Output: string }[] | null;
}

export interface ContainerInspect {
  Id: string;
  Name: string;
  Created: string;
  Image: string;
  RestartCount: number;
  State: {
    Status: ContainerStatus;
    Running: boolean;
    Paused: boolean;
    Restarting: boolean;
    OOMKilled: boolean;
    Dead: boolean;
    Pid: number;
    ExitCode: number;
    Error: string;
    StartedAt: string;
    FinishedAt: string;
    Health?: HealthState;
  };
  Config: {
    Image: string;
    Env: string[] | null;
    Cmd: string[] | null;
    Entrypoint: string[] | null;
    Labels: Record<string, string> | null;
    Tty: boolean;
    ExposedPorts?: Record<string, object> | null;
    StopTimeout?: number;
  };
  HostConfig: HostConfig;
  NetworkSettings: {
    Ports: Record<string, PortBinding[] | null> | null;
    Networks?: Record<string, { IPAddress?: string }> | null;
  };
  Mounts: { Type: string; Name?: string; Source: string; Destination: string; RW: boolean }[];
  [key: string]: unknown;
}

export interface ContainerSummary {
  Id: string;
  Names: string[];
  Image: string;
  ImageID: string;
  Command: string;
  /** Unix seconds. */
  Created: number;
  State: ContainerStatus;
  /** Human status, e.g. "Up 3 seconds (healthy)". */
  Status: string;
  Ports: { IP?: string; PrivatePort: number; PublicPort?: number; Type: string }[];
  Labels: Record<string, string> | null;
  NetworkSettings?: { Networks?: Record<string, { IPAddress?: string }> | null };
}

export interface ContainerStats {
  read: string;
  pids_stats?: { current?: number; limit?: number };
  cpu_stats: {
    cpu_usage: { total_usage: number; percpu_usage?: number[] };
    system_cpu_usage?: number;
    online_cpus?: number;
  };
  precpu_stats: ContainerStats['cpu_stats'];
  memory_stats: { usage?: number; limit?: number; stats?: Record<string, number> };
  networks?: Record<string, { rx_bytes: number; tx_bytes: number }>;
  [key: string]: unknown;
}

export interface PathStat {
  name: string;
  size: number;
  mode: number;
  mtime: string;
  linkTarget: string;
}

export interface LogOptions {
  tail?: number | 'all';
  /** Unix seconds (or a docker duration string like "10m"). */
  since?: number | string;
  until?: number | string;
  timestamps?: boolean;
  stdout?: boolean;
  stderr?: boolean;
  /** Whether the container has a TTY (raw stream); looked up when not given. */
  tty?: boolean;
}

function cpath(id: string, rest = ''): string {
  return `/containers/${encodeURIComponent(id)}${rest}`;
}

export class ContainersApi {
  constructor(private readonly client: DockerClient) {}

  /** A 404 here means the image is missing: IMAGE_NOT_FOUND. */
  async create(
    body: ContainerCreateBody,
    opts: { name?: string } = {},
  ): Promise<{ Id: string; Warnings: string[] | null }> {
    return this.client.json({
      method: 'POST',
      path: '/containers/create',
      query: { name: opts.name },
      body,
      notFound: 'IMAGE_NOT_FOUND',
    });
  }

  /** Already running is fine. */
  async start(id: string): Promise<void> {
    await this.client.request({ method: 'POST', path: cpath(id, '/start'), accept: [304] });
  }

  /**
   * SIGTERM (or the image's StopSignal), SIGKILL after t seconds (default: the container's
   * StopTimeout). Resolves false when it was not running.
   */
  async stop(id: string, opts: { t?: number } = {}): Promise<boolean> {
    const res = await this.client.request({
      method: 'POST',
      path: cpath(id, '/stop'),
      query: { t: opts.t },
      accept: [304],
      // the engine answers once the container is down: after up to t s (or its StopTimeout)
      timeoutMs: opts.t === undefined ? 330_000 : (opts.t + 30) * 1000,
    });
    return res.status !== 304;
  }

  async kill(id: string, opts: { signal?: string } = {}): Promise<void> {
    await this.client.request({
      method: 'POST',
      path: cpath(id, '/kill'),
      query: { signal: opts.signal },
    });
  }

  async remove(id: string, opts: { force?: boolean; v?: boolean } = {}): Promise<void> {
    await this.client.request({
      method: 'DELETE',
      path: cpath(id),
      query: { force: opts.force, v: opts.v },
    });
  }

  async inspect(id: string): Promise<ContainerInspect> {
    return this.client.json<ContainerInspect>({ path: cpath(id, '/json') });
  }

  /** The container, or null when it does not exist. */
  async find(id: string): Promise<ContainerInspect | null> {
    try {
      return await this.inspect(id);
    } catch (err) {
      if (err instanceof HotswapError && err.code === 'NOT_FOUND') return null;
      throw err;
    }
  }

  async list(
    opts: { all?: boolean; labels?: LabelSelector; filters?: Record<string, string[]> } = {},
  ): Promise<ContainerSummary[]> {
    const filters: Record<string, string[]> = { ...opts.filters };
    if (opts.labels) filters.label = [...(filters.label ?? []), ...labelFilters(opts.labels)];
    return this.client.json<ContainerSummary[]>({
      path: '/containers/json',
      query: {
        all: opts.all ?? true,
        filters: Object.keys(filters).length ? JSON.stringify(filters) : undefined,
      },
    });
  }

  /** Waits until the container reaches the condition; resolves with its exit code. */
  async wait(
    id: string,
    opts: { condition?: 'not-running' | 'next-exit' | 'removed'; timeoutMs?: number } = {},
  ): Promise<{ StatusCode: number; Error?: { Message: string } | null }> {
    return this.client.json({
      method: 'POST',
      path: cpath(id, '/wait'),
      query: { condition: opts.condition },
      timeoutMs: opts.timeoutMs ?? 300_000,
    });
  }

  /** Changes resources of a (running) container. */
  async update(id: string, resources: Resources): Promise<{ Warnings: string[] | null }> {
    return this.client.json({ method: 'POST', path: cpath(id, '/update'), body: resources });
  }

  /**
   * One stats sample (stream=false). With oneShot (default) the engine answers at once and
   * precpu_stats is empty; with oneShot=false it waits for a second sample so CPU % can be
   * computed from cpu_stats - precpu_stats.
   */
  async stats(id: string, opts: { oneShot?: boolean } = {}): Promise<ContainerStats> {
    return this.client.json<ContainerStats>({
      path: cpath(id, '/stats'),
      query: { stream: false, 'one-shot': opts.oneShot ?? true },
    });
  }

  /** Logs so far, demultiplexed into stdout, stderr and both interleaved. */
  async logs(id: string, opts: LogOptions = {}): Promise<Output> {
    const tty = opts.tty ?? (await this.inspect(id)).Config.Tty;
    const res = await this.client.stream({
      path: cpath(id, '/logs'),
      query: logQuery(opts, false),
    });
    return collectOutput(res.body, { tty });
  }

  /** Follows logs until the container stops or the signal aborts. */
  async *followLogs(
    id: string,
    opts: LogOptions & { signal?: AbortSignal } = {},
  ): AsyncGenerator<Frame> {
    const tty = opts.tty ?? (await this.inspect(id)).Config.Tty;
    const res = await this.client.stream({
      path: cpath(id, '/logs'),
      query: logQuery(opts, true),
      signal: opts.signal,
    });
    try {
      yield* demuxStream(res.body, { tty });
    } catch (err) {
      if (opts.signal?.aborted) return;
      throw err;
    } finally {
      res.body.destroy();
    }
  }

  /** Extracts a tar archive into directory `path` of the container (which must exist). */
  async putArchive(
    id: string,
    path: string,
    tar: Buffer,
    opts: { noOverwriteDirNonDir?: boolean; copyUIDGID?: boolean } = {},
  ): Promise<void> {
    await this.client.request({
      method: 'PUT',
      path: cpath(id, '/archive'),
      query: { path, noOverwriteDirNonDir: opts.noOverwriteDirNonDir, copyUIDGID: opts.copyUIDGID },
      body: tar,
      headers: { 'content-type': 'application/x-tar' },
    });
  }

  /** A tar archive of `path` (file or directory) in the container, with its stat. */
  async getArchive(id: string, path: string): Promise<{ tar: Buffer; stat: PathStat | null }> {
    const res = await this.client.request({ path: cpath(id, '/archive'), query: { path } });
    const header = res.headers['x-docker-container-path-stat'];
    let stat: PathStat | null = null;
    if (typeof header === 'string') {
      try {
        stat = JSON.parse(Buffer.from(header, 'base64').toString('utf8')) as PathStat;
      } catch {
        stat = null;
      }
    }
    return { tar: res.body, stat };
  }

  /** The content of one regular file in the container. */
  async readFile(id: string, path: string): Promise<Buffer> {
    const { tar } = await this.getArchive(id, path);
    const file = unpackTar(tar).find((f) => f.type === 'file');
    if (!file) throw new HotswapError('NOT_FOUND', `${path} in container ${id} is not a file`);
    return file.data;
  }
}

function logQuery(opts: LogOptions, follow: boolean): Record<string, string | number | boolean> {
  const q: Record<string, string | number | boolean> = {
    stdout: opts.stdout ?? true,
    stderr: opts.stderr ?? true,
    follow,
    timestamps: opts.timestamps ?? false,
    tail: opts.tail ?? 'all',
  };
  if (opts.since !== undefined) q.since = opts.since;
  if (opts.until !== undefined) q.until = opts.until;
  return q;
}
