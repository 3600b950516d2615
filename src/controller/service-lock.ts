import { HotswapError } from '../errors.js';

/** One operation per service at a time: a second `up` while a rollout runs is a conflict, not a queue. */
export class ServiceLocks {
  private readonly held = new Map<string, string>();

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
    }
  }

  busy(service: string): string | null {
    return this.held.get(service) ?? null;
  }
}
