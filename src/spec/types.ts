// The normalized shape of hotswap.yaml after parsing and defaults. Durations are milliseconds.
import type { AlertRule, NotifyTarget } from './observe.js';

export interface HttpHealth {
  type: 'http';
  path: string;
}
export interface TcpHealth {
  type: 'tcp';
}
/** A command run inside the container (exec form, no shell); exit code 0 passes. */
export interface ExecHealth {
  type: 'exec';
  command: string[];
}
/** The image's own HEALTHCHECK, as Docker reports it (State.Health.Status). */
export interface DockerHealth {
  type: 'docker';
}

/**
 * A phase before readiness for slow starters: passes `healthyThreshold` probes in a row within
 * its own deadline; only then does the readiness deadline start.
 */
export interface StartupProbeSpec {
  intervalMs: number;
  healthyThreshold: number;
  deadlineMs: number;
}

export interface HealthSpec {
  check: HttpHealth | TcpHealth | ExecHealth | DockerHealth;
  intervalMs: number;
  timeoutMs: number;
  healthyThreshold: number;
  unhealthyThreshold: number;
  /** How long a new instance may take to become healthy before the rollout fails. */
  deadlineMs: number;
  /** Absent when the spec has none, so older config hashes do not change. */
  startup?: StartupProbeSpec;
}

/** One analysis run: `count` judgements, `intervalMs` apart. */
export interface AnalysisRun {
  intervalMs: number;
  count: number;
}

export interface RollingStrategy {
  type: 'rolling';
  /** Absolute instance counts, resolved from numbers or percentages of replicas. */
  maxSurge: number;
  maxUnavailable: number;
  /** Judge the new instances against the old ones after each batch. */
  analysis: AnalysisRun | null;
}
export interface RecreateStrategy {
  type: 'recreate';
  /** Carry process state over with docker checkpoint (CRIU), where the host supports it. */
  checkpoint?: true;
}

export type CanaryStepSpec =
  | { setWeight: number }
  /** durationMs null: wait until promoted. */
  | { pause: { durationMs: number | null } }
  | { analysis: AnalysisRun };

export interface CanaryStrategy {
  type: 'canary';
  steps: CanaryStepSpec[];
  /** 'follow': ceil(replicas × weight / 100) instances; a number: that many until promotion. */
  canaryReplicas: 'follow' | number;
}

export interface BlueGreenStrategy {
  type: 'blue-green';
  previewListen: string | null;
  /** null: promoted by hand. */
  autoPromotionMs: number | null;
  prePromotionAnalysis: AnalysisRun | null;
  scaleDownDelayMs: number;
}

/** Watch after promotion: the new revision judged against the pre-rollout baseline. */
export interface PostPromotionSpec {
  windowMs: number;
  intervalMs: number;
}

/** Absent postPromotion: no watch (and stored specs from before it keep their shape). */
export type StrategySpec = (
  RollingStrategy | RecreateStrategy | CanaryStrategy | BlueGreenStrategy
) & { postPromotion?: PostPromotionSpec };

/** How the canary judge decides; ratios are fractions (0.02 = 2%). */
export interface AnalysisSpec {
  intervalMs: number;
  failureLimit: number;
  minRequests: number;
  errorRate: { maxAbsolute: number; alpha: number } | null;
  latency: { maxP99Ratio: number; maxP50Ratio: number; alpha: number; minDeltaMs: number } | null;
  prometheus: {
    url: string;
    checks: Array<{ name: string; query: string; max?: number; min?: number }>;
  } | null;
}

export interface VolumeSpec {
  /** Absolute host path (resolved against the spec file's folder) or a named volume. */
  source: string;
  target: string;
  readOnly: boolean;
}

export interface LongConnectionPolicy {
  policy: 'keep' | 'close';
  timeoutMs: number;
}

/** How a draining instance is told its long connections will be cut, so it can ask clients to reconnect. */
export type DrainNotice =
  | { type: 'http'; path: string; graceMs: number }
  | { type: 'signal'; signal: string; graceMs: number };

export interface DrainSpec {
  timeoutMs: number;
  longConnections: LongConnectionPolicy;
  notify: DrainNotice | null;
}

export interface RoutingSpec {
  hosts: string[];
  pathPrefix: string | null;
  sticky: { cookie?: string; header?: string } | null;
  /** Requests that force a revision by header or cookie (`N` or `N:secret`); null: off. */
  override: { header?: string; cookie?: string; secret?: string } | null;
}

export interface ServiceSpec {
  name: string;
  image: string;
  /** When the image is fetched from its registry; absent in revisions stored before it existed. */
  pull: 'missing' | 'always' | 'never';
  replicas: number;
  /** Port the app listens on inside the container. */
  port: number;
  /** http: HTTP/1.1 with WebSocket and SSE; tcp: raw TCP splice. */
  mode: 'http' | 'tcp';
  /** Proxy listener address, host:port. */
  listen: string;
  routing: RoutingSpec;
  env: Record<string, string>;
  command: string[] | null;
  volumes: VolumeSpec[];
  health: HealthSpec;
  strategy: StrategySpec;
  drain: DrainSpec;
  analysis: AnalysisSpec;
  /** After a rollout the previous revision stays warm (running, weight 0) this long: rollback is a flip. */
  keepPreviousMs: number;
  stopGracePeriodMs: number;
  /** TLS at the service's listener; null: plain HTTP. */
  tls: TlsSpec | null;
  /** What one client may take of the listener (0: no limit). */
  limits: LimitsSpec;
  /** Container hardening (user, read-only root, capabilities, …); absent = Docker's defaults. */
  hardening?: HardeningSpec;
  /** Env variables read from files at container start; only their digests are kept. */
  secretEnv?: Record<string, SecretEnvSpec>;
  /** Host commands run before any instance of a new version starts. */
  preflight?: PreflightSpec[];
  /** Files applied to running instances by a reload rather than a new revision (issue 16). */
  reload?: ReloadSpec;
  /** State exported from an old instance into its new replacement before it serves (issue 16). */
  handoff?: HandoffSpec;
  /** CPU, memory and pids limits, changed live on running instances. */
  resources?: ResourcesSpec;
  /** replicas is then the starting count; the autoscaler owns it afterwards. */
  autoscale?: AutoscaleSpec;
  /** Webhooks told about this service's rollouts, crash loops and alerts (issue 15). */
  notify?: NotifyTarget[];
  /** Alert rules the daemon evaluates on the proxy's and Docker's numbers (issue 15). */
  alerts?: AlertRule[];
  /** Private networks it joins (issue 16); absent: the home's network "default". */
  networks?: NetworkSpec[];
  /**
   * Set by the daemon, never read from the file: the other services sharing one of its networks,
   * whose names its instances resolve (absent: none). Part of the config hash: /etc/hosts is.
   */
  peers?: string[];
  /**
   * Set by the daemon, never read from the file: the networks as created on the engine, and the
   * names of the services reachable from this one. Not part of the config hash.
   */
  attached?: AttachedNetworks;
  /** Cluster placement (Swarm backend, issue 17); absent: anywhere. */
  placement?: PlacementSpec;
}

/** A network as the spec declares it. */
export interface NetworkSpec {
  name: string;
  /** No access outside the network. */
  internal: boolean;
}

/** A service's networks as the daemon resolved them on the engine. */
export interface AttachedNetworks {
  networks: ResolvedNetwork[];
  /** Host entries "name:ip" its instances get: every service sharing a network, at that network's gateway (the proxy). */
  hosts: string[];
}

export interface ResolvedNetwork extends NetworkSpec {
  /** The engine's name for it (hotswap-<scope>-<name>). */
  dockerName: string;
  /** The bridge's address on the host: the proxy answers there for the network's services. */
  gateway: string;
  /** CIDR of the network; only connections from it are served on the gateway. */
  subnet: string;
}

/** Swarm placement: constraints as Swarm writes them, and the node attribute to spread over. */
export interface PlacementSpec {
  constraints: string[];
  /** node.id, node.hostname or node.labels.<name>. */
  spread: string;
}

export type HandoffEndpoint = { type: 'http'; path: string } | { type: 'exec'; command: string[] };

export interface HandoffSpec {
  export: HandoffEndpoint;
  import: HandoffEndpoint;
  /** Bounds one hand-off, export and import together. */
  timeoutMs: number;
  maxBytes: number;
  /** fail: the rollout fails (and is undone); continue: the new instance starts empty. */
  onFail: 'fail' | 'continue';
}

/** A reload file as read with the spec: its content travels with it (base64). */
export interface ReloadFileSpec {
  /** Absolute host path it was read from. */
  source: string;
  /** Absolute path in the container. */
  target: string;
  sha256: string;
  content: string;
}

export interface ReloadSpec {
  files: ReloadFileSpec[];
  trigger:
    | { type: 'signal'; signal: string }
    | { type: 'exec'; command: string[] }
    | { type: 'http'; path: string; method: string };
  /** null: the trigger succeeding is enough. */
  verify:
    | { type: 'http'; path: string; status: number | null; body: string | null }
    | { type: 'probe' }
    | null;
  /** Bounds the trigger and the verify, each. */
  timeoutMs: number;
}

/** Live resources (issue 16); sizes in bytes. Not in the config hash: applied with docker update. */
export interface ResourcesSpec {
  cpus?: number;
  memory?: number;
  /** Memory + swap; -1: unlimited swap. Unset: Docker's default (as much swap as memory). */
  memorySwap?: number;
  pids?: number;
}

/** Instances follow load between min and max (issue 16). */
export interface AutoscaleSpec {
  min: number;
  max: number;
  /** Requests per second per instance, from the proxy; null: not a criterion. */
  targetRps: number | null;
  /** CPU % per instance (100 = one core), from Docker; null: not a criterion. */
  targetCpu: number | null;
  cooldownMs: number;
}

export interface PreflightSpec {
  run: string[];
  timeoutMs: number;
  /** block: a failure stops the update (the old revision keeps serving); warn: it is reported. */
  onFail: 'block' | 'warn';
}

export interface HardeningSpec {
  user?: string;
  readOnly?: boolean;
  capDrop?: string[];
  capAdd?: string[];
  noNewPrivileges?: boolean;
  pidsLimit?: number;
  /** mount path → options ("" for none) */
  tmpfs?: Record<string, string>;
}

/** An env value read from `file` (absolute) whose content had this sha256 when the spec was read. */
export interface SecretEnvSpec {
  file: string;
  sha256: string;
}

export interface LimitsSpec {
  /** Connections open at once on the listener. */
  maxConnections: number;
  /** Largest request body (413 above it). */
  maxBodyBytes: number;
  /** A WebSocket, SSE stream or TCP connection is cut after this long. */
  maxConnectionDurationMs: number;
  /** mode: tcp — a connection silent this long is closed. */
  tcpIdleTimeoutMs: number;
}

/** TLS at a listener: a certificate from files, or one hotswap obtains with ACME. */
export interface TlsSpec {
  /** Absolute paths (relative ones resolved against the spec's folder); null with ACME. */
  cert: string | null;
  key: string | null;
  acme: AcmeSpec | null;
  /** A plain listener that redirects to https (and answers ACME HTTP-01). */
  redirect: string | null;
  /** Strict-Transport-Security max-age in seconds; 0: none. */
  hstsMaxAgeS: number;
  hstsIncludeSubDomains: boolean;
}

export interface AcmeSpec {
  email: string;
  /** The ACME directory URL. */
  directory: string;
  /** A PEM file of CAs to trust for the directory's HTTPS (a test server's own CA); null: the system's. */
  directoryCa: string | null;
  /** Renew this long before the certificate expires. */
  renewBeforeMs: number;
}

export interface Spec {
  /** Path of the file the spec came from, as given. */
  file: string;
  services: ServiceSpec[];
}

/** One problem found in a spec file; line and col are 1-based. */
export interface SpecIssue {
  file: string;
  line: number;
  col: number;
  /** Dotted field path, e.g. services.web.health.interval */
  path: string;
  message: string;
  expected?: string;
  found?: string;
}
