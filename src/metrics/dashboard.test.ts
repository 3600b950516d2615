// docs/grafana-dashboard.json must only use metric names hotswap exports (a renamed metric would
// leave an empty panel that nobody notices).
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { Fail, RevisionCounters } from '../proxy/core/stats.js';
import { renderProxyMetrics } from '../proxy/control/metrics.js';
import { Store } from '../store/index.js';
import { DaemonMetrics } from './daemon-metrics.js';
import { scrape } from './server.js';

const DASHBOARD = fileURLToPath(new URL('../../../docs/grafana-dashboard.json', import.meta.url));

/** Every `expr` of the dashboard's panels and annotations. */
function dashboardQueries(): string[] {
  const exprs: string[] = [];
  const walk = (v: unknown): void => {
    if (Array.isArray(v)) v.forEach(walk);
    else if (v !== null && typeof v === 'object') {
      for (const [k, x] of Object.entries(v)) {
        if (k === 'expr' && typeof x === 'string') exprs.push(x);
        else walk(x);
      }
    }
  };
  walk(JSON.parse(readFileSync(DASHBOARD, 'utf8')));
  return exprs;
}

test('the Grafana dashboard uses only the metric names hotswap exports', async () => {
  const store = Store.open(join(mkdtempSync(join(tmpdir(), 'hotswap-dash-')), 'hotswap.db'));
  const daemon = new DaemonMetrics({ store, listInstances: () => Promise.resolve([]) });
  const counters = new RevisionCounters();
  counters.record(200, 1, Fail.NONE, 1);
  const proxyText = renderProxyMetrics({
    metricsViews: () =>
      new Map([
        [
          'web',
          {
            revisions: [{ revision: 1, counters, inFlight: 0 }],
            backends: [{ revision: 1, state: 'active' }],
            unavailable: 0,
            long: {
              open: 0,
              opened: 0,
              cut: 0,
              byKind: { websocket: 0, upgrade: 0, sse: 0, tcp: 0 },
            },
            events: { retries: 0, ejections: 0, drains: 0, drainCutRequests: 0 },
          },
        ],
      ]),
  });
  const text = await scrape({ daemon, proxyText: () => Promise.resolve(proxyText) });
  const exported = new Set([...text.matchAll(/^# TYPE (\S+) (\S+)$/gm)].map((m) => m[1]!));
  const queries = dashboardQueries();
  assert.ok(queries.length >= 15, `${queries.length} queries`);
  const used = new Set(
    queries.flatMap((q) => [...q.matchAll(/\bhotswap_[a-z_]+/g)].map((m) => m[0])),
  );
  for (const name of used) {
    const family = name.replace(/_(bucket|sum|count)$/, '');
    assert.ok(exported.has(name) || exported.has(family), `${name} is not exported`);
  }
  store.close();
});
