// Forcing a revision by request (routing.override), one home for both HTTP paths: which revision
// a request asks for, and the header and cookie taken out before the request goes upstream (the
// app never sees them, so they cannot leak the secret or steer anything behind the proxy).
import { timingSafeEqual } from 'node:crypto';
import type { IncomingHttpHeaders } from 'node:http';
import { cookieValue } from './cookies.js';
import type { OverrideConfig } from '../types.js';

/** The revision the request forces (its header first, then its cookie); 0 for none. */
export function forcedRevision(override: OverrideConfig, headers: IncomingHttpHeaders): number {
  let revision = 0;
  if (override.header !== undefined) revision = revisionOf(override, headers[override.header]);
  if (revision === 0 && override.cookie !== undefined) {
    revision = revisionOf(override, cookieValue(headers.cookie, override.cookie));
  }
  return revision;
}

/** `N` (no secret) or `N:secret`: N; 0 for anything else. */
function revisionOf(override: OverrideConfig, value: string | string[] | undefined): number {
  const v = Array.isArray(value) ? value[0] : value;
  if (v === undefined || v.length === 0 || v.length > 300) return 0;
  const colon = v.indexOf(':');
  const number = colon < 0 ? v : v.slice(0, colon);
  if (override.secret !== undefined) {
    if (colon < 0 || !sameSecret(v.slice(colon + 1), override.secret)) return 0;
  } else if (colon >= 0) return 0;
  if (number.length > 15) return 0;
  const n = Number(number);
  return Number.isSafeInteger(n) && n > 0 ? n : 0;
}

/** Constant-time for equal lengths (the length of a secret is not what it hides). */
function sameSecret(given: string, secret: string): boolean {
  const a = Buffer.from(given);
  const b = Buffer.from(secret);
  return a.length === b.length && timingSafeEqual(a, b);
}
