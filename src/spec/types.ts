// The normalized shape of hotswap.yaml after parsing and defaults. Durations are milliseconds.

export interface HttpHealth {
  type: 'http';
  path: string;
}
export interface TcpHealth {
  type: 'tcp';
}

export interface HealthSpec {
  check: HttpHealth | TcpHealth;
  intervalMs: number;
  timeoutMs: number;
  healthyThreshold: number;
  unhealthyThreshold: number;
  /** How long a new instance may take to become healthy before the rollout fails. */
  deadlineMs: number;
}

export interface RollingStrategy {
  type: 'rolling';
  /** Absolute instance counts, resolved from numbers or percentages of replicas. */
  maxSurge: number;
  maxUnavailable: number;
}
export interface RecreateStrategy {
  type: 'recreate';
}
export type StrategySpec = RollingStrategy | RecreateStrategy;

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
export type DrainNotice = { type: 'http'; path: string; graceMs: number } | { type: 'signal'; signal: string; graceMs: number };

export interface DrainSpec {
  timeoutMs: number;
  longConnections: LongConnectionPolicy;
  notify: DrainNotice | null;
}

export interface RoutingSpec {
  hosts: string[];
  pathPrefix: string | null;
  sticky: { cookie?: string; header?: string } | null;
}

export interface ServiceSpec {
  name: string;
  image: string;
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
  stopGracePeriodMs: number;
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
