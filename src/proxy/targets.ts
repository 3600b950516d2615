// One backend instance as the data plane sees it: where it is, how busy it is, and its own
// keep-alive connection pool. A pool per instance lets a drain close exactly that instance's
// sockets, so no idle keep-alive connection is left for the instance to reset at SIGTERM.
import http from 'node:http';
import type { RevisionCounters } from './stats.js';
import type { Backend, BackendState, DrainResult, InstanceStats } from './types.js';

const AGENT_OPTIONS: http.AgentOptions = {
  keepAlive: true,
  maxSockets: 256,
  maxFreeSockets: 64,
  // Idle pooled sockets are closed after this long. It is below Node's default server
  // keepAliveTimeout (5 s), so the pool gives up an idle socket before the app does instead of
  // racing the app's close with a new request. Node also honours a `Keep-Alive: timeout=` hint.
  timeout: 4000,
  scheduling: 'lifo',
};

export class Target {
  readonly id: string;
  readonly revision: number;
  readonly address: string;
  readonly host: string;
  readonly port: number;
  readonly agent: http.Agent;
  /** Where finished requests on this instance are counted (shared by its revision). */
  readonly counters: RevisionCounters;
  state: BackendState = 'active';
  inFlight = 0;
  requests = 0;
  errors = 0;
  private drained: Promise<DrainResult> | null = null;
  private wakeDrain: (() => void) | null = null;

  constructor(backend: Omit<Backend, 'state'>, counters: RevisionCounters) {
    this.id = backend.id;
    this.revision = backend.revision;
    this.address = backend.address;
    const colon = backend.address.lastIndexOf(':');
    this.host = backend.address.slice(0, colon);
    this.port = Number(backend.address.slice(colon + 1));
    this.counters = counters;
    this.agent = new http.Agent(AGENT_OPTIONS);
  }

  acquire(): void {
    this.inFlight++;
    this.requests++;
  }

  release(): void {
    this.inFlight--;
    if (this.inFlight === 0 && this.wakeDrain !== null) this.wakeDrain();
  }

  /**
   * Marks the target draining (the caller must rebuild its balancer so it is no longer chosen),
   * waits until nothing is in flight or timeoutMs passed, then closes every socket of its pool.
   * A second call joins the first drain.
   */
  drain(timeoutMs: number): Promise<DrainResult> {
    if (this.drained === null) {
      this.state = 'draining';
      this.drained = this.waitIdle(timeoutMs);
    }
    return this.drained;
  }

  private async waitIdle(timeoutMs: number): Promise<DrainResult> {
    const started = Date.now();
    if (this.inFlight > 0) {
      await new Promise<void>((resolve) => {
        const done = (): void => {
          clearTimeout(timer);
          this.wakeDrain = null;
          resolve();
        };
        const timer = setTimeout(done, timeoutMs);
        this.wakeDrain = done;
      });
    }
    const inFlight = this.inFlight;
    // Requests still running past the deadline are cut here rather than at the instance's
    // SIGTERM: the drain budget is the promise, and the caller stops the instance next.
    this.agent.destroy();
    return { drained: inFlight === 0, inFlight, waitedMs: Date.now() - started };
  }

  /** Closes the pool now (service removed or proxy closing); a pending drain ends at once. */
  destroy(): void {
    if (this.wakeDrain !== null) this.wakeDrain();
    this.agent.destroy();
  }

  toBackend(): Backend {
    return { id: this.id, revision: this.revision, address: this.address, state: this.state };
  }

  stats(): InstanceStats {
    return { requests: this.requests, errors: this.errors, inFlight: this.inFlight };
  }
}
