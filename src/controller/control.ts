// The handle a running rollout listens to: promote, abort, pause and resume come from the API
// while the engine walks its steps.
import { setTimeout as sleep } from 'node:timers/promises';
import { HotswapError } from '../errors.js';

export class RolloutControl {
  private readonly aborter = new AbortController();
  private paused = false;
  private wakeUp: (() => void) | null = null;
  private promoteRequested = false;
  /** Set by `promote --full`: skip the remaining steps and go to full promotion. */
  fullPromotion = false;

  get signal(): AbortSignal {
    return this.aborter.signal;
  }

  get isPaused(): boolean {
    return this.paused;
  }

  abort(reason: string): void {
    this.aborter.abort(new HotswapError('ABORTED', reason));
    this.wake();
  }

  /** Ends the current pause step (or the next one, if none is running). */
  promote(full: boolean): void {
    if (full) this.fullPromotion = true;
    this.promoteRequested = true;
    this.wake();
  }

  pause(): void {
    this.paused = true;
  }

  resume(): void {
    this.paused = false;
    this.wake();
  }

  /** Called between steps: holds while paused, throws once aborted. */
  async checkpoint(): Promise<void> {
    while (this.paused) {
      this.signal.throwIfAborted();
      await this.nap(1000);
    }
    this.signal.throwIfAborted();
  }

  /** A pause step: ends after durationMs (null: never) or when promoted. */
  async pauseStep(durationMs: number | null): Promise<'elapsed' | 'promoted'> {
    const until = durationMs === null ? Infinity : Date.now() + durationMs;
    for (;;) {
      this.signal.throwIfAborted();
      if (this.promoteRequested) {
        this.promoteRequested = false;
        return 'promoted';
      }
      const left = until - Date.now();
      if (left <= 0 && !this.paused) return 'elapsed';
      await this.nap(Math.min(Math.max(left, 0) || 1000, 1000));
    }
  }

  /** Sleeps until woken, aborted, or ms pass. */
  private async nap(ms: number): Promise<void> {
    const woken = new Promise<void>((resolve) => (this.wakeUp = resolve));
    await Promise.race([
      woken,
      sleep(ms, undefined, { signal: this.signal }).catch(() => undefined),
    ]);
    this.wakeUp = null;
  }

  private wake(): void {
    this.wakeUp?.();
  }
}
