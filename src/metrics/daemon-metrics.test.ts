import assert from 'node:assert/strict';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import type { Instance } from '../runtime/types.js';
import { Store } from '../store/index.js';
import { DaemonMetrics } from './daemon-metrics.js';
import { scrape } from './server.js';

function setup(instances: Partial<Instance>[] = []): { store: Store; metrics: DaemonMetrics } {
  const store = Store.open(join(mkdtempSync(join(tmpdir(), 'hotswap-metrics-')), 'hotswap.db'));
  const metrics = new DaemonMetrics({
    store,
    listInstances: () => Promise.resolve(instances as Instance[]),
  });
  store.journal.observe((e) => metrics.observe(e));
  return { store, metrics };
}

test('rollouts, steps, verdicts, rollbacks and reconcile actions are counted from the journal', async () => {
  const { store, metrics } = setup([
    { service: 'web', state: 'running' },
    { service: 'web', state: 'running' },
    { service: 'web', state: 'exited' },
  ]);
  const r = store.rollouts.start({
    service: 'web',
    kind: 'update',
    from: 1,
    to: 2,
    strategy: 'canary',
  });
  const j = (event: string, data: unknown) =>
    store.journal.append({ service: 'web', rolloutId: r.id, event, data });
  j('rollout.started', { kind: 'update' });
  j('step.started', { kind: 'setWeight', percent: 20 });
  j('step.started', { kind: 'analysis' });
  j('analysis.verdict', { result: 'inconclusive', reasons: [] });
  j('analysis.verdict', { result: 'fail', reasons: [] });
  j('rollback.started', { reason: 'x' });
  j('rollback.finished', { serving: 3 });
  j('rollout.failed', { reason: 'x' });
  store.journal.append({ service: 'web', event: 'instance.replaced', data: { trigger: 'exited' } });
  store.journal.append({ service: 'web', event: 'rollout.started', data: { kind: 'rollback' } });
  metrics.probed('http', true);
  metrics.probed('http', false);
  const text = await metrics.text();
  for (const line of [
    'hotswap_rollouts_total{service="web",outcome="failed"} 1',
    'hotswap_rollout_duration_seconds_count{service="web",outcome="failed"} 1',
    'hotswap_rollout_steps_total{service="web",kind="setWeight"} 1',
    'hotswap_rollout_steps_total{service="web",kind="analysis"} 1',
    'hotswap_analysis_verdicts_total{service="web",result="fail"} 1',
    'hotswap_analysis_verdicts_total{service="web",result="inconclusive"} 1',
    'hotswap_rollbacks_total{service="web",trigger="automatic"} 1',
    'hotswap_rollbacks_total{service="web",trigger="requested"} 1',
    'hotswap_reconcile_actions_total{service="web",action="instance.replaced"} 1',
    'hotswap_probes_total{type="http",result="pass"} 1',
    'hotswap_probes_total{type="http",result="fail"} 1',
    'hotswap_instances{service="web",state="running"} 2',
    'hotswap_instances{service="web",state="exited"} 1',
    'hotswap_journal_events_total{event="step.started"} 2',
  ]) {
    assert.ok(text.split('\n').includes(line), `missing ${line}`);
  }
  store.close();
});

test('a scrape appends the proxy text; a proxy that does not answer sets hotswap_proxy_up 0', async () => {
  const { store, metrics } = setup();
  const proxyLine = 'hotswap_proxy_drains_total{service="web"} 2\n';
  const ok = await scrape({ daemon: metrics, proxyText: () => Promise.resolve(proxyLine) });
  assert.match(ok, /\nhotswap_proxy_up 1\n/);
  assert.ok(ok.endsWith(proxyLine));
  const down = await scrape({
    daemon: metrics,
    proxyText: () => Promise.reject(new Error('ENOENT on /x/proxy.sock')),
  });
  assert.match(
    down,
    /\nhotswap_proxy_up 0\n# proxy metrics unavailable: ENOENT on \/x\/proxy.sock\n$/,
  );
  assert.match(down, /hotswap_daemon_process_cpu_seconds_total/);
  store.close();
});

test('an engine that does not answer leaves hotswap_instances empty; the scrape still serves', async () => {
  const store = Store.open(join(mkdtempSync(join(tmpdir(), 'hotswap-metrics-')), 'hotswap.db'));
  const metrics = new DaemonMetrics({
    store,
    listInstances: () => Promise.reject(new Error('connect ENOENT /var/run/docker.sock')),
  });
  metrics.probed('tcp', true);
  const text = await metrics.text();
  assert.match(text, /^hotswap_probes_total\{type="tcp",result="pass"\} 1$/m);
  assert.doesNotMatch(text, /^hotswap_instances\{/m);
  store.close();
});

test("a removed service's series go with it; the others stay", async () => {
  const { store, metrics } = setup();
  for (const service of ['web', 'api']) {
    const r = store.rollouts.start({
      service,
      kind: 'update',
      from: null,
      to: 1,
      strategy: 'rolling',
    });
    store.journal.append({
      service,
      rolloutId: r.id,
      event: 'step.started',
      data: { kind: 'surge' },
    });
    store.journal.append({ service, rolloutId: r.id, event: 'rollout.succeeded', data: {} });
  }
  store.journal.append({ service: 'web', event: 'service.removed', data: {} });
  const text = await metrics.text();
  assert.doesNotMatch(text, /service="web"/);
  assert.match(text, /^hotswap_rollouts_total\{service="api",outcome="succeeded"\} 1$/m);
  assert.match(
    text,
    /^hotswap_rollout_duration_seconds_count\{service="api",outcome="succeeded"\} 1$/m,
  );
  assert.match(text, /^hotswap_rollout_steps_total\{service="api",kind="surge"\} 1$/m);
  store.close();
});
