// The delivery loop: sends what the outbox holds, apart from whatever enqueued it. Each attempt
// has its own timeout (connect, send, answer); a 2xx answer delivers, anything else (a refused
// connection, a hang past the timeout, a 4xx or 5xx) is retried with exponential backoff until
// the attempts are used up, then the delivery is recorded as failed with the last error. At most
// a few deliveries are in flight at once, so one hanging webhook does not hold up the others.
import { Agent, request } from 'undici';
import type { Delivery, Store } from '../store/index.js';
import { DEFAULT_BACKOFF, nextAttemptAt, type BackoffPolicy } from './backoff.js';

export interface DeliveryLoopOptions {
  backoff?: BackoffPolicy;
  /** Deliveries in flight at once. */
  concurrency?: number;
  /** Called once per delivery that ended (delivered or failed for good). */
  ended?: (d: Delivery) => void;
  log?: (line: string) => void;
}

/** Delivered and failed rows are kept this long for `hotswap alerts` and debugging. */
const KEEP_MS = 7 * 86_400_000;
const IDLE_CHECK_MS = 5000;

export class DeliveryLoop {
  private readonly inFlight = new Set<number>();
  private readonly agent = new Agent({ keepAliveTimeout: 10_000, connections: 16 });
  private timer: NodeJS.Timeout | null = null;
  private stopped = true;
  private readonly backoff: BackoffPolicy;
  private readonly concurrency: number;

  constructor(
    private readonly store: Store,
    private readonly opts: DeliveryLoopOptions = {},
  ) {
    this.backoff = opts.backoff ?? DEFAULT_BACKOFF;
    this.concurrency = opts.concurrency ?? 8;
  }

  /** Starts sending; deliveries left pending by an earlier daemon go first. */
  start(): this {
    this.stopped = false;
    this.safely(() => this.store.outbox.prune(new Date(Date.now() - KEEP_MS).toISOString()));
    this.kick();
    return this;
  }

  stop(): void {
    this.stopped = true;
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
    void this.agent.close().catch(() => undefined);
  }

  /** Something was enqueued: look now rather than at the next timer. */
  kick(): void {
    if (this.stopped) return;
    setImmediate(() => this.pump());
  }

  private pump(): void {
    if (this.stopped) return;
    const room = this.concurrency - this.inFlight.size;
    const due =
      room > 0
        ? (this.safely(() => this.store.outbox.due(Date.now(), room + this.inFlight.size)) ?? [])
        : [];
    for (const d of due) {
      if (this.inFlight.size >= this.concurrency) break;
      if (this.inFlight.has(d.id)) continue;
      this.inFlight.add(d.id);
      void this.attempt(d).finally(() => {
        this.inFlight.delete(d.id);
        this.kick();
      });
    }
    this.schedule();
  }

  /** The next look: when the earliest pending delivery is due (or a slow poll as a safety net). */
  private schedule(): void {
    if (this.stopped) return;
    if (this.timer) clearTimeout(this.timer);
    const next = this.safely(() => this.store.outbox.nextDueMs()) ?? null;
    const wait =
      next === null ? IDLE_CHECK_MS : Math.min(IDLE_CHECK_MS, Math.max(0, next - Date.now()));
    this.timer = setTimeout(() => this.pump(), wait);
    this.timer.unref();
  }

  private async attempt(d: Delivery): Promise<void> {
    const attempts = d.attempts + 1;
    const error = await this.send(d);
    if (this.stopped) return; // the store may be closed; the row stays pending for the next daemon
    if (error === null) {
      this.safely(() => this.store.outbox.delivered(d.id, attempts));
    } else {
      const retryAt = nextAttemptAt(attempts, d.maxAttempts, Date.now(), this.backoff);
      this.safely(() => this.store.outbox.attemptFailed(d.id, attempts, error, retryAt));
      if (retryAt !== null) return;
      this.opts.log?.(
        `notification ${d.event} to ${d.url} failed after ${attempts} attempt(s): ${error}`,
      );
    }
    const ended = this.safely(() => this.store.outbox.get(d.id));
    if (ended) this.opts.ended?.(ended);
  }

  /** One POST; null when the receiver answered 2xx, else why not. */
  private async send(d: Delivery): Promise<string | null> {
    try {
      const res = await request(d.url, {
        method: 'POST',
        headers: d.headers,
        body: d.body,
        dispatcher: this.agent,
        signal: AbortSignal.timeout(d.timeoutMs),
        headersTimeout: d.timeoutMs,
        bodyTimeout: d.timeoutMs,
      });
      await res.body.dump().catch(() => undefined);
      return res.statusCode >= 200 && res.statusCode < 300 ? null : `HTTP ${res.statusCode}`;
    } catch (err) {
      const e = err as Error & { code?: string; cause?: { code?: string; message?: string } };
      if (e.name === 'TimeoutError' || e.name === 'AbortError')
        return `no answer within ${d.timeoutMs} ms`;
      return e.cause?.code ?? e.code ?? e.message;
    }
  }

  private safely<T>(fn: () => T): T | undefined {
    try {
      return fn();
    } catch (err) {
      this.opts.log?.(`notification outbox: ${(err as Error).message}`);
      return undefined;
    }
  }
}
