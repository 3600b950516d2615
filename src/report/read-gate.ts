// Docker stats reads of every rollout sampler pass through one gate: at most `limit` reads at a
// time. An `up` of many services runs as many samplers (each samples its service for a minute
// after its rollout), and unbounded, their reads kept the engine busy while it was still starting
// the other services' containers (50 services: up took twice as long). One rollout's few
// instances are still read together every second; many rollouts share the slots.
import { setTimeout as sleep } from 'node:timers/promises';

export class ReadGate {
  private inFlight = 0;
  private readonly waiting: Array<() => void> = [];

  /**
   * @param limit reads at a time
   * @param holdMs the longest one read holds its slot: a stats call on a container being removed
   *   can take seconds, and the daemon's other samplers must not wait behind it
   */
  constructor(
    private readonly limit: number,
    private readonly holdMs = 500,
  ) {}

  /** Runs `read` when a slot is free; its result (or error) is the caller's. */
  async run<T>(read: () => Promise<T>): Promise<T> {
    if (this.inFlight >= this.limit) await new Promise<void>((r) => this.waiting.push(r));
    this.inFlight++;
    const result = read();
    const settled = result.then(
      () => undefined,
      () => undefined,
    );
    void Promise.race([settled, sleep(this.holdMs, undefined, { ref: false })]).then(() =>
      this.release(),
    );
    return result;
  }

  private release(): void {
    this.inFlight--;
    this.waiting.shift()?.();
  }
}

/** The daemon's gate for Docker stats reads. */
export const usageReads = new ReadGate(4);
