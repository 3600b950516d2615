import { HotswapError } from '../errors.js';

const UNIT_MS: Record<string, number> = {
  m: 60_000,
  h: 3_600_000,
  d: 86_400_000,
  w: 604_800_000,
};

/** `30d`, `12h`, `90m`, `2w` → milliseconds; null when the text is not such a duration. */
export function daysLikeMs(text: string): number | null {
  const m = /^(\d+)([mhdw])$/.exec(text.trim());
  return m && Number(m[1]) > 0 ? Number(m[1]) * UNIT_MS[m[2]!]! : null;
}

/** A token lifetime; a clear USAGE error when it is not a positive duration. */
export function parseExpiry(text: string): number {
  const ms = daysLikeMs(text);
  if (ms === null)
    throw new HotswapError(
      'USAGE',
      `API field "expires": expected a positive duration like 30d, 12h, 90m or 2w, found "${text}"`,
    );
  return ms;
}
