import { now, type Db } from './db.js';
import type { RolloutKind, RolloutRecord, RolloutStatus, StepRecord } from './types.js';

interface RolloutRow {
  id: number;
  service: string;
  kind: RolloutKind;
  from_revision: number | null;
  to_revision: number;
  strategy: string;
  status: RolloutStatus;
  reason: string | null;
  started_at: string;
  finished_at: string | null;
  cut_connections: number;
}

interface StepRow {
  id: number;
  rollout_id: number;
  seq: number;
  kind: string;
  detail_json: string;
  status: StepRecord['status'];
  started_at: string;
  finished_at: string | null;
}

function toRollout(row: RolloutRow): RolloutRecord {
  return {
    id: row.id,
    service: row.service,
    kind: row.kind,
    fromRevision: row.from_revision,
    toRevision: row.to_revision,
    strategy: row.strategy,
    status: row.status,
    reason: row.reason,
    startedAt: row.started_at,
    finishedAt: row.finished_at,
    cutConnections: row.cut_connections,
  };
}

function toStep(row: StepRow): StepRecord {
  return {
    id: row.id,
    rolloutId: row.rollout_id,
    seq: row.seq,
    kind: row.kind,
    detail: JSON.parse(row.detail_json) as unknown,
    status: row.status,
    startedAt: row.started_at,
    finishedAt: row.finished_at,
  };
}

export class RolloutRepo {
  constructor(private readonly db: Db) {}

  start(r: {
    service: string;
    kind: RolloutKind;
    from: number | null;
    to: number;
    strategy: string;
  }): RolloutRecord {
    const info = this.db
      .prepare(
        `INSERT INTO rollouts (service, kind, from_revision, to_revision, strategy, status, started_at)
         VALUES (?, ?, ?, ?, ?, 'running', ?)`,
      )
      .run(r.service, r.kind, r.from, r.to, r.strategy, now());
    return this.get(Number(info.lastInsertRowid))!;
  }

  get(id: number): RolloutRecord | null {
    const row = this.db.prepare('SELECT * FROM rollouts WHERE id = ?').get(id) as
      RolloutRow | undefined;
    return row ? toRollout(row) : null;
  }

  list(service: string, limit = 50): RolloutRecord[] {
    const rows = this.db
      .prepare('SELECT * FROM rollouts WHERE service = ? ORDER BY id DESC LIMIT ?')
      .all(service, limit) as RolloutRow[];
    return rows.map(toRollout);
  }

  /** Rollouts a crash left unfinished: recovery finishes or rolls back each one. */
  unfinished(): RolloutRecord[] {
    const rows = this.db
      .prepare("SELECT * FROM rollouts WHERE status = 'running' ORDER BY id")
      .all() as RolloutRow[];
    return rows.map(toRollout);
  }

  finish(id: number, status: Exclude<RolloutStatus, 'running'>, reason: string | null): void {
    this.db
      .prepare('UPDATE rollouts SET status = ?, reason = ?, finished_at = ? WHERE id = ?')
      .run(status, reason, now(), id);
  }

  /**
   * A rollout that succeeded and was undone later (its watch after promotion found a breach):
   * its status and reason change, its duration does not.
   */
  markRolledBack(id: number, reason: string): void {
    this.db
      .prepare("UPDATE rollouts SET status = 'rolled-back', reason = ? WHERE id = ?")
      .run(reason, id);
  }

  /** Adds long connections the proxy cut while this rollout drained instances. */
  addCutConnections(id: number, count: number): void {
    if (count > 0)
      this.db
        .prepare('UPDATE rollouts SET cut_connections = cut_connections + ? WHERE id = ?')
        .run(count, id);
  }

  beginStep(rolloutId: number, kind: string, detail: unknown): StepRecord {
    const seq = (
      this.db
        .prepare('SELECT COALESCE(MAX(seq), 0) + 1 AS s FROM rollout_steps WHERE rollout_id = ?')
        .get(rolloutId) as {
        s: number;
      }
    ).s;
    const info = this.db
      .prepare(
        `INSERT INTO rollout_steps (rollout_id, seq, kind, detail_json, status, started_at)
         VALUES (?, ?, ?, ?, 'running', ?)`,
      )
      .run(rolloutId, seq, kind, JSON.stringify(detail ?? null), now());
    return this.step(Number(info.lastInsertRowid))!;
  }

  endStep(stepId: number, status: 'done' | 'failed'): void {
    this.db
      .prepare('UPDATE rollout_steps SET status = ?, finished_at = ? WHERE id = ?')
      .run(status, now(), stepId);
  }

  step(id: number): StepRecord | null {
    const row = this.db.prepare('SELECT * FROM rollout_steps WHERE id = ?').get(id) as
      StepRow | undefined;
    return row ? toStep(row) : null;
  }

  steps(rolloutId: number): StepRecord[] {
    const rows = this.db
      .prepare('SELECT * FROM rollout_steps WHERE rollout_id = ? ORDER BY seq')
      .all(rolloutId) as StepRow[];
    return rows.map(toStep);
  }
}
