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
  requests: number;
  errors: number;
  inFlight: number;
}

export interface RevisionStats {
  requests: number;
  /** Responses by status class: "2xx", "3xx", "4xx", "5xx". */
  statuses: Record<string, number>;
  errors: number;
}

export interface ServiceStats {
  revisions: Record<string, RevisionStats>;
  instances: Record<string, InstanceStats>;
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
