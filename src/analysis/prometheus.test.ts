import assert from 'node:assert/strict';
import { test } from 'node:test';
import { HotswapError } from '../errors.js';
import { createServer } from 'node:net';
import type { Verdict } from './judge.js';
import {
  evaluateCheck,
  fillPlaceholders,
  queryInstant,
  runPrometheusCheck,
  withPrometheusChecks,
  type FetchLike,
} from './prometheus.js';

// Response bodies follow the Prometheus HTTP API documentation (/api/v1/query).
function fakeFetch(body: unknown, status = 200): FetchLike & { urls: string[] } {
  const urls: string[] = [];
  const fn = (url: string) => {
    urls.push(url);
    return Promise.resolve({
      ok: status >= 200 && status < 300,
      status,
      json: () => Promise.resolve(body),
    });
  };
  return Object.assign(fn, { urls });
}

const vector = (...values: string[]) => ({
  status: 'success',
  data: {
    resultType: 'vector',
    result: values.map((v, i) => ({ metric: { instance: `i${i}` }, value: [1700000000.5, v] })),
  },
});

test('queries /api/v1/query with the query and time, reading a one-series vector', async () => {
  const f = fakeFetch(vector('0.25'));
  const r = await queryInstant(
    f,
    'http://prom:9090/',
    'sum(rate(errors[5m]))',
    new Date(1700000000500),
  );
  assert.deepEqual(r, { ok: true, value: 0.25 });
  const url = new URL(f.urls[0]!);
  assert.equal(url.pathname, '/api/v1/query');
  assert.equal(url.searchParams.get('query'), 'sum(rate(errors[5m]))');
  assert.equal(url.searchParams.get('time'), '1700000000.5');
});

test('keeps a path prefix of the base URL and reads scalars and +Inf', async () => {
  const f = fakeFetch({ status: 'success', data: { resultType: 'scalar', result: [1, '+Inf'] } });
  assert.deepEqual(await queryInstant(f, 'http://host/prometheus', '1/0'), {
    ok: true,
    value: Infinity,
  });
  assert.equal(new URL(f.urls[0]!).pathname, '/prometheus/api/v1/query');
});

test('HTTP errors, API errors, empty or ambiguous vectors, NaN and network failures are not numbers', async () => {
  const cases: [FetchLike, RegExp][] = [
    [fakeFetch({}, 503), /HTTP 503/],
    [
      fakeFetch({ status: 'error', errorType: 'bad_data', error: 'parse error at char 5' }),
      /bad_data: parse error/,
    ],
    [fakeFetch(vector()), /empty vector/],
    [fakeFetch(vector('1', '2')), /2 series/],
    [fakeFetch(vector('NaN')), /NaN/],
    [
      fakeFetch({ status: 'success', data: { resultType: 'matrix', result: [] } }),
      /unsupported result type matrix/,
    ],
    [() => Promise.reject(new Error('ECONNREFUSED')), /ECONNREFUSED/],
  ];
  for (const [f, reason] of cases) {
    const r = await queryInstant(f, 'http://prom:9090', 'up');
    assert.equal(r.ok, false);
    if (!r.ok) assert.match(r.reason, reason);
  }
});

test('a check passes within its bounds, fails outside, and is inconclusive without a value', async () => {
  const check = { query: 'sum(rate(errors[5m]))', max: 0.5, min: 0 };
  assert.equal(
    (await runPrometheusCheck(fakeFetch(vector('0.2')), 'http://p', check)).result,
    'pass',
  );
  const high = await runPrometheusCheck(fakeFetch(vector('0.75')), 'http://p', check);
  assert.deepEqual(high, {
    result: 'fail',
    value: 0.75,
    reason: 'sum(rate(errors[5m])) = 0.75, above max 0.5',
  });
  const low = evaluateCheck(check, { ok: true, value: -1 });
  assert.equal(low.result, 'fail');
  assert.match(low.reason, /below min 0/);
  const down = await runPrometheusCheck(fakeFetch({}, 500), 'http://p', check);
  assert.equal(down.result, 'inconclusive');
  assert.throws(() => evaluateCheck({ query: 'up' }, { ok: true, value: 1 }), HotswapError);
});

test('fills {{canary}}, {{stable}} and {{service}}; leaves unknown placeholders as written', () => {
  const q = fillPlaceholders(
    'rate(x{service="{{service}}",revision="{{ canary }}"}[1m]) / rate(x{revision=~"{{stable}}"}[1m]) {{other}}',
    { canary: 3, stable: [1, 2], service: 'web' },
  );
  assert.equal(
    q,
    'rate(x{service="web",revision="3"}[1m]) / rate(x{revision=~"1|2"}[1m]) {{other}}',
  );
});

const passing: Verdict = { result: 'pass', reasons: ['proxy numbers fine'], metrics: {} };
const placeholders = { canary: 2, stable: [1], service: 'web' };

test('a Prometheus that cannot be reached makes the judgement inconclusive, with the reason', async () => {
  // A real connection refused: a port that was free a moment ago, on loopback.
  const srv = createServer();
  await new Promise<void>((r) => srv.listen(0, '127.0.0.1', r));
  const port = (srv.address() as { port: number }).port;
  await new Promise<void>((r) => srv.close(() => r()));
  const v = await withPrometheusChecks(
    passing,
    { url: `http://127.0.0.1:${port}`, checks: [{ name: 'errors', query: 'up', max: 1 }] },
    placeholders,
    (url) => fetch(url, { signal: AbortSignal.timeout(2000) }),
  );
  assert.equal(v.result, 'inconclusive');
  assert.match(v.reasons.at(-1)!, /^prometheus errors: up: Prometheus query failed: /);
  assert.equal(v.reasons[0], 'proxy numbers fine');
});

test('a check out of bounds fails the judgement with the filled query and its value', async () => {
  const f = fakeFetch(vector('0.3'));
  const v = await withPrometheusChecks(
    passing,
    {
      url: 'http://prom:9090',
      checks: [{ name: 'errors', query: 'x{revision="{{canary}}"}', max: 0.05 }],
    },
    placeholders,
    f,
  );
  assert.equal(v.result, 'fail');
  assert.equal(v.reasons.at(-1), 'prometheus errors: x{revision="2"} = 0.3, above max 0.05');
  assert.match(decodeURIComponent(f.urls[0]!), /query=x\{revision="2"\}/);
});

test('an inconclusive check does not turn a failed judgement into an inconclusive one', async () => {
  const v = await withPrometheusChecks(
    { ...passing, result: 'fail' },
    { url: 'http://prom:9090', checks: [{ name: 'e', query: 'up', max: 1 }] },
    placeholders,
    () => Promise.reject(new Error('ECONNREFUSED')),
  );
  assert.equal(v.result, 'fail');
});
