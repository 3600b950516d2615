// GET /metrics on the control socket: the proxy's counters (src/proxy/core/stats.ts and the
// per-service counts) in the Prometheus text format, rendered only when asked. Nothing here runs
// per request. Only revisions that have a backend or a weight now are rendered, so the label set
// stays as small as the services' current revisions, whatever the instance churn.
import type { Registry } from '../core/registry.js';
import type { ServiceMetricsView } from '../core/service.js';
import { TextWriter } from './text-format.js';

/** Every second bound of the proxy's √2-spaced latency buckets: 0.25 ms · 2^k up to ~131 s. */
const keepBucket = (i: number): boolean => i % 2 === 0;

export function renderProxyMetrics(registry: Pick<Registry, 'metricsViews'>): string {
  const w = new TextWriter();
  const f = families(w);
  for (const [service, view] of registry.metricsViews()) renderService(w, f, service, view);
  return w.text();
}

type Families = ReturnType<typeof families>;

function families(w: TextWriter) {
  return {
    requests: w.family(
      'hotswap_proxy_requests_total',
      'counter',
      'Client requests (TCP: connections) that finished, by service, revision and status class (code="none": no response was sent).',
    ),
    errors: w.family(
      'hotswap_proxy_errors_total',
      'counter',
      'Requests the proxy failed (502/504, cut mid-response), by kind: connect, timeout, reset, other.',
    ),
    inFlight: w.family(
      'hotswap_proxy_requests_in_flight',
      'gauge',
      "HTTP requests in flight on a revision's instances.",
    ),
    backends: w.family(
      'hotswap_proxy_backends',
      'gauge',
      'Backends in the route table, by revision and state: active, draining, ejected.',
    ),
    unavailable: w.family(
      'hotswap_proxy_unavailable_total',
      'counter',
      'Requests answered 503 (TCP: connections closed) because no backend was available.',
    ),
    longOpen: w.family(
      'hotswap_proxy_long_connections',
      'gauge',
      'Long connections open now (WebSocket, other upgrades, SSE, TCP), by kind.',
    ),
    longOpened: w.family(
      'hotswap_proxy_long_connections_opened_total',
      'counter',
      'Long connections opened.',
    ),
    longCut: w.family(
      'hotswap_proxy_long_connections_cut_total',
      'counter',
      'Long connections the proxy cut (drain policy, drain budget end, service removed).',
    ),
    drains: w.family('hotswap_proxy_drains_total', 'counter', 'Backends drained.'),
    drainCut: w.family(
      'hotswap_proxy_drain_cut_requests_total',
      'counter',
      "HTTP requests still in flight when a drain's budget ended (cut).",
    ),
    retries: w.family(
      'hotswap_proxy_retries_total',
      'counter',
      'Attempts sent again to another backend after a failed one.',
    ),
    ejections: w.family(
      'hotswap_proxy_ejections_total',
      'counter',
      'Backends taken out of the balancer after consecutive connect failures.',
    ),
  };
}

const STATUS_CLASSES = ['1xx', '2xx', '3xx', '4xx', '5xx'];

function renderService(w: TextWriter, f: Families, service: string, v: ServiceMetricsView): void {
  for (const { revision, counters, inFlight } of v.revisions) {
    const labels = { service, revision };
    const statuses = counters.statusCounts();
    let answered = 0;
    for (const code of STATUS_CLASSES) {
      const n = statuses[code] ?? 0;
      answered += n;
      f.requests({ ...labels, code }, n);
    }
    f.requests({ ...labels, code: 'none' }, Math.max(0, counters.requests - answered));
    const errors: Record<string, number> = { ...counters.errorsByKind() };
    for (const [kind, n] of Object.entries(errors)) f.errors({ ...labels, kind }, n);
    f.inFlight(labels, inFlight);
    w.histogram(
      'hotswap_proxy_request_duration_seconds',
      'Time from dispatch to the last byte of the response, by service and revision.',
      labels,
      counters.histogram(),
      1 / 1000,
      keepBucket,
    );
  }
  const backends = new Map<string, { revision: number; state: string; n: number }>();
  for (const b of v.backends) {
    const key = `${b.revision}/${b.state}`;
    const e = backends.get(key) ?? { revision: b.revision, state: b.state, n: 0 };
    e.n++;
    backends.set(key, e);
  }
  for (const b of backends.values()) {
    f.backends({ service, revision: b.revision, state: b.state }, b.n);
  }
  f.unavailable({ service }, v.unavailable);
  for (const [kind, n] of Object.entries(v.long.byKind)) f.longOpen({ service, kind }, n);
  f.longOpened({ service }, v.long.opened);
  f.longCut({ service }, v.long.cut);
  f.drains({ service }, v.events.drains);
  f.drainCut({ service }, v.events.drainCutRequests);
  f.retries({ service }, v.events.retries);
  f.ejections({ service }, v.events.ejections);
}
