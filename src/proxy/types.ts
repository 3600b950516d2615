// The proxy's routing table and the router contract the controller drives it with.
// Strategies never touch sockets: they ask a Router to set weights, verify them, and drain.

export type BackendState = 'active' | 'draining';

export interface Backend {
  /** Instance id (container id). */
  id: string;
  revision: number;
  /** 127.0.0.1:port, or an address in one of the service's private subnets. */
  address: string;
  state: BackendState;
}

/** `http`: an HTTP/1.1 reverse proxy (with WebSocket/upgrade and SSE); `tcp`: raw TCP splice. */
export type ProxyMode = 'http' | 'tcp';

/**
 * What a drain does with an instance's long connections (WebSocket and other upgrades, SSE
 * responses, TCP connections): `keep` lets them run until they close or `timeoutMs` ends (then
 * they are cut), `close` cuts them at once. A cut WebSocket gets a close frame 1001 first.
 */
export interface LongConnections {
  policy: 'keep' | 'close';
  timeoutMs: number;
}

/**
 * Sticky split between revisions: the value of the cookie (or header) is hashed onto the
 * cumulative weights of the revisions, so a client stays on its revision while weights move
 * towards it. A missing cookie is generated and set (`Path=/; HttpOnly; SameSite=Lax`); a missing
 * header falls back to the per-request split. With both, the header is tried first.
 */
export interface StickyConfig {
  cookie?: string;
  header?: string;
}

/**
 * Forcing a revision by request (to try a preview or a canary by hand): off unless configured.
 * The header's or cookie's value is the revision number, followed by `:secret` when a secret is
 * set. The header and the cookie never reach the app, and forced requests never count in the
 * revision's numbers (the canary judge reads those).
 */
export interface OverrideConfig {
  header?: string;
  cookie?: string;
  secret?: string;
}

/**
 * TLS at the listener: the proxy reads the PEM files itself (and again when they change). Every
 * service of one address is TLS or none is; with several, the client's SNI picks the service
 * by its hosts, and so its certificate.
 */
export interface TlsConfig {
  /** Certificate chain (leaf first), PEM, absolute path. */
  cert: string;
  /** Its private key, PEM, absolute path. */
  key: string;
  /** Strict-Transport-Security on every response: max-age in seconds (0 or unset: none). */
  hstsMaxAge?: number;
  hstsIncludeSubDomains?: boolean;
  /**
   * A plain HTTP listener that answers 308 to the https URL (and ACME HTTP-01 challenges the
   * daemon set on the proxy).
   */
  redirect?: string;
}

/** What an ACME certificate is ordered with. */
export interface AcmeOrder {
  email: string;
  directory: string;
  /** PEM file of CAs for the directory's HTTPS; null: the system's. */
  directoryCa: string | null;
  /** Names to certify (the service's routing.hosts). */
  hosts: string[];
  renewBeforeMs: number;
}

/**
 * The service answers on a private network too (issue 16): on the network's gateway address,
 * to connections from the network's subnet only, for requests whose Host is the service's name.
 */
export interface PrivateListener {
  /** gateway:port, e.g. "172.18.0.1:8080". */
  listen: string;
  /** The network's IPv4 CIDR. */
  subnet: string;
}

/** Everything `ensureService` sets; the route keeps it, with the weights and backends. */
export interface ServiceConfig {
  /** host:port the proxy listens on for this service. Several http services may share one. */
  listen: string;
  /** Default 'http'. A tcp service has its listener to itself. */
  mode?: ProxyMode;
  /** Host header values this service answers (without port): exact, or `*.suffix`. */
  hosts?: string[];
  /** Path prefix this service answers, on segment boundaries ("/api" matches "/api/x", not "/apix"). */
  pathPrefix?: string;
  /** Default: none (per-request weighted split). */
  sticky?: StickyConfig | null;
  /** Default none: plain HTTP. */
  tls?: TlsConfig | null;
  /**
   * The certificate is ACME's: the daemon's ACME router (src/tls/acme-router.ts) obtains it and
   * fills tls.cert and tls.key; this field never reaches the proxy.
   */
  acme?: AcmeOrder;
  /** Default none: no request can choose its revision. */
  override?: OverrideConfig | null;
  /** Default { policy: 'keep', timeoutMs: 30000 }; a drain may override it. */
  longConnections?: LongConnections;
  /** Largest request body accepted (413 above it). Default 100 MiB. */
  maxBodyBytes?: number;
  /** Connections open at once on the service's listener; beyond, new ones are closed. 0: no limit. */
  maxConnections?: number;
  /** A long connection (WebSocket, SSE, TCP) is cut after this long. 0: no limit. */
  maxLongMs?: number;
  /** TCP mode: a connection with no byte either way this long is closed. 0: none. */
  tcpIdleMs?: number;
  /** Addresses on private networks where the service answers to its name (issue 16). */
  private?: PrivateListener[];
}

/** A service as stored and reported: its config with defaults filled in, weights and backends. */
export interface ServiceRoute extends ServiceConfig {
  mode: ProxyMode;
  longConnections: LongConnections;
  maxBodyBytes: number;
  /** revision number → weight (any non-negative integers; proportions matter). */
  weights: Record<string, number>;
  backends: Backend[];
}

export interface RouteTable {
  version: 1;
  services: Record<string, ServiceRoute>;
}

export interface DrainOptions {
  /** Overrides the service's `longConnections` for this drain. */
  longConnections?: LongConnections;
  /**
   * The instance failed its health probes: requests waiting on it that may move (idempotent,
   * bodiless, no answer yet) are sent to another instance at once rather than at the budget's end.
   */
  unhealthy?: boolean;
}

export interface DrainResult {
  /** True when every HTTP request in flight finished within timeoutMs. */
  drained: boolean;
  /** HTTP requests still in flight when timeoutMs ended (0 when drained); they were cut. */
  inFlight: number;
  /** From the drain request to the end of the drain (HTTP requests and long connections). */
  waitedMs: number;
  long: {
    /** Long connections open when the drain began, plus SSE responses that began during it. */
    atStart: number;
    /** Closed by the client or the instance during the drain. */
    closedByPeer: number;
    /** Closed by the proxy: at once under `close`, at the budget's end under `keep`. */
    cut: number;
  };
}

/** Failures by kind: could not connect (refused, unreachable, connect timeout), no answer in time, reset mid-exchange, anything else. */
export interface ErrorsByKind {
  connect: number;
  timeout: number;
  reset: number;
  other: number;
}

/** Latency of finished requests (dispatch to last byte), in logarithmic buckets. */
export interface LatencyHistogram {
  /** Upper bounds in ms (each √2 times the previous); counts has one more entry, for everything above the last bound. */
  bounds: number[];
  counts: number[];
  /** Sum of all latencies in ms, for the mean. */
  sum: number;
}

export interface RevisionStats {
  /** Client requests that finished on this revision (a retried request counts once, where it ended). TCP: connections. */
  requests: number;
  /** Responses by status class: "1xx" … "5xx" (only classes seen). */
  statuses: Record<string, number>;
  /** Requests the proxy failed (502/504, upstream reset mid-response); upstream 5xx are not errors here. */
  errors: number;
  errorsByKind: ErrorsByKind;
  /** HTTP requests in flight on the revision's instances now. */
  inFlight: number;
  latencyMs: LatencyHistogram;
  /** The rest is present when stats were asked with a window (`windowMs`). */
  windowMs?: number;
  /** Requests finished in the window. */
  windowRequests?: number;
  /** Of those, 5xx responses and proxy failures. */
  windowErrors?: number;
  /** Latencies (ms) of requests finished in the window, newest first; at most the last 5,000. */
  samples?: number[];
}

export interface InstanceStats {
  revision: number;
  state: BackendState;
  /** Attempts sent to this instance (a retry counts on both instances). */
  requests: number;
  /** Failed attempts: connect failures, resets, timeouts. */
  errors: number;
  errorsByKind: ErrorsByKind;
  inFlight: number;
  /** Final responses this instance gave, by status class. */
  statuses: Record<string, number>;
  latencyMs: LatencyHistogram;
  /** Long connections open on it now. */
  longOpen: number;
  /** Taken out of the balancer after consecutive connect failures (passive ejection). */
  ejected: boolean;
  ejections: number;
}

export interface LongConnectionStats {
  open: number;
  /** Opened since the proxy started. */
  opened: number;
  /** Cut by the proxy (drain policy, budget end, service removed). */
  cut: number;
  /** Open now, by kind. */
  byKind: { websocket: number; upgrade: number; sse: number; tcp: number };
}

export interface ServiceStats {
  revisions: Record<string, RevisionStats>;
  /** Instances currently in the table; a forgotten instance's counters go with it. */
  instances: Record<string, InstanceStats>;
  /** Requests answered 503 (TCP: connections closed) because no backend was available. */
  unavailable: number;
  long: LongConnectionStats;
}

export interface StatsOptions {
  /** Adds the sliding-window fields (samples, windowRequests, windowErrors); 1 ms … 1 h. */
  windowMs?: number;
}

/** The router contract (after Argo Rollouts' TrafficRouting): the controller's only way to move traffic. */
export interface Router {
  /** Creates the service or updates its config (listener, mode, rules, sticky, long-connection policy). */
  ensureService(service: string, config: ServiceConfig): Promise<void>;
  removeService(service: string): Promise<void>;
  /** Adds an instance as an active backend. Idempotent by id. */
  addBackend(service: string, backend: Omit<Backend, 'state'>): Promise<void>;
  /**
   * Stops routing new requests and connections to the instance, waits for in-flight HTTP
   * requests up to timeoutMs and for long connections per policy, then forgets it.
   */
  drain(
    service: string,
    instanceId: string,
    timeoutMs: number,
    options?: DrainOptions,
  ): Promise<DrainResult>;
  setWeights(service: string, weights: Record<string, number>): Promise<void>;
  /** True when the proxy's live table has exactly these weights. */
  verifyWeights(service: string, weights: Record<string, number>): Promise<boolean>;
  table(): Promise<RouteTable>;
  stats(service: string, options?: StatsOptions): Promise<ServiceStats>;
}
