import { HotswapError } from '../errors.js';

/** What the background reconcile loop holds a service with. */
export const RECONCILE = 'reconcile';

interface Held {
  what: string;
  done: Promise<void>;
}

/**
 * One operation per service at a time: a second `up` while a rollout runs is a conflict, not a
 * queue. The reconcile loop is the exception: a user operation waits for its short pass to end.
 */
export class ServiceLocks {
  private readonly held = new Map<string, Held>();

  async with<T>(service: string, what: string, fn: () => Promise<T>): Promise<T> {
    let current = this.held.get(service);
    while (current?.what === RECONCILE && what !== RECONCILE) {
      await current.done;
      current = this.held.get(service);
    }
    if (current !== undefined) {
      throw new HotswapError(
        'CONFLICT',
        `service "${service}" is busy: ${current.what} in progress`,
        { details: { service, busyWith: current.what } },
      );
    }
    let release!: () => void;
    this.held.set(service, { what, done: new Promise<void>((r) => (release = r)) });
    try {
      return await fn();
    } finally {
      this.held.delete(service);
      release();
    }
  }

  /** Resolves once the service's current operation (if any) has ended. */
  released(service: string): Promise<void> {
    return this.held.get(service)?.done ?? Promise.resolve();
  }

  busy(service: string): string | null {
    return this.held.get(service)?.what ?? null;
  }
}
