// The notification outbox (issue 15): a delivery is written here when its event happens and is
// sent by a separate loop (src/notify/delivery.ts), so a slow or dead webhook never holds up
// what caused the event, and a daemon restart loses nothing. A delivery is retried until it is
// delivered or out of attempts, then kept as failed with the last error.
import { now, type Db } from './db.js';

export type DeliveryState = 'pending' | 'delivered' | 'failed';

export interface NewDelivery {
  event: string;
  service: string | null;
  url: string;
  headers: Record<string, string>;
  body: string;
  timeoutMs: number;
  maxAttempts: number;
}

export interface Delivery extends NewDelivery {
  id: number;
  createdAt: string;
  attempts: number;
  nextAtMs: number;
  state: DeliveryState;
  lastError: string | null;
  finishedAt: string | null;
}

interface Row {
  id: number;
  created_at: string;
  event: string;
  service: string | null;
  url: string;
  headers_json: string;
  body: string;
  timeout_ms: number;
  max_attempts: number;
  attempts: number;
  next_at_ms: number;
  state: DeliveryState;
  last_error: string | null;
  finished_at: string | null;
}

export class OutboxRepo {
  constructor(private readonly db: Db) {}

  enqueue(d: NewDelivery, atMs = Date.now()): Delivery {
    const info = this.db
      .prepare(
        `INSERT INTO notify_outbox (created_at, event, service, url, headers_json, body, timeout_ms,
           max_attempts, attempts, next_at_ms, state) VALUES (?, ?, ?, ?, ?, ?, ?, ?, 0, ?, 'pending')`,
      )
      .run(
        now(),
        d.event,
        d.service,
        d.url,
        JSON.stringify(d.headers),
        d.body,
        d.timeoutMs,
        d.maxAttempts,
        atMs,
      );
    return this.get(Number(info.lastInsertRowid))!;
  }

  get(id: number): Delivery | null {
    const row = this.db.prepare('SELECT * FROM notify_outbox WHERE id = ?').get(id) as
      Row | undefined;
    return row ? toDelivery(row) : null;
  }

  /** Pending deliveries whose time has come, oldest first. */
  due(atMs: number, limit: number): Delivery[] {
    const rows = this.db
      .prepare(
        `SELECT * FROM notify_outbox WHERE state = 'pending' AND next_at_ms <= ? ORDER BY next_at_ms, id LIMIT ?`,
      )
      .all(atMs, limit) as Row[];
    return rows.map(toDelivery);
  }

  /** When the next pending delivery is due (ms), or null when none waits. */
  nextDueMs(): number | null {
    const row = this.db
      .prepare(`SELECT MIN(next_at_ms) AS at FROM notify_outbox WHERE state = 'pending'`)
      .get() as { at: number | null };
    return row.at;
  }

  delivered(id: number, attempts: number): void {
    this.db
      .prepare(
        `UPDATE notify_outbox SET state = 'delivered', attempts = ?, last_error = NULL, finished_at = ? WHERE id = ?`,
      )
      .run(attempts, now(), id);
  }

  /** A failed attempt: tried again at `retryAtMs`, or failed for good when that is null. */
  attemptFailed(id: number, attempts: number, error: string, retryAtMs: number | null): void {
    if (retryAtMs === null) {
      this.db
        .prepare(
          `UPDATE notify_outbox SET state = 'failed', attempts = ?, last_error = ?, finished_at = ? WHERE id = ?`,
        )
        .run(attempts, error, now(), id);
      return;
    }
    this.db
      .prepare('UPDATE notify_outbox SET attempts = ?, last_error = ?, next_at_ms = ? WHERE id = ?')
      .run(attempts, error, retryAtMs, id);
  }

  list(filter: { state?: DeliveryState; limit?: number } = {}): Delivery[] {
    const where = filter.state ? 'WHERE state = ?' : '';
    const args: unknown[] = filter.state ? [filter.state] : [];
    const rows = this.db
      .prepare(`SELECT * FROM notify_outbox ${where} ORDER BY id DESC LIMIT ?`)
      .all(...args, filter.limit ?? 100) as Row[];
    return rows.map(toDelivery);
  }

  /** Delivered and failed rows older than `beforeIso` go: the outbox does not grow forever. */
  prune(beforeIso: string): number {
    return this.db
      .prepare(`DELETE FROM notify_outbox WHERE state != 'pending' AND finished_at < ?`)
      .run(beforeIso).changes;
  }
}

function toDelivery(r: Row): Delivery {
  return {
    id: r.id,
    createdAt: r.created_at,
    event: r.event,
    service: r.service,
    url: r.url,
    headers: JSON.parse(r.headers_json) as Record<string, string>,
    body: r.body,
    timeoutMs: r.timeout_ms,
    maxAttempts: r.max_attempts,
    attempts: r.attempts,
    nextAtMs: r.next_at_ms,
    state: r.state,
    lastError: r.last_error,
    finishedAt: r.finished_at,
  };
}
