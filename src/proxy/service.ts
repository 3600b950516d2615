// The live state of one service: its targets, weights, balancer and per-revision counters.
// Every change to targets or weights rebuilds the balancer, so the request path never has to
// filter draining targets or zero weights itself.
import { HotswapError } from '../errors.js';
import { Balancer } from './balancer.js';
import { RevisionCounters } from './stats.js';
import { Target } from './targets.js';
import type { Backend, DrainResult, ServiceRoute, ServiceStats } from './types.js';
import { conflict } from './validate.js';

export class ServiceRuntime {
  readonly name: string;
  listen: string;
  readonly balancer = new Balancer();
  /** Requests answered 503 for want of a backend. */
  unavailable = 0;
  private weights: Record<string, number> = {};
  private readonly targets = new Map<string, Target>();
  private readonly revisions = new Map<number, RevisionCounters>();

  constructor(name: string, listen: string) {
    this.name = name;
    this.listen = listen;
  }

  /** Adds an active target (true); the same id with the same revision and address is a no-op. */
  addBackend(backend: Omit<Backend, 'state'>): boolean {
    const existing = this.targets.get(backend.id);
    if (existing !== undefined) {
      if (existing.revision !== backend.revision) {
        throw conflict(
          'revision',
          `backend ${backend.id} exists with revision ${existing.revision}`,
        );
      }
      if (existing.address !== backend.address) {
        throw conflict('address', `backend ${backend.id} exists with address ${existing.address}`);
      }
      if (existing.state === 'draining') {
        throw conflict('id', `backend ${backend.id} is draining; add it again after the drain`);
      }
      return false;
    }
    this.targets.set(backend.id, new Target(backend, this.counters(backend.revision)));
    this.rebuild();
    return true;
  }

  setWeights(weights: Record<string, number>): void {
    this.weights = { ...weights };
    this.rebuild();
  }

  getWeights(): Record<string, number> {
    return { ...this.weights };
  }

  /**
   * Takes the target out of the balancer at once and returns a promise for the end of its drain.
   * `onForget` runs when the target has been removed, before the promise settles.
   */
  drain(id: string, timeoutMs: number, onForget: () => Promise<void>): Promise<DrainResult> {
    const target = this.targets.get(id);
    if (target === undefined) {
      throw new HotswapError('NOT_FOUND', `service ${this.name} has no backend ${id}`);
    }
    const wasActive = target.state === 'active';
    const result = target.drain(timeoutMs);
    if (!wasActive) return result; // joined a drain already under way
    this.rebuild();
    return result.then(async (r) => {
      if (this.targets.get(id) === target) {
        this.targets.delete(id);
        this.rebuild();
      }
      await onForget();
      return r;
    });
  }

  /** Closes every pool; used when the service is removed or the proxy stops. */
  destroy(): void {
    for (const t of this.targets.values()) t.destroy();
    this.targets.clear();
    this.rebuild();
  }

  toRoute(): ServiceRoute {
    return {
      listen: this.listen,
      weights: { ...this.weights },
      backends: [...this.targets.values()].map((t) => t.toBackend()),
    };
  }

  stats(): ServiceStats {
    const revisions: ServiceStats['revisions'] = {};
    for (const [rev, c] of this.revisions) revisions[String(rev)] = c.snapshot();
    const instances: ServiceStats['instances'] = {};
    for (const t of this.targets.values()) instances[t.id] = t.stats();
    return { revisions, instances, unavailable: this.unavailable };
  }

  private counters(revision: number): RevisionCounters {
    let c = this.revisions.get(revision);
    if (c === undefined) {
      c = new RevisionCounters();
      this.revisions.set(revision, c);
    }
    return c;
  }

  private rebuild(): void {
    this.balancer.rebuild(this.targets.values(), this.weights);
  }
}
