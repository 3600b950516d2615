// Env values never leave the daemon through the API: every `env` map in a response keeps its
// names, and each value becomes a marker. (Secret files are shown by path and digest only.)
export const REDACTED = '(redacted)';

/** A deep copy of value with the values of every `env` string map replaced by REDACTED. */
export function redactEnv<T>(value: T): T {
  return walk(value) as T;
}

function walk(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(walk);
  if (value === null || typeof value !== 'object') return value;
  const out: Record<string, unknown> = {};
  // A reload file (issue 16) is shown by its target and digest: its content may hold secrets.
  const reloadFile = 'sha256' in value && 'target' in value;
  // A webhook (issue 15): its secret signs deliveries, and a URL's path is often a credential
  // itself (Slack's incoming webhooks), so only its origin is shown.
  const webhook = 'url' in value && 'events' in value && 'secret' in value;
  for (const [k, v] of Object.entries(value))
    out[k] =
      k === 'env' && isStringMap(v)
        ? masked(v)
        : reloadFile && k === 'content' && typeof v === 'string'
          ? REDACTED
          : webhook && k === 'secret' && typeof v === 'string'
            ? REDACTED
            : webhook && k === 'url' && typeof v === 'string'
              ? redactUrl(v)
              : walk(v);
  return out;
}

/** A URL with only its origin left: "https://hooks.slack.com/(redacted)". */
export function redactUrl(url: string): string {
  try {
    return `${new URL(url).origin}/${REDACTED}`;
  } catch {
    return REDACTED;
  }
}

const isStringMap = (v: unknown): v is Record<string, string> =>
  typeof v === 'object' &&
  v !== null &&
  !Array.isArray(v) &&
  Object.values(v).every((x) => typeof x === 'string');

function masked(env: Record<string, string>): Record<string, string> {
  return Object.fromEntries(Object.keys(env).map((k) => [k, REDACTED]));
}
