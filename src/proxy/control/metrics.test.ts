import assert from 'node:assert/strict';
import { test } from 'node:test';
import { Fail, RevisionCounters } from '../core/stats.js';
import type { ServiceMetricsView } from '../core/service.js';
import { renderProxyMetrics } from './metrics.js';

function view(): ServiceMetricsView {
  const r1 = new RevisionCounters();
  const r2 = new RevisionCounters();
  for (let i = 0; i < 9; i++) r1.record(200, 3, Fail.NONE, 1000 + i);
  r1.record(503, 700, Fail.NONE, 1010);
  r2.record(0, 5, Fail.CONNECT, 1011);
  return {
    revisions: [
      { revision: 1, counters: r1, inFlight: 2 },
      { revision: 2, counters: r2, inFlight: 0 },
    ],
    backends: [
      { revision: 1, state: 'active' },
      { revision: 1, state: 'active' },
      { revision: 2, state: 'draining' },
    ],
    unavailable: 4,
    long: { open: 1, opened: 5, cut: 2, byKind: { websocket: 1, upgrade: 0, sse: 0, tcp: 0 } },
    events: { retries: 3, ejections: 1, drains: 6, drainCutRequests: 0 },
  };
}

test('renders the counters in the Prometheus text format, one HELP/TYPE per family', () => {
  const text = renderProxyMetrics({ metricsViews: () => new Map([['web', view()]]) });
  const lines = text.split('\n');
  assert.equal(lines.filter((l) => l === '# TYPE hotswap_proxy_requests_total counter').length, 1);
  for (const line of [
    'hotswap_proxy_requests_total{service="web",revision="1",code="2xx"} 9',
    'hotswap_proxy_requests_total{service="web",revision="1",code="5xx"} 1',
    'hotswap_proxy_requests_total{service="web",revision="2",code="none"} 1',
    'hotswap_proxy_errors_total{service="web",revision="2",kind="connect"} 1',
    'hotswap_proxy_requests_in_flight{service="web",revision="1"} 2',
    'hotswap_proxy_request_duration_seconds_bucket{service="web",revision="1",le="0.004"} 9',
    'hotswap_proxy_request_duration_seconds_bucket{service="web",revision="1",le="0.512"} 9',
    'hotswap_proxy_request_duration_seconds_bucket{service="web",revision="1",le="1.024"} 10',
    'hotswap_proxy_request_duration_seconds_bucket{service="web",revision="1",le="+Inf"} 10',
    'hotswap_proxy_request_duration_seconds_count{service="web",revision="1"} 10',
    'hotswap_proxy_request_duration_seconds_sum{service="web",revision="1"} 0.727',
    'hotswap_proxy_backends{service="web",revision="1",state="active"} 2',
    'hotswap_proxy_backends{service="web",revision="2",state="draining"} 1',
    'hotswap_proxy_unavailable_total{service="web"} 4',
    'hotswap_proxy_long_connections{service="web",kind="websocket"} 1',
    'hotswap_proxy_long_connections_cut_total{service="web"} 2',
    'hotswap_proxy_drains_total{service="web"} 6',
    'hotswap_proxy_retries_total{service="web"} 3',
    'hotswap_proxy_ejections_total{service="web"} 1',
  ]) {
    assert.ok(lines.includes(line), `missing ${line}`);
  }
  // Every sample line belongs to a family declared above it.
  const declared = new Set<string>();
  for (const l of lines) {
    if (l.startsWith('# TYPE ')) declared.add(l.split(' ')[2]!);
    else if (l !== '' && !l.startsWith('#')) {
      const name = l.split(/[{ ]/)[0]!.replace(/_(bucket|sum|count)$/, '');
      assert.ok(declared.has(name), `sample before its TYPE: ${l}`);
    }
  }
  assert.ok(text.endsWith('\n'));
});

test('label values are escaped', () => {
  const text = renderProxyMetrics({ metricsViews: () => new Map([['a"b\\c', view()]]) });
  assert.ok(text.includes('hotswap_proxy_drains_total{service="a\\"b\\\\c"} 6'));
});

test('no service, no sample (an empty body is a valid exposition)', () => {
  assert.equal(renderProxyMetrics({ metricsViews: () => new Map() }), '');
});
