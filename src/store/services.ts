import type { ServiceSpec } from '../spec/types.js';
import { now, type Db } from './db.js';
import type { ServiceRecord } from './types.js';

interface Row {
  name: string;
  spec_json: string;
  stable_revision: number | null;
  created_at: string;
  updated_at: string;
}

function toRecord(row: Row): ServiceRecord {
  return {
    name: row.name,
    spec: JSON.parse(row.spec_json) as ServiceSpec,
    stableRevision: row.stable_revision,
    createdAt: row.created_at,
    updatedAt: row.updated_at,
  };
}

export class ServiceRepo {
  constructor(private readonly db: Db) {}

  get(name: string): ServiceRecord | null {
    const row = this.db.prepare('SELECT * FROM services WHERE name = ?').get(name) as
      Row | undefined;
    return row ? toRecord(row) : null;
  }

  list(): ServiceRecord[] {
    const rows = this.db.prepare('SELECT * FROM services ORDER BY name').all() as Row[];
    return rows.map(toRecord);
  }

  upsert(spec: ServiceSpec): void {
    const at = now();
    this.db
      .prepare(
        `INSERT INTO services (name, spec_json, stable_revision, created_at, updated_at)
         VALUES (?, ?, NULL, ?, ?)
         ON CONFLICT(name) DO UPDATE SET spec_json = excluded.spec_json, updated_at = excluded.updated_at`,
      )
      .run(spec.name, JSON.stringify(spec), at, at);
  }

  setStable(name: string, revision: number | null): void {
    this.db
      .prepare('UPDATE services SET stable_revision = ?, updated_at = ? WHERE name = ?')
      .run(revision, now(), name);
  }

  remove(name: string): void {
    this.db.prepare('DELETE FROM services WHERE name = ?').run(name);
  }
}
