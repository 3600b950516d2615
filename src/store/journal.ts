import type { WriteQueue } from './write-queue.js';
import { now, type Db } from './db.js';
import type { JournalEntry } from './types.js';

interface Row {
  seq: number;
  at: string;
  service: string | null;
  rollout_id: number | null;
  event: string;
  data_json: string;
}

export type JournalObserver = (e: JournalEntry, message?: string) => void;

/** Append-only event log. Every rollout transition is written here before it is acted on. */
export class Journal {
  private readonly observers = new Set<JournalObserver>();

  constructor(
    private readonly db: Db,
    private readonly writes: WriteQueue,
  ) {}

  /** Calls `fn` after every append (metrics, the daemon's log); returns the function that stops it. */
  observe(fn: JournalObserver): () => void {
    this.observers.add(fn);
    return () => this.observers.delete(fn);
  }

  append(e: {
    service?: string | null;
    rolloutId?: number | null;
    event: string;
    data?: unknown;
    /** What a person reads about it: handed to observers (the log), not stored. */
    message?: string;
  }): JournalEntry {
    const at = now();
    const entry: JournalEntry = {
      seq: 0,
      at,
      service: e.service ?? null,
      rolloutId: e.rolloutId ?? null,
      event: e.event,
      data: e.data ?? {},
    };
    // On a full disk the entry waits in memory (seq 0 until written): the caller goes on.
    this.writes.run(() => {
      const info = this.db
        .prepare(
          'INSERT INTO journal (at, service, rollout_id, event, data_json) VALUES (?, ?, ?, ?, ?)',
        )
        .run(at, entry.service, entry.rolloutId, e.event, JSON.stringify(entry.data));
      entry.seq = Number(info.lastInsertRowid);
    });
    for (const fn of this.observers) {
      try {
        fn(entry, e.message);
      } catch {
        // An observer (metrics) must never fail the write it observes.
      }
    }
    return entry;
  }

  list(
    filter: { service?: string; rolloutId?: number; afterSeq?: number; limit?: number } = {},
  ): JournalEntry[] {
    const where: string[] = [];
    const args: unknown[] = [];
    const add = (clause: string, value: unknown): void => {
      where.push(clause);
      args.push(value);
    };
    if (filter.service !== undefined) add('service = ?', filter.service);
    if (filter.rolloutId !== undefined) add('rollout_id = ?', filter.rolloutId);
    if (filter.afterSeq !== undefined) add('seq > ?', filter.afterSeq);
    const sql = `SELECT * FROM journal ${where.length ? 'WHERE ' + where.join(' AND ') : ''} ORDER BY seq LIMIT ?`;
    const rows = this.db.prepare(sql).all(...args, filter.limit ?? 1000) as Row[];
    return rows.map((r) => ({
      seq: r.seq,
      at: r.at,
      service: r.service,
      rolloutId: r.rollout_id,
      event: r.event,
      data: JSON.parse(r.data_json) as unknown,
    }));
  }
}
