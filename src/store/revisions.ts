import type { ServiceSpec } from '../spec/types.js';
import { now, type Db } from './db.js';
import type { RevisionRecord, RevisionStatus } from './types.js';

interface Row {
  service: string;
  number: number;
  image: string;
  image_id: string;
  repo_digest: string | null;
  config_hash: string;
  spec_json: string;
  status: RevisionStatus;
  created_at: string;
}

function toRecord(row: Row): RevisionRecord {
  return {
    service: row.service,
    number: row.number,
    image: row.image,
    imageId: row.image_id,
    repoDigest: row.repo_digest,
    configHash: row.config_hash,
    spec: JSON.parse(row.spec_json) as ServiceSpec,
    status: row.status,
    createdAt: row.created_at,
  };
}

export interface NewRevision {
  service: string;
  image: string;
  imageId: string;
  repoDigest: string | null;
  configHash: string;
  spec: ServiceSpec;
}

export class RevisionRepo {
  constructor(private readonly db: Db) {}

  get(service: string, number: number): RevisionRecord | null {
    const row = this.db
      .prepare('SELECT * FROM revisions WHERE service = ? AND number = ?')
      .get(service, number) as Row | undefined;
    return row ? toRecord(row) : null;
  }

  list(service: string): RevisionRecord[] {
    const rows = this.db
      .prepare('SELECT * FROM revisions WHERE service = ? ORDER BY number')
      .all(service) as Row[];
    return rows.map(toRecord);
  }

  /** A revision is identified by what its containers run: same image id and config hash. */
  findIdentical(service: string, imageId: string, configHash: string): RevisionRecord | null {
    const row = this.db
      .prepare(
        'SELECT * FROM revisions WHERE service = ? AND image_id = ? AND config_hash = ? ORDER BY number DESC LIMIT 1',
      )
      .get(service, imageId, configHash) as Row | undefined;
    return row ? toRecord(row) : null;
  }

  create(rev: NewRevision): RevisionRecord {
    const insert = this.db.transaction((): number => {
      const max = this.db
        .prepare('SELECT COALESCE(MAX(number), 0) AS n FROM revisions WHERE service = ?')
        .get(rev.service) as { n: number };
      const number = max.n + 1;
      this.db
        .prepare(
          `INSERT INTO revisions (service, number, image, image_id, repo_digest, config_hash, spec_json, status, created_at)
           VALUES (?, ?, ?, ?, ?, ?, ?, 'pending', ?)`,
        )
        .run(
          rev.service,
          number,
          rev.image,
          rev.imageId,
          rev.repoDigest,
          rev.configHash,
          JSON.stringify(rev.spec),
          now(),
        );
      return number;
    });
    return this.get(rev.service, insert())!;
  }

  setStatus(service: string, number: number, status: RevisionStatus): void {
    this.db
      .prepare('UPDATE revisions SET status = ? WHERE service = ? AND number = ?')
      .run(status, service, number);
  }

  /** Keeps the spec fields that do not change a revision (replicas, strategy…) current. */
  updateSpec(service: string, number: number, spec: ServiceSpec): void {
    this.db
      .prepare('UPDATE revisions SET spec_json = ? WHERE service = ? AND number = ?')
      .run(JSON.stringify(spec), service, number);
  }
}
