// Alerts (issue 15): each firing of a rule, kept as history (a firing one has no resolved_at),
// and the per-minute request and failure counts of each service that availability is computed
// from. Times of minutes are epoch ms at the start of the minute.
import { now, type Db } from './db.js';

export interface AlertRecord {
  id: number;
  service: string;
  rule: string;
  /** The rule's `when` as written. */
  expr: string;
  firedAt: string;
  resolvedAt: string | null;
  /** The metric's value when it fired. */
  value: number | null;
  message: string;
}

export interface MinuteCounts {
  minuteMs: number;
  requests: number;
  failed: number;
}

interface Row {
  id: number;
  service: string;
  rule: string;
  expr: string;
  fired_at: string;
  resolved_at: string | null;
  value: number | null;
  message: string;
}

export class AlertRepo {
  constructor(private readonly db: Db) {}

  fired(a: {
    service: string;
    rule: string;
    expr: string;
    value: number | null;
    message: string;
  }): AlertRecord {
    const info = this.db
      .prepare(
        'INSERT INTO alert_history (service, rule, expr, fired_at, value, message) VALUES (?, ?, ?, ?, ?, ?)',
      )
      .run(a.service, a.rule, a.expr, now(), a.value, a.message);
    return this.get(Number(info.lastInsertRowid))!;
  }

  resolved(id: number): AlertRecord | null {
    this.db
      .prepare('UPDATE alert_history SET resolved_at = ? WHERE id = ? AND resolved_at IS NULL')
      .run(now(), id);
    return this.get(id);
  }

  get(id: number): AlertRecord | null {
    const row = this.db.prepare('SELECT * FROM alert_history WHERE id = ?').get(id) as
      Row | undefined;
    return row ? toRecord(row) : null;
  }

  firing(service?: string): AlertRecord[] {
    const rows = this.db
      .prepare(
        `SELECT * FROM alert_history WHERE resolved_at IS NULL ${service ? 'AND service = ?' : ''} ORDER BY id`,
      )
      .all(...(service ? [service] : [])) as Row[];
    return rows.map(toRecord);
  }

  /** Alerts that fired since `sinceIso` or still fire, newest first. */
  history(filter: { service?: string; sinceIso?: string; limit?: number } = {}): AlertRecord[] {
    const where = ['(fired_at >= ? OR resolved_at IS NULL OR resolved_at >= ?)'];
    const since = filter.sinceIso ?? '';
    const args: unknown[] = [since, since];
    if (filter.service) {
      where.push('service = ?');
      args.push(filter.service);
    }
    const rows = this.db
      .prepare(`SELECT * FROM alert_history WHERE ${where.join(' AND ')} ORDER BY id DESC LIMIT ?`)
      .all(...args, filter.limit ?? 200) as Row[];
    return rows.map(toRecord);
  }

  /** Adds to a service's counts of one minute. */
  addMinute(service: string, minuteMs: number, requests: number, failed: number): void {
    this.db
      .prepare(
        `INSERT INTO traffic_minutes (service, minute_ms, requests, failed) VALUES (?, ?, ?, ?)
         ON CONFLICT (service, minute_ms) DO UPDATE SET requests = requests + excluded.requests,
           failed = failed + excluded.failed`,
      )
      .run(service, minuteMs, requests, failed);
  }

  /** Minute counts older than `beforeMs` go (availability looks back 90 days at most). */
  pruneMinutes(beforeMs: number): number {
    return this.db.prepare('DELETE FROM traffic_minutes WHERE minute_ms < ?').run(beforeMs).changes;
  }

  minutes(service: string, sinceMs: number): MinuteCounts[] {
    return (
      this.db
        .prepare(
          'SELECT minute_ms, requests, failed FROM traffic_minutes WHERE service = ? AND minute_ms >= ? ORDER BY minute_ms',
        )
        .all(service, sinceMs) as Array<{ minute_ms: number; requests: number; failed: number }>
    ).map((r) => ({ minuteMs: r.minute_ms, requests: r.requests, failed: r.failed }));
  }

  /** Journal entries of the service with one of these events since `sinceIso`, oldest first. */
  events(
    service: string,
    events: readonly string[],
    sinceIso: string,
  ): Array<{ at: string; event: string; rolloutId: number | null }> {
    const marks = events.map(() => '?').join(', ');
    return (
      this.db
        .prepare(
          `SELECT at, event, rollout_id FROM journal WHERE service = ? AND event IN (${marks}) AND at >= ? ORDER BY seq`,
        )
        .all(service, ...events, sinceIso) as Array<{
        at: string;
        event: string;
        rollout_id: number | null;
      }>
    ).map((r) => ({ at: r.at, event: r.event, rolloutId: r.rollout_id }));
  }

  /** Instances self-healing started for the service since `sinceIso` (its `instances.replacing` entries). */
  replacementsSince(service: string, sinceIso: string): number {
    const rows = this.db
      .prepare(
        `SELECT data_json FROM journal WHERE service = ? AND event = 'instances.replacing' AND at >= ?`,
      )
      .all(service, sinceIso) as Array<{ data_json: string }>;
    return rows.reduce(
      (n, r) => n + (Number((JSON.parse(r.data_json) as { missing?: unknown }).missing) || 1),
      0,
    );
  }
}

function toRecord(r: Row): AlertRecord {
  return {
    id: r.id,
    service: r.service,
    rule: r.rule,
    expr: r.expr,
    firedAt: r.fired_at,
    resolvedAt: r.resolved_at,
    value: r.value,
    message: r.message,
  };
}
