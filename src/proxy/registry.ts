// The live route table: services, their listeners and their persistence, changed only through
// these methods. Changes run one at a time (a drain's wait runs outside that queue) and each
// one is on disk before its promise resolves, so an acknowledged change survives a restart.
import { HotswapError } from '../errors.js';
import type { Listeners } from './listeners.js';
import type { RouteStore } from './route-store.js';
import { ServiceRuntime } from './service.js';
import type { Backend, DrainResult, RouteTable, ServiceStats } from './types.js';
import { conflict } from './validate.js';

export class Registry {
  private readonly services = new Map<string, ServiceRuntime>();
  private queue: Promise<unknown> = Promise.resolve();

  constructor(
    private readonly listeners: Listeners,
    private readonly store: RouteStore,
    private readonly log: (line: string) => void,
  ) {}

  /**
   * Rebuilds the live state from a stored table. Draining backends are dropped (their drain
   * ended with the old process). A listener that cannot bind is logged and the service kept,
   * so the next ensureService retries the bind.
   */
  async restore(table: RouteTable): Promise<void> {
    for (const [name, route] of Object.entries(table.services)) {
      const svc = new ServiceRuntime(name, route.listen);
      for (const b of route.backends) {
        if (b.state === 'active')
          svc.addBackend({ id: b.id, revision: b.revision, address: b.address });
      }
      svc.setWeights(route.weights);
      this.services.set(name, svc);
      try {
        await this.listeners.ensure(svc, route.listen);
      } catch (err) {
        this.log(`service ${name}: ${(err as Error).message}`);
      }
    }
    await this.persist();
  }

  table(): RouteTable {
    const table: RouteTable = { version: 1, services: {} };
    for (const [name, svc] of this.services) table.services[name] = svc.toRoute();
    return table;
  }

  ensureService(name: string, listen: string): Promise<void> {
    return this.exclusive(async () => {
      for (const [other, svc] of this.services) {
        if (other !== name && svc.listen === listen) {
          throw conflict('listen', `${listen} is already used by service ${other}`);
        }
      }
      let svc = this.services.get(name);
      if (svc === undefined) svc = new ServiceRuntime(name, listen);
      if (svc.listen !== listen || this.listeners.address(name) !== listen) {
        this.log(`service ${name} listens on ${listen}`);
      }
      await this.listeners.ensure(svc, listen);
      svc.listen = listen;
      this.services.set(name, svc);
      await this.persist();
    });
  }

  /**
   * Removes the service (a missing one is fine). Resolves once the route is gone and its listener
   * stops accepting; requests in flight finish in the background, then its pools are closed.
   */
  async removeService(name: string): Promise<void> {
    const svc = await this.exclusive(async () => {
      const found = this.services.get(name);
      this.services.delete(name);
      await this.persist();
      return found;
    });
    if (svc === undefined) return;
    this.log(`service ${name} removed`);
    void this.listeners.close(name).then(() => svc.destroy());
  }

  addBackend(name: string, backend: Omit<Backend, 'state'>): Promise<void> {
    return this.exclusive(async () => {
      if (this.service(name).addBackend(backend)) {
        this.log(
          `service ${name}: backend ${backend.id} (revision ${backend.revision}) at ${backend.address}`,
        );
      }
      await this.persist();
    });
  }

  async drain(name: string, id: string, timeoutMs: number): Promise<DrainResult> {
    const started = await this.exclusive(async () => {
      const svc = this.service(name);
      const result = svc.drain(id, timeoutMs, () => this.exclusive(() => this.persist()));
      this.log(`service ${name}: draining backend ${id} (up to ${timeoutMs} ms)`);
      await this.persist();
      // Wrapped: returning the promise itself would make the queue wait for the whole drain.
      return { result };
    });
    const r = await started.result;
    this.log(
      `service ${name}: backend ${id} ${r.drained ? 'drained' : `cut with ${r.inFlight} in flight`} after ${r.waitedMs} ms`,
    );
    return r;
  }

  setWeights(name: string, weights: Record<string, number>): Promise<void> {
    return this.exclusive(async () => {
      this.service(name).setWeights(weights);
      this.log(`service ${name}: weights ${JSON.stringify(weights)}`);
      await this.persist();
    });
  }

  getWeights(name: string): Record<string, number> {
    return this.service(name).getWeights();
  }

  stats(name: string): ServiceStats {
    return this.service(name).stats();
  }

  /** Closes every listener (requests finish within the listeners' grace), then every pool. */
  async close(): Promise<void> {
    await this.listeners.closeAll();
    for (const svc of this.services.values()) svc.destroy();
    await this.queue.catch(() => undefined);
  }

  private service(name: string): ServiceRuntime {
    const svc = this.services.get(name);
    if (svc === undefined) throw new HotswapError('NOT_FOUND', `no service ${name} in the proxy`);
    return svc;
  }

  private async persist(): Promise<void> {
    try {
      await this.store.save(this.table());
    } catch (err) {
      this.log(`cannot save route table: ${(err as Error).message}`);
      throw new HotswapError('INTERNAL', `route table not saved: ${(err as Error).message}`, {
        cause: err,
      });
    }
  }

  private exclusive<T>(fn: () => Promise<T>): Promise<T> {
    const run = this.queue.then(fn, fn);
    this.queue = run.catch(() => undefined);
    return run;
  }
}
