import type { Db } from './db.js';

/** The image policy as an admin set it: its YAML text (parsed by src/security). */
export interface PolicyRecord {
  file: string;
  text: string;
  setAt: string;
  setBy: string;
}

export class PolicyRepo {
  constructor(private readonly db: Db) {}

  get(): PolicyRecord | null {
    const r = this.db.prepare('SELECT * FROM image_policy WHERE id = 1').get() as
      { file: string; text: string; set_at: string; set_by: string } | undefined;
    return r ? { file: r.file, text: r.text, setAt: r.set_at, setBy: r.set_by } : null;
  }

  set(p: PolicyRecord): void {
    this.db
      .prepare(
        'INSERT OR REPLACE INTO image_policy (id, file, text, set_at, set_by) VALUES (1, ?, ?, ?, ?)',
      )
      .run(p.file, p.text, p.setAt, p.setBy);
  }
}
