// Optional Prometheus provider: a user-written PromQL query (the app's own business metric, say)
// as an extra analysis check next to the proxy's numbers. The HTTP call goes through an injected
// fetch-like function so analysis/ stays free of I/O and testable. Anything that goes wrong with
// the query (network, HTTP status, Prometheus error, no data, NaN) yields "inconclusive": a flaky
// metrics server must not roll back a good canary, nor promote a bad one.
import { HotswapError } from '../errors.js';
import type { CheckResult, Verdict } from './judge.js';

/** The subset of the WHATWG fetch that is used; global fetch and undici's fetch both fit. */
export type FetchLike = (
  url: string,
  init?: { method?: string; headers?: Record<string, string> },
) => Promise<{ ok: boolean; status: number; json(): Promise<unknown> }>;

export type QueryResult = { ok: true; value: number } | { ok: false; reason: string };

export interface PrometheusCheck {
  query: string;
  /** Fails when the value is above max. */
  max?: number;
  /** Fails when the value is below min. */
  min?: number;
}

export interface CheckVerdict {
  result: CheckResult;
  value?: number;
  reason: string;
}

/**
 * Runs an instant query (GET {baseUrl}/api/v1/query) and returns its single number: a scalar,
 * or a vector with exactly one series. A vector with several series is refused rather than
 * picking one silently; aggregate it in PromQL (sum, max, …).
 * `time` is a Date or Unix seconds; without it Prometheus evaluates at "now".
 */
export async function queryInstant(
  fetchFn: FetchLike,
  baseUrl: string,
  query: string,
  time?: Date | number,
): Promise<QueryResult> {
  const url = new URL('api/v1/query', baseUrl.endsWith('/') ? baseUrl : `${baseUrl}/`);
  url.searchParams.set('query', query);
  if (time !== undefined) {
    url.searchParams.set('time', String(time instanceof Date ? time.getTime() / 1000 : time));
  }
  let body: unknown;
  try {
    const res = await fetchFn(url.toString(), { headers: { accept: 'application/json' } });
    if (!res.ok) return { ok: false, reason: `Prometheus answered HTTP ${res.status}` };
    body = await res.json();
  } catch (err) {
    return {
      ok: false,
      reason: `Prometheus query failed: ${err instanceof Error ? err.message : String(err)}`,
    };
  }
  return valueFromResponse(body);
}

/** Reads the API envelope { status, data: { resultType, result } } described in the HTTP API docs. */
function valueFromResponse(body: unknown): QueryResult {
  const b = body as {
    status?: string;
    error?: string;
    errorType?: string;
    data?: { resultType?: string; result?: unknown };
  } | null;
  if (b?.status !== 'success') {
    return {
      ok: false,
      reason: `Prometheus error: ${b?.errorType ?? 'unknown'}: ${b?.error ?? 'no detail'}`,
    };
  }
  const { resultType, result } = b.data ?? {};
  let sample: unknown;
  if (resultType === 'scalar') {
    sample = result;
  } else if (resultType === 'vector' && Array.isArray(result)) {
    if (result.length === 0) return { ok: false, reason: 'query returned no data (empty vector)' };
    if (result.length > 1) {
      return {
        ok: false,
        reason: `query returned ${result.length} series; aggregate it to one (e.g. sum())`,
      };
    }
    sample = (result[0] as { value?: unknown } | undefined)?.value;
  } else {
    return {
      ok: false,
      reason: `unsupported result type ${String(resultType)}; use a scalar or instant vector`,
    };
  }
  return parseSample(sample);
}

/** A sample is [unixSeconds, "value"]; the value is a string so it can carry NaN and ±Inf. */
function parseSample(sample: unknown): QueryResult {
  const raw = Array.isArray(sample) ? (sample as unknown[])[1] : undefined;
  if (typeof raw !== 'string')
    return { ok: false, reason: 'malformed sample in Prometheus response' };
  const value = Number(raw.replace(/^\+?Inf$/, 'Infinity').replace(/^-Inf$/, '-Infinity'));
  if (Number.isNaN(value))
    return { ok: false, reason: `query value is ${raw} (no data to compare)` };
  return { ok: true, value };
}

/** Turns a query result into a check verdict against its bounds. */
export function evaluateCheck(check: PrometheusCheck, result: QueryResult): CheckVerdict {
  if (check.max === undefined && check.min === undefined) {
    throw new HotswapError('USAGE', `Prometheus check "${check.query}" needs max or min`);
  }
  if (!result.ok) return { result: 'inconclusive', reason: `${check.query}: ${result.reason}` };
  const v = result.value;
  if (check.max !== undefined && v > check.max) {
    return { result: 'fail', value: v, reason: `${check.query} = ${v}, above max ${check.max}` };
  }
  if (check.min !== undefined && v < check.min) {
    return { result: 'fail', value: v, reason: `${check.query} = ${v}, below min ${check.min}` };
  }
  return { result: 'pass', value: v, reason: `${check.query} = ${v}, within ${bounds(check)}` };
}

/** queryInstant + evaluateCheck. */
export async function runPrometheusCheck(
  fetchFn: FetchLike,
  baseUrl: string,
  check: PrometheusCheck,
  time?: Date | number,
): Promise<CheckVerdict> {
  return evaluateCheck(check, await queryInstant(fetchFn, baseUrl, check.query, time));
}

function bounds(check: PrometheusCheck): string {
  if (check.min !== undefined && check.max !== undefined) return `[${check.min}, ${check.max}]`;
  return check.max !== undefined ? `max ${check.max}` : `min ${check.min}`;
}

/** Values of the placeholders a query may hold: {{canary}}, {{stable}}, {{service}}. */
export interface QueryPlaceholders {
  /** The canary revision's number. */
  canary: number;
  /** The baseline revisions' numbers, joined with "|" (use them in a `=~` matcher when several). */
  stable: number[];
  service: string;
}

const PLACEHOLDER = /\{\{\s*([A-Za-z]+)\s*\}\}/g;

/** The query with its placeholders filled; an unknown one is left as written (Prometheus says why). */
export function fillPlaceholders(query: string, p: QueryPlaceholders): string {
  const values: Record<string, string> = {
    canary: String(p.canary),
    stable: p.stable.join('|'),
    service: p.service,
  };
  return query.replace(PLACEHOLDER, (whole, name: string) => values[name] ?? whole);
}

export interface NamedCheck extends PrometheusCheck {
  name: string;
}

/**
 * Adds the Prometheus checks to a verdict: a failing check fails it; a check that could not be
 * evaluated (server unreachable, error, no data) makes a passing verdict inconclusive, with the
 * reason, since a judgement that did not see all its checks cannot pass. Never throws.
 */
export async function withPrometheusChecks(
  verdict: Verdict,
  prom: { url: string; checks: readonly NamedCheck[] },
  placeholders: QueryPlaceholders,
  fetchFn: FetchLike,
): Promise<Verdict> {
  const reasons = [...verdict.reasons];
  let result = verdict.result;
  for (const check of prom.checks) {
    const query = fillPlaceholders(check.query, placeholders);
    const v = await runPrometheusCheck(fetchFn, prom.url, { ...check, query });
    reasons.push(`prometheus ${check.name}: ${v.reason}`);
    if (v.result === 'fail') result = 'fail';
    else if (v.result === 'inconclusive' && result === 'pass') result = 'inconclusive';
  }
  return { ...verdict, result, reasons };
}
