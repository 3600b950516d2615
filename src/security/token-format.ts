// Token format: `hst_<id>_<secret>`. The id (public, 12 hex chars) finds the row; the secret
// (32 random bytes, base64url) is checked against its stored sha256 in constant time. A sha256 of a
// 256-bit random secret needs no salt or slow hash: there is nothing to guess from it.
import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';

const PATTERN = /^hst_([0-9a-f]{12})_([A-Za-z0-9_-]{43})$/;

export interface ParsedToken {
  id: string;
  secret: string;
}

export function newToken(): { id: string; secret: string; token: string } {
  const id = randomBytes(6).toString('hex');
  const secret = randomBytes(32).toString('base64url');
  return { id, secret, token: `hst_${id}_${secret}` };
}

/** null when the text is not a hotswap token at all (malformed). */
export function parseToken(text: string): ParsedToken | null {
  const m = PATTERN.exec(text);
  return m ? { id: m[1]!, secret: m[2]! } : null;
}

export function secretSha256(secret: string): string {
  return createHash('sha256').update(secret).digest('hex');
}

/** Constant-time equality of two hex digests (lengths are public: both are sha256). */
export function sameDigest(a: string, b: string): boolean {
  const x = Buffer.from(a, 'hex');
  const y = Buffer.from(b, 'hex');
  return x.length === y.length && timingSafeEqual(x, y);
}
