// X-Request-Id values for requests that come without one: UUID-shaped (8-4-4-4-12 hex), unique
// within a proxy process (a counter) and across processes (a random prefix drawn at start).
// randomUUID() per request cost about 1 KB of garbage (its string is built piece by piece); an id
// only has to be unique, not unpredictable.
import { randomBytes } from 'node:crypto';

const hex = randomBytes(10).toString('hex');
const PREFIX = `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-`;
const ZEROS = '000000000000';
let counter = 0;

export const REQUEST_ID_LENGTH = 36;
const PREFIX_BYTES = Buffer.from(PREFIX, 'latin1');
const HEX = Buffer.from('0123456789abcdef', 'latin1');

function next(): number {
  // 12 hex digits: 2^48 ids before the counter wraps (years at any rate this proxy reaches).
  counter = counter === 0xffffffffffff ? 1 : counter + 1;
  return counter;
}

export function nextRequestId(): string {
  const digits = next().toString(16);
  return PREFIX + ZEROS.slice(digits.length) + digits;
}

/** Writes the next id into `out` at `at` (no string built); returns the offset after it. */
export function writeRequestId(out: Uint8Array, at: number): number {
  out.set(PREFIX_BYTES, at);
  let n = next();
  for (let i = at + REQUEST_ID_LENGTH - 1; i >= at + 24; i--) {
    out[i] = HEX[n % 16]!;
    n = Math.floor(n / 16);
  }
  return at + REQUEST_ID_LENGTH;
}
