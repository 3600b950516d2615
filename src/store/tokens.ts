import type { Db } from './db.js';

export type TokenRole = 'viewer' | 'deployer' | 'admin';

/** An API token as stored: never the secret, only its sha256. */
export interface TokenRecord {
  id: string;
  name: string;
  role: TokenRole;
  /** Services a deployer may change; null = all. */
  services: string[] | null;
  secretSha256: string;
  createdAt: string;
  createdBy: string;
  expiresAt: string | null;
  revokedAt: string | null;
}

interface Row {
  id: string;
  name: string;
  role: TokenRole;
  services_json: string | null;
  secret_sha256: string;
  created_at: string;
  created_by: string;
  expires_at: string | null;
  revoked_at: string | null;
}

const toRecord = (r: Row): TokenRecord => ({
  id: r.id,
  name: r.name,
  role: r.role,
  services: r.services_json === null ? null : (JSON.parse(r.services_json) as string[]),
  secretSha256: r.secret_sha256,
  createdAt: r.created_at,
  createdBy: r.created_by,
  expiresAt: r.expires_at,
  revokedAt: r.revoked_at,
});

export class TokenRepo {
  constructor(private readonly db: Db) {}

  insert(t: TokenRecord): void {
    this.db
      .prepare(
        `INSERT INTO api_tokens (id, name, role, services_json, secret_sha256, created_at, created_by, expires_at, revoked_at)
         VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`,
      )
      .run(
        t.id,
        t.name,
        t.role,
        t.services === null ? null : JSON.stringify(t.services),
        t.secretSha256,
        t.createdAt,
        t.createdBy,
        t.expiresAt,
        t.revokedAt,
      );
  }

  get(id: string): TokenRecord | null {
    const r = this.db.prepare('SELECT * FROM api_tokens WHERE id = ?').get(id) as Row | undefined;
    return r ? toRecord(r) : null;
  }

  /** The active token of that name, if any. */
  activeByName(name: string): TokenRecord | null {
    const r = this.db
      .prepare('SELECT * FROM api_tokens WHERE name = ? AND revoked_at IS NULL')
      .get(name) as Row | undefined;
    return r ? toRecord(r) : null;
  }

  list(): TokenRecord[] {
    return (this.db.prepare('SELECT * FROM api_tokens ORDER BY created_at').all() as Row[]).map(
      toRecord,
    );
  }

  revoke(id: string, at: string): void {
    this.db
      .prepare('UPDATE api_tokens SET revoked_at = ? WHERE id = ? AND revoked_at IS NULL')
      .run(at, id);
  }
}
