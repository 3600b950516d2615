// Inactivity timeouts for the fast path's sockets without a timer per socket: Node's socket
// timeout re-inserts its timer on every read and write, which on a proxy's hot path costs more
// than the check itself. Here an I/O only sets a flag; one interval per group of connections
// turns an unset flag into silence, tick by tick. A limit of L ms is noticed between L and L + tick.

export interface Watched {
  /** Set on every read or write; cleared by the tick that sees it. */
  active: boolean;
  /** Silence so far, in whole ticks. */
  silentMs: number;
  /** Called on each silent tick with the silence so far. */
  silent(silentMs: number): void;
}

export class SilenceWatch {
  private readonly members = new Set<Watched>();
  private timer: NodeJS.Timeout | null = null;

  constructor(readonly tickMs: number) {}

  add(member: Watched): void {
    this.members.add(member);
    if (this.timer === null) {
      this.timer = setInterval(this.tick, this.tickMs);
      this.timer.unref();
    }
  }

  delete(member: Watched): void {
    this.members.delete(member);
    if (this.members.size === 0 && this.timer !== null) {
      clearInterval(this.timer);
      this.timer = null;
    }
  }

  private readonly tick = (): void => {
    for (const member of this.members) {
      if (member.active) {
        member.active = false;
        member.silentMs = 0;
      } else {
        member.silentMs += this.tickMs;
        member.silent(member.silentMs);
      }
    }
  };
}
