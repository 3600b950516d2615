// Creating, listing, revoking and checking API tokens. The secret is shown once, at creation.
import { HotswapError } from '../errors.js';
import type { Store, TokenRecord } from '../store/index.js';
import { parseExpiry } from './expiry.js';
import { isRole, ROLES, type Role } from './roles.js';
import { newToken, parseToken, sameDigest, secretSha256 } from './token-format.js';

const SERVICE_NAME = /^[a-z][a-z0-9-]{0,30}$/;
const TOKEN_NAME = /^[A-Za-z0-9][A-Za-z0-9._-]{0,62}$/;
// Compared against when the id is unknown, so an unknown id costs the same as a wrong secret.
const DUMMY_DIGEST = secretSha256('no such token');

export interface TokenRequest {
  role: string;
  services?: string[] | undefined;
  expires?: string | undefined;
  name?: string | undefined;
}

/** What the API shows of a token: everything but the digest. */
export type TokenInfo = Omit<TokenRecord, 'secretSha256'> & {
  state: 'active' | 'expired' | 'revoked';
};

export class Tokens {
  constructor(
    private readonly store: Store,
    private readonly clock: () => Date = () => new Date(),
  ) {}

  create(req: TokenRequest, createdBy: string): { token: string; info: TokenInfo } {
    if (!isRole(req.role))
      throw new HotswapError(
        'USAGE',
        `API field "role": expected one of ${ROLES.join(', ')}, found "${req.role}"`,
      );
    const role: Role = req.role;
    const services = this.checkServices(role, req.services);
    const { id, secret, token } = newToken();
    const name = req.name ?? `${role}-${id}`;
    if (!TOKEN_NAME.test(name))
      throw new HotswapError(
        'USAGE',
        `API field "name": letters, digits, ".", "_" and "-" (at most 63), found "${name}"`,
      );
    if (this.store.tokens.activeByName(name))
      throw new HotswapError('CONFLICT', `an active token is already named "${name}"`);
    const now = this.clock();
    const record: TokenRecord = {
      id,
      name,
      role,
      services,
      secretSha256: secretSha256(secret),
      createdAt: now.toISOString(),
      createdBy,
      expiresAt:
        req.expires === undefined
          ? null
          : new Date(now.getTime() + parseExpiry(req.expires)).toISOString(),
      revokedAt: null,
    };
    this.store.tokens.insert(record);
    return { token, info: this.info(record) };
  }

  list(): TokenInfo[] {
    return this.store.tokens.list().map((t) => this.info(t));
  }

  /** Revokes by id or by the name of an active token. */
  revoke(idOrName: string): TokenInfo {
    const t = this.store.tokens.activeByName(idOrName) ?? this.store.tokens.get(idOrName);
    if (!t) throw new HotswapError('NOT_FOUND', `no token with id or name "${idOrName}"`);
    this.store.tokens.revoke(t.id, this.clock().toISOString());
    return this.info(this.store.tokens.get(t.id)!);
  }

  /**
   * The token's record when the bearer text is a valid, active token; otherwise an
   * UNAUTHENTICATED error saying why (malformed, unknown or wrong, revoked, expired).
   */
  authenticate(bearer: string): TokenRecord {
    const parsed = parseToken(bearer);
    if (!parsed)
      throw new HotswapError('UNAUTHENTICATED', 'malformed token (expected hst_<id>_<secret>)');
    const record = this.store.tokens.get(parsed.id);
    const matches = sameDigest(secretSha256(parsed.secret), record?.secretSha256 ?? DUMMY_DIGEST);
    if (!record || !matches) throw new HotswapError('UNAUTHENTICATED', 'invalid token');
    if (record.revokedAt !== null)
      throw new HotswapError('UNAUTHENTICATED', `token "${record.name}" was revoked`);
    if (record.expiresAt !== null && Date.parse(record.expiresAt) <= this.clock().getTime())
      throw new HotswapError(
        'UNAUTHENTICATED',
        `token "${record.name}" expired at ${record.expiresAt}`,
      );
    return record;
  }

  private checkServices(role: Role, services: string[] | undefined): string[] | null {
    if (services === undefined || services.length === 0) return null;
    if (role !== 'deployer')
      throw new HotswapError(
        'USAGE',
        `API field "services": only a deployer token is scoped to services (a ${role} token is not)`,
      );
    for (const s of services)
      if (!SERVICE_NAME.test(s))
        throw new HotswapError('USAGE', `API field "services": "${s}" is not a service name`);
    return [...new Set(services)];
  }

  private info(t: TokenRecord): TokenInfo {
    const rest: Partial<TokenRecord> = { ...t };
    delete rest.secretSha256;
    const expired = t.expiresAt !== null && Date.parse(t.expiresAt) <= this.clock().getTime();
    return {
      ...(rest as Omit<TokenRecord, 'secretSha256'>),
      state: t.revokedAt ? 'revoked' : expired ? 'expired' : 'active',
    };
  }
}
