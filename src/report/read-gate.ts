// Docker stats reads of every rollout sampler pass through one gate: one read at a time, at
// least `gapMs` apart. An `up` of many services runs as many samplers (each samples its service
// for a minute after its rollout), and unbounded, their reads kept the engine busy while it was
// still starting the other services' containers (50 services: up took twice as long). A single
// rollout's few instances are read every second as before; many share the budget.
import { setTimeout as sleep } from 'node:timers/promises';

export class ReadGate {
  private chain: Promise<unknown> = Promise.resolve();
  private nextAt = 0;

  constructor(private readonly gapMs: number) {}

  /** Runs `read` when its turn comes; its result (or error) is the caller's. */
  run<T>(read: () => Promise<T>): Promise<T> {
    const turn = this.chain.then(async () => {
      const wait = this.nextAt - Date.now();
      if (wait > 0) await sleep(wait, undefined, { ref: false });
      try {
        return await read();
      } finally {
        this.nextAt = Date.now() + this.gapMs;
      }
    });
    this.chain = turn.catch(() => undefined);
    return turn;
  }
}

/** The daemon's gate for Docker stats reads: at most about ten a second. */
export const usageReads = new ReadGate(100);
