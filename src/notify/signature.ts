// The signature of a webhook delivery (issue 15): `X-Hotswap-Signature: t=<unix seconds>,v1=<hex>`
// where hex is HMAC-SHA256(secret, "<t>.<body>"), as Stripe signs its webhooks. The timestamp is
// in what is signed, so a receiver can refuse old replays; a retry sends the same header.
import { createHmac, timingSafeEqual } from 'node:crypto';

export const SIGNATURE_HEADER = 'x-hotswap-signature';

export function signBody(secret: string, body: string, timestampSec: number): string {
  return `t=${timestampSec},v1=${hmacHex(secret, `${timestampSec}.${body}`)}`;
}

/**
 * What a receiver does: true when `header` signs `body` with `secret` and its timestamp is not
 * older than `toleranceSec` (default: any age).
 */
export function verifySignature(
  secret: string,
  body: string,
  header: string | undefined,
  opts: { toleranceSec?: number; nowSec?: number } = {},
): boolean {
  const parts = new Map(
    (header ?? '').split(',').map((kv) => {
      const i = kv.indexOf('=');
      return [kv.slice(0, i).trim(), kv.slice(i + 1).trim()] as const;
    }),
  );
  const t = Number(parts.get('t'));
  const given = parts.get('v1') ?? '';
  if (!Number.isInteger(t) || !/^[0-9a-f]{64}$/.test(given)) return false;
  const nowSec = opts.nowSec ?? Math.floor(Date.now() / 1000);
  if (opts.toleranceSec !== undefined && Math.abs(nowSec - t) > opts.toleranceSec) return false;
  const expected = Buffer.from(hmacHex(secret, `${t}.${body}`), 'hex');
  return timingSafeEqual(expected, Buffer.from(given, 'hex'));
}

function hmacHex(secret: string, text: string): string {
  return createHmac('sha256', secret).update(text).digest('hex');
}
