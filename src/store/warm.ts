import type { Db } from './db.js';

export interface WarmInstance {
  instanceId: string;
  service: string;
  revision: number;
  address: string;
  /** ISO time after which the instance is stopped. */
  until: string;
}

interface Row {
  instance_id: string;
  service: string;
  revision: number;
  address: string;
  until: string;
}

const toWarm = (r: Row): WarmInstance => ({
  instanceId: r.instance_id,
  service: r.service,
  revision: r.revision,
  address: r.address,
  until: r.until,
});

/** Instances of a previous revision kept running for `keepPrevious`, so a rollback is a flip. */
export class WarmRepo {
  constructor(private readonly db: Db) {}

  add(w: WarmInstance): void {
    this.db
      .prepare(
        'INSERT OR REPLACE INTO warm_instances (instance_id, service, revision, address, until) VALUES (?, ?, ?, ?, ?)',
      )
      .run(w.instanceId, w.service, w.revision, w.address, w.until);
  }

  list(service?: string): WarmInstance[] {
    const rows = (
      service === undefined
        ? this.db.prepare('SELECT * FROM warm_instances ORDER BY service, revision').all()
        : this.db
            .prepare('SELECT * FROM warm_instances WHERE service = ? ORDER BY revision')
            .all(service)
    ) as Row[];
    return rows.map(toWarm);
  }

  /** Removes and returns the warm instances of a revision: whoever takes them owns them. */
  take(service: string, revision: number): WarmInstance[] {
    return this.db.transaction(() => {
      const rows = this.db
        .prepare('SELECT * FROM warm_instances WHERE service = ? AND revision = ?')
        .all(service, revision) as Row[];
      this.db
        .prepare('DELETE FROM warm_instances WHERE service = ? AND revision = ?')
        .run(service, revision);
      return rows.map(toWarm);
    })();
  }

  /** Removes and returns every warm instance whose window has ended. */
  takeExpired(now: Date): WarmInstance[] {
    return this.db.transaction(() => {
      const rows = this.db
        .prepare('SELECT * FROM warm_instances WHERE until <= ?')
        .all(now.toISOString()) as Row[];
      this.db.prepare('DELETE FROM warm_instances WHERE until <= ?').run(now.toISOString());
      return rows.map(toWarm);
    })();
  }

  takeService(service: string): WarmInstance[] {
    return this.db.transaction(() => {
      const rows = this.db
        .prepare('SELECT * FROM warm_instances WHERE service = ?')
        .all(service) as Row[];
      this.db.prepare('DELETE FROM warm_instances WHERE service = ?').run(service);
      return rows.map(toWarm);
    })();
  }
}
