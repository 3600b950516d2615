// The contract between the controller and a runtime backend. A backend runs instances of
// revisions and reports where they listen; it knows nothing of strategies or traffic.

import type { HardeningSpec, PlacementSpec, ResourcesSpec, VolumeSpec } from '../spec/types.js';

export interface ImageInfo {
  /** Image id (sha256:...) — the content digest of the local image config. */
  id: string;
  /** First RepoDigest if the image came from a registry, else null. */
  repoDigest: string | null;
}

export interface LogRequest {
  tail?: number;
  /** Only lines written at or after this time (unix seconds). */
  since?: number;
  /** Prefix each line with its RFC 3339 time, as docker logs -t does. */
  timestamps?: boolean;
}

/** When an image is fetched from its registry (the spec's `pull`). */
export type PullPolicy = 'missing' | 'always' | 'never';

export interface InstanceRequest {
  service: string;
  revision: number;
  image: string;
  env: Record<string, string>;
  command: string[] | null;
  /** Port inside the container; published on 127.0.0.1 with a free host port. */
  port: number;
  volumes: VolumeSpec[];
  /** Seconds docker waits after SIGTERM before SIGKILL when the container is stopped. */
  stopGracePeriodMs: number;
  /** User, read-only root, capabilities, no-new-privileges, pids limit, tmpfs (issue 14). */
  hardening?: HardeningSpec;
  /** CPU, memory and pids limits (issue 16). */
  resources?: ResourcesSpec;
  /** Copied in after the container is created, before it starts (reload files, issue 16). */
  files?: InstanceFile[];
  /**
   * Private networks to join (issue 16), by engine name; absent: the engine's default bridge. An
   * instance on internal networks only cannot publish its port: it is then reached at its address
   * on the first network (the host is on every bridge).
   */
  networks?: Array<{ dockerName: string; internal: boolean }>;
  /** "name:ip" lines for the container's /etc/hosts: how it finds other services (the proxy). */
  extraHosts?: string[];
  /** Cluster placement (issue 17); a single-host backend ignores it. */
  placement?: PlacementSpec;
  /** How long a cluster backend may wait for a node to run the instance (the health deadline). */
  startDeadlineMs?: number;
}

/** A file written into a container at an absolute path; parent folders are created. */
export interface InstanceFile {
  path: string;
  data: Uint8Array;
}

export type InstanceState =
  'created' | 'running' | 'restarting' | 'exited' | 'dead' | 'paused' | 'removing';

export interface Instance {
  id: string;
  name: string;
  service: string;
  revision: number;
  state: InstanceState;
  exitCode: number | null;
  /** host:port on 127.0.0.1 where the container port is published, or null if not running. */
  address: string | null;
  createdAt: string;
  /** Status of the image's own HEALTHCHECK ('none' when it declares none), when known. */
  health?: InstanceHealth;
}

export type InstanceHealth = 'none' | 'starting' | 'healthy' | 'unhealthy';

export interface Runtime {
  /** Throws DOCKER_UNAVAILABLE when the engine cannot be reached. */
  ping(): Promise<void>;
  /** Throws IMAGE_NOT_FOUND when the image is not present locally. */
  inspectImage(image: string): Promise<ImageInfo>;
  /** The image by its pull policy, pulling it if need be; progress gets readable lines. */
  ensureImage(
    image: string,
    pull: PullPolicy,
    progress?: (message: string) => void,
  ): Promise<ImageInfo>;
  /** Creates and starts one instance; resolves once it is running with its port published. */
  startInstance(req: InstanceRequest): Promise<Instance>;
  inspectInstance(id: string): Promise<Instance | null>;
  /** Sends a signal to the instance's main process (a drain notice, a reload). */
  signalInstance(id: string, signal: string): Promise<void>;
  /** SIGTERM, then SIGKILL after graceMs. Already-stopped is fine. */
  stopInstance(id: string, graceMs: number): Promise<void>;
  /** Removes a stopped (or running, forced) instance. Missing is fine. */
  removeInstance(id: string): Promise<void>;
  /** Instances managed by this hotswap home, optionally filtered. */
  listInstances(filter?: { service?: string; revision?: number }): Promise<Instance[]>;
  logs(id: string, opts?: LogRequest): Promise<string>;
  /**
   * Runs a command (exec form) in a running instance: exec health probes (issue 16). Optional so
   * test doubles need not have it; the Docker backend does.
   */
  exec?(
    id: string,
    cmd: string[],
    opts?: { timeoutMs?: number; signal?: AbortSignal },
  ): Promise<{ exitCode: number; output: string }>;
  /** Whether the image declares a HEALTHCHECK (for `health.docker`; optional like exec). */
  imageHasHealthcheck?(image: string): Promise<boolean>;
  /** Limits an instance has now and the memory it uses (issue 16; optional like exec). */
  instanceResources?(id: string): Promise<{ limits: ResourcesSpec; memoryInUse: number }>;
  /** CPU time the instance used so far (ns) and when it was read: two samples give CPU %. */
  cpuSample?(id: string): Promise<{ cpuNs: number; atMs: number }>;
  /** Changes an instance's limits live (docker update): no restart. */
  updateResources?(id: string, resources: ResourcesSpec): Promise<void>;
  /**
   * Private networks (issue 16): creates this home's network when missing and returns where it
   * is; refuses (CONFLICT) a network of that name hotswap did not create. Optional like exec.
   */
  ensureNetwork?(
    name: string,
    internal: boolean,
  ): Promise<{ dockerName: string; gateway: string; subnet: string }>;
  /** Removes this home's networks no container uses, except `keep` (engine names). */
  removeUnusedNetworks?(keep: ReadonlySet<string>): Promise<string[]>;
  /** Log text as it is written, until the instance stops or the signal aborts. */
  followLogs(id: string, opts: LogRequest, signal: AbortSignal): AsyncIterable<string>;
  /**
   * An http or tcp check of an instance address, for backends whose addresses the daemon cannot
   * reach itself (Swarm: overlay IPs, checked from a proxy on the overlay). Absent: the daemon
   * connects to the address directly.
   */
  reach?(
    check: { type: 'http'; path: string } | { type: 'tcp' },
    address: string,
    timeoutMs: number,
  ): Promise<{ ok: boolean; detail: string }>;
  /**
   * Instances of a revision that crowd one node while another usable node holds two fewer (a
   * lost node came back): the controller moves them one at a time, health-gated and drained.
   * Only cluster backends have it.
   */
  crowded?(service: string, revision: number): Promise<string[]>;
  /** One CPU/memory reading of a running instance (Docker stats); null when it is gone. Optional: fakes may leave it out. */
  instanceUsage?(id: string): Promise<InstanceUsage | null>;
}

/** Raw resource counters of an instance at one moment (see runtime/docker/usage.ts). */
export interface InstanceUsage {
  atMs: number;
  cpuTotalNs: number | null;
  systemNs: number | null;
  onlineCpus: number;
  /** Memory in use minus reclaimable page cache, as `docker stats` shows it. */
  memoryBytes: number | null;
  memoryLimitBytes: number | null;
}
