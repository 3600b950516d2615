import { HotswapError } from '../errors.js';

/** One operation per service at a time: a second `up` while a rollout runs is a conflict, not a queue. */
export class ServiceLocks {
  private readonly held = new Map<string, string>();
  private readonly waiters = new Map<string, Array<() => void>>();

  async with<T>(service: string, what: string, fn: () => Promise<T>): Promise<T> {
    const current = this.held.get(service);
    if (current !== undefined) {
      throw new HotswapError('CONFLICT', `service "${service}" is busy: ${current} in progress`, {
        details: { service, busyWith: current },
      });
    }
    this.held.set(service, what);
    try {
      return await fn();
    } finally {
      this.held.delete(service);
      for (const wake of this.waiters.get(service) ?? []) wake();
      this.waiters.delete(service);
    }
  }

  /** Resolves once the service's current operation (if any) has ended. */
  released(service: string): Promise<void> {
    if (!this.held.has(service)) return Promise.resolve();
    return new Promise((resolve) => {
      const list = this.waiters.get(service) ?? [];
      list.push(resolve);
      this.waiters.set(service, list);
    });
  }

  busy(service: string): string | null {
    return this.held.get(service) ?? null;
  }
}
