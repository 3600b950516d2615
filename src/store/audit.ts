import type { Db } from './db.js';

/** One audited call. The chain fields (prevHash, hash) are computed by src/security. */
export interface AuditRecord {
  seq: number;
  at: string;
  /** Token name (`token:<name>`) or local OS user (`local:<user>`); `anonymous` when unknown. */
  actor: string;
  verb: string;
  service: string | null;
  specHash: string | null;
  imageDigest: string | null;
  /** `unix` or the remote address `ip:port`. */
  source: string;
  outcome: string;
  prevHash: string;
  hash: string;
}

interface Row {
  seq: number;
  at: string;
  actor: string;
  verb: string;
  service: string | null;
  spec_hash: string | null;
  image_digest: string | null;
  source: string;
  outcome: string;
  prev_hash: string;
  hash: string;
}

const toRecord = (r: Row): AuditRecord => ({
  seq: r.seq,
  at: r.at,
  actor: r.actor,
  verb: r.verb,
  service: r.service,
  specHash: r.spec_hash,
  imageDigest: r.image_digest,
  source: r.source,
  outcome: r.outcome,
  prevHash: r.prev_hash,
  hash: r.hash,
});

/** Append-only rows of the audit chain. */
export class AuditRepo {
  constructor(private readonly db: Db) {}

  /** Appends the record `build` makes from the last one, in one transaction (no fork in the chain). */
  append(build: (last: AuditRecord | null) => AuditRecord): AuditRecord {
    return this.db
      .transaction(() => {
        const last = this.db.prepare('SELECT * FROM audit ORDER BY seq DESC LIMIT 1').get() as
          Row | undefined;
        const r = build(last ? toRecord(last) : null);
        this.db
          .prepare(
            `INSERT INTO audit (seq, at, actor, verb, service, spec_hash, image_digest, source, outcome, prev_hash, hash)
           VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
          )
          .run(
            r.seq,
            r.at,
            r.actor,
            r.verb,
            r.service,
            r.specHash,
            r.imageDigest,
            r.source,
            r.outcome,
            r.prevHash,
            r.hash,
          );
        return r;
      })
      .immediate();
  }

  /** Entries in chain order; `service` matches one name of a comma-separated list. */
  list(filter: { service?: string; since?: string; limit?: number } = {}): AuditRecord[] {
    const where: string[] = [];
    const args: unknown[] = [];
    if (filter.service !== undefined) {
      where.push(`(',' || service || ',') LIKE ?`);
      args.push(`%,${filter.service},%`);
    }
    if (filter.since !== undefined) {
      where.push('at >= ?');
      args.push(filter.since);
    }
    const sql = `SELECT * FROM audit ${where.length ? 'WHERE ' + where.join(' AND ') : ''} ORDER BY seq DESC LIMIT ?`;
    const rows = this.db.prepare(sql).all(...args, filter.limit ?? 1000) as Row[];
    return rows.reverse().map(toRecord);
  }

  /** Every entry, in seq order: what `audit verify` walks. */
  all(): AuditRecord[] {
    return (this.db.prepare('SELECT * FROM audit ORDER BY seq').all() as Row[]).map(toRecord);
  }
}
