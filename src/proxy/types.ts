// The proxy's routing table and the router contract the controller drives it with.
// Strategies never touch sockets: they ask a Router to set weights, verify them, and drain.

export type BackendState = 'active' | 'draining';

export interface Backend {
  /** Instance id (container id). */
  id: string;
  revision: number;
  /** 127.0.0.1:port */
  address: string;
  state: BackendState;
}

export interface ServiceRoute {
  /** host:port the proxy listens on for this service. */
  listen: string;
  /** revision number → weight (any non-negative integers; proportions matter). */
  weights: Record<string, number>;
  backends: Backend[];
}

export interface RouteTable {
  version: 1;
  services: Record<string, ServiceRoute>;
}

export interface DrainResult {
  drained: boolean;
  /** Requests still in flight when the drain ended (0 when drained). */
  inFlight: number;
  waitedMs: number;
}

export interface InstanceStats {
  /** Attempts sent to this instance (a retry counts on both instances). */
  requests: number;
  /** Failed attempts: connect failures, resets, timeouts. */
  errors: number;
  inFlight: number;
}

/** Latency of finished requests (dispatch to last byte), counted in fixed buckets. */
export interface LatencyHistogram {
  /** Upper bounds in ms; counts has one more entry, for everything above the last bound. */
  bounds: number[];
  counts: number[];
  /** Sum of all latencies in ms, for the mean. */
  sum: number;
}

export interface RevisionStats {
  /** Client requests that finished on this revision (a retried request counts once, where it ended). */
  requests: number;
  /** Responses by status class: "2xx", "3xx", "4xx", "5xx". */
  statuses: Record<string, number>;
  /** Requests the proxy failed (502/504, upstream reset mid-response); upstream 5xx are not errors here. */
  errors: number;
  latencyMs?: LatencyHistogram;
}

export interface ServiceStats {
  revisions: Record<string, RevisionStats>;
  /** Instances currently in the table; a forgotten instance's counters go with it. */
  instances: Record<string, InstanceStats>;
  /** Requests answered 503 because no backend was available. */
  unavailable?: number;
}

/** The router contract (after Argo Rollouts' TrafficRouting): the controller's only way to move traffic. */
export interface Router {
  ensureService(service: string, listen: string): Promise<void>;
  removeService(service: string): Promise<void>;
  /** Adds an instance as an active backend. Idempotent by id. */
  addBackend(service: string, backend: Omit<Backend, 'state'>): Promise<void>;
  /** Stops routing new requests to the instance, waits for in-flight ones up to timeoutMs, then forgets it. */
  drain(service: string, instanceId: string, timeoutMs: number): Promise<DrainResult>;
  setWeights(service: string, weights: Record<string, number>): Promise<void>;
  /** True when the proxy's live table has exactly these weights. */
  verifyWeights(service: string, weights: Record<string, number>): Promise<boolean>;
  table(): Promise<RouteTable>;
  stats(service: string): Promise<ServiceStats>;
}
