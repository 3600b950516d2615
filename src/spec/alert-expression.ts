// The `when` of an alert rule (issue 15): a threshold on one of the numbers the daemon watches,
// `errorRate > 2%`, `p99 > 500ms`, `restarts > 3`, `cpu > 90%`, `memory > 80%`, or an anomaly
// with no threshold, `anomaly(errorRate)`, `anomaly(latency, 4)`. Pure: text in, a condition or
// the offset and reason of the first problem out (the spec turns the offset into line:col).
import { didYouMean } from './suggest.js';

export type ThresholdMetric =
  'errorRate' | 'p50' | 'p95' | 'p99' | 'restarts' | 'cpu' | 'memory' | 'requests';
export type AnomalyMetric = 'errorRate' | 'latency' | 'memory';
export type Comparison = '>' | '>=' | '<' | '<=';

export type AlertCondition =
  | {
      kind: 'threshold';
      metric: ThresholdMetric;
      op: Comparison;
      /** errorRate, memory: a fraction (0.02); cpu: percent of one core; p*: ms; restarts, requests: a count. */
      value: number;
    }
  | {
      kind: 'anomaly';
      metric: AnomalyMetric;
      /** How many standard deviations above the learned baseline count as an anomaly. */
      z: number;
    };

export interface ExpressionProblem {
  /** 0-based offset in the expression text. */
  offset: number;
  message: string;
}

/** What each metric's value is written in. */
const UNITS: Record<ThresholdMetric, 'percent' | 'duration' | 'count'> = {
  errorRate: 'percent',
  p50: 'duration',
  p95: 'duration',
  p99: 'duration',
  restarts: 'count',
  cpu: 'percent',
  memory: 'percent',
  requests: 'count',
};
const THRESHOLD_METRICS = Object.keys(UNITS) as ThresholdMetric[];
const ANOMALY_METRICS: AnomalyMetric[] = ['errorRate', 'latency', 'memory'];
export const DEFAULT_ANOMALY_Z = 3;

interface Token {
  text: string;
  offset: number;
}

/** Words, numbers with their unit, comparison operators and punctuation, with offsets. */
function tokenize(text: string): Token[] | ExpressionProblem {
  const tokens: Token[] = [];
  const re =
    /\s*(?:([A-Za-z_][A-Za-z0-9_]*)|(\d+(?:\.\d+)?[A-Za-z%]*)|(>=|<=|>|<|==|!=|=)|([(),]))/y;
  let at = 0;
  while (at < text.length) {
    re.lastIndex = at;
    const m = re.exec(text);
    if (m === null) {
      if (/^\s*$/.test(text.slice(at))) break;
      const offset = at + (/^\s*/.exec(text.slice(at))?.[0].length ?? 0);
      return { offset, message: `unexpected "${text[offset]}"` };
    }
    const word = m[1] ?? m[2] ?? m[3] ?? m[4]!;
    tokens.push({ text: word, offset: m.index + m[0].length - word.length });
    at = re.lastIndex;
  }
  return tokens;
}

/** Parses a `when` expression. */
export function parseAlertExpression(text: string): AlertCondition | ExpressionProblem {
  const tokens = tokenize(text);
  if (!Array.isArray(tokens)) return tokens;
  const end = text.length;
  const first = tokens[0];
  if (first === undefined)
    return { offset: 0, message: 'empty; write e.g. "errorRate > 2%" or "anomaly(latency)"' };
  if (first.text === 'anomaly') return parseAnomaly(tokens, end);
  return parseThreshold(tokens, end);
}

function parseThreshold(tokens: Token[], end: number): AlertCondition | ExpressionProblem {
  const [metricTok, opTok, valueTok, extra] = tokens as [Token, Token?, Token?, Token?];
  const metric = THRESHOLD_METRICS.find((m) => m === metricTok.text);
  if (metric === undefined) return unknownName(metricTok, THRESHOLD_METRICS, 'metric');
  if (opTok === undefined)
    return { offset: end, message: `expected ">", ">=", "<" or "<=" after ${metric}` };
  const op = (['>', '>=', '<', '<='] as const).find((o) => o === opTok.text);
  if (op === undefined)
    return {
      offset: opTok.offset,
      message: `expected ">", ">=", "<" or "<=", found "${opTok.text}"`,
    };
  if (valueTok === undefined) return { offset: end, message: `expected a value after "${op}"` };
  const value = thresholdValue(metric, valueTok);
  if (typeof value !== 'number') return value;
  if (extra !== undefined)
    return { offset: extra.offset, message: `unexpected "${extra.text}" after the value` };
  return { kind: 'threshold', metric, op, value };
}

function thresholdValue(metric: ThresholdMetric, tok: Token): number | ExpressionProblem {
  const m = /^(\d+(?:\.\d+)?)([A-Za-z%]*)$/.exec(tok.text);
  if (m === null) return { offset: tok.offset, message: `expected a number, found "${tok.text}"` };
  const n = Number(m[1]);
  const unit = m[2]!;
  const bad = (hint: string): ExpressionProblem => ({
    offset: tok.offset,
    message: `${metric} takes ${hint}, found "${tok.text}"`,
  });
  switch (UNITS[metric]) {
    case 'percent':
      if (unit === '%') return metric === 'cpu' ? n : n / 100;
      // A bare fraction for ratios (0.02); cpu is always a percentage of one core.
      if (unit === '' && metric !== 'cpu' && n <= 1) return n;
      return bad(
        metric === 'cpu' ? 'a percentage like 90% (100% = one core)' : 'a percentage like 2%',
      );
    case 'duration':
      if (unit === 'ms') return n;
      if (unit === 's') return n * 1000;
      return bad('a duration like 500ms or 1.5s');
    case 'count':
      if (unit === '' && Number.isInteger(n)) return n;
      return bad('a whole number');
  }
}

function parseAnomaly(tokens: Token[], end: number): AlertCondition | ExpressionProblem {
  const expect = (i: number, text: string): ExpressionProblem | null => {
    const t = tokens[i];
    if (t?.text === text) return null;
    return t === undefined
      ? { offset: end, message: `expected "${text}"` }
      : { offset: t.offset, message: `expected "${text}", found "${t.text}"` };
  };
  const open = expect(1, '(');
  if (open) return open;
  const metricTok = tokens[2];
  if (metricTok === undefined)
    return { offset: end, message: `expected one of ${ANOMALY_METRICS.join(', ')}` };
  const metric = ANOMALY_METRICS.find((m) => m === metricTok.text);
  if (metric === undefined) return unknownName(metricTok, ANOMALY_METRICS, 'anomaly metric');
  let z = DEFAULT_ANOMALY_Z;
  let next = 3;
  if (tokens[3]?.text === ',') {
    const zTok = tokens[4];
    if (zTok === undefined || !/^\d+(\.\d+)?$/.test(zTok.text) || Number(zTok.text) <= 0)
      return {
        offset: zTok?.offset ?? end,
        message: 'expected a positive number of standard deviations, like 3',
      };
    z = Number(zTok.text);
    next = 5;
  }
  const close = expect(next, ')');
  if (close) return close;
  const extra = tokens[next + 1];
  if (extra) return { offset: extra.offset, message: `unexpected "${extra.text}" after ")"` };
  return { kind: 'anomaly', metric, z };
}

function unknownName(tok: Token, allowed: readonly string[], what: string): ExpressionProblem {
  const guess = didYouMean(tok.text, allowed);
  return {
    offset: tok.offset,
    message: `unknown ${what} "${tok.text}"${guess ? ` — did you mean "${guess}"?` : ''}; one of ${allowed.join(', ')}${what === 'metric' ? ', or anomaly(…)' : ''}`,
  };
}

/** The condition back as text, with its unit (for alerts and notifications). */
export function formatCondition(c: AlertCondition): string {
  if (c.kind === 'anomaly')
    return `anomaly(${c.metric}${c.z === DEFAULT_ANOMALY_Z ? '' : `, ${c.z}`})`;
  return `${c.metric} ${c.op} ${formatMetricValue(c.metric, c.value)}`;
}

/** A metric's value with its unit: 0.021 errorRate → "2.1%", p99 512 → "512ms". */
export function formatMetricValue(metric: ThresholdMetric | AnomalyMetric, value: number): string {
  const round = (n: number): string => String(Math.round(n * 100) / 100);
  switch (metric) {
    case 'errorRate':
    case 'memory':
      return `${round(value * 100)}%`;
    case 'cpu':
      return `${round(value)}%`;
    case 'p50':
    case 'p95':
    case 'p99':
    case 'latency':
      return `${round(value)}ms`;
    default:
      return round(value);
  }
}
