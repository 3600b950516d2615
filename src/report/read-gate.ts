// Docker stats reads of every rollout sampler pass through one gate: one read at a time, at
// least `gapMs` apart. An `up` of many services runs as many samplers (each samples its service
// for a minute after its rollout), and unbounded, their reads kept the engine busy while it was
// still starting the other services' containers (50 services: up took twice as long). A single
// rollout's few instances are read every second as before; many share the budget.
import { setTimeout as sleep } from 'node:timers/promises';

export class ReadGate {
  private chain: Promise<unknown> = Promise.resolve();
  private nextAt = 0;

  /**
   * @param gapMs the least time between the end of one read and the start of the next
   * @param holdMs the longest one read holds the gate: a stats call on a container being removed
   *   can take seconds, and every sampler of the daemon would wait behind it
   */
  constructor(
    private readonly gapMs: number,
    private readonly holdMs = 500,
  ) {}

  /** Runs `read` when its turn comes; its result (or error) is the caller's. */
  run<T>(read: () => Promise<T>): Promise<T> {
    const turn = this.chain.then(async () => {
      const wait = this.nextAt - Date.now();
      if (wait > 0) await sleep(wait, undefined, { ref: false });
    });
    const result = turn.then(read);
    const settled = result.then(
      () => undefined,
      () => undefined,
    );
    const held = turn.then(() => sleep(this.holdMs, undefined, { ref: false }));
    this.chain = Promise.race([settled, held]).then(() => {
      this.nextAt = Date.now() + this.gapMs;
    });
    return result;
  }
}

/** The daemon's gate for Docker stats reads: at most about ten a second. */
export const usageReads = new ReadGate(100);
