// Writes that must not stop the controller when the home's disk is full. A write that fails with
// "database or disk is full" (SQLITE_FULL, ENOSPC) is kept in memory, in order, and retried every
// second and before any later write, so the failure path of a rollout (traffic back on the
// stable revision) completes whatever the disk says, and the store catches up once there is room.
// While writes wait, later ones queue behind them (the journal stays in order), and `error` says
// why, for `status`. A daemon that dies before the disk has room loses what waited.

const RETRY_MS = 1000;
/** A full disk that stays full must not grow the daemon without bound. */
const MAX_PENDING = 10_000;

export function isDiskFull(err: unknown): boolean {
  const code = (err as { code?: unknown } | null)?.code;
  return code === 'SQLITE_FULL' || code === 'ENOSPC' || code === 'SQLITE_IOERR_WRITE';
}

export interface WriteBacklog {
  /** Writes waiting for room on the disk. */
  pending: number;
  /** The error that made them wait, e.g. "database or disk is full". */
  error: string;
  since: string;
  dropped: number;
}

export class WriteQueue {
  private readonly queue: Array<() => void> = [];
  private failure: { error: string; since: string } | null = null;
  private dropped = 0;
  private timer: NodeJS.Timeout | null = null;

  constructor(private readonly log: (line: string) => void = () => undefined) {}

  /**
   * Runs `write` now, or after the writes that wait; true when it was written now. Errors other
   * than a full disk are thrown as before.
   */
  run(write: () => void): boolean {
    if (this.queue.length > 0 && !this.flush()) {
      this.keep(write);
      return false;
    }
    try {
      write();
      return true;
    } catch (err) {
      if (!isDiskFull(err)) throw err;
      this.fail(err);
      this.keep(write);
      return false;
    }
  }

  /** Null when every write went through; else what waits and why. */
  backlog(): WriteBacklog | null {
    if (!this.failure) return null;
    return { pending: this.queue.length, dropped: this.dropped, ...this.failure };
  }

  /** Writes what waits, in order; true when nothing is left. */
  flush(): boolean {
    while (this.queue.length > 0) {
      try {
        this.queue[0]!();
      } catch (err) {
        if (isDiskFull(err)) return false;
        // Not the disk: this write will never go through; the rest may.
        this.log(`store: a delayed write failed for good: ${(err as Error).message}`);
      }
      this.queue.shift();
    }
    if (this.failure) {
      this.log(
        `store: the disk has room again; the delayed writes are in (${this.dropped} dropped)`,
      );
    }
    this.failure = null;
    this.dropped = 0;
    this.stopTimer();
    return true;
  }

  close(): void {
    this.stopTimer();
  }

  private keep(write: () => void): void {
    if (this.queue.length >= MAX_PENDING) {
      this.queue.shift();
      this.dropped++;
    }
    this.queue.push(write);
    if (!this.timer) {
      this.timer = setInterval(() => this.flush(), RETRY_MS);
      this.timer.unref();
    }
  }

  private fail(err: unknown): void {
    if (this.failure) return;
    const message = (err as Error).message;
    this.failure = { error: message, since: new Date().toISOString() };
    this.log(`store: ${message}; writes wait in memory until the disk has room`);
  }

  private stopTimer(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
  }
}
