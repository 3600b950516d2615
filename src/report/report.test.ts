import assert from 'node:assert/strict';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import type { Router, ServiceStats } from '../proxy/types.js';
import type { InstanceUsage, Runtime } from '../runtime/types.js';
import { cpuPercent } from '../runtime/docker/usage.js';
import { Store, type UsageSample } from '../store/index.js';
import { KEEP_SAMPLED } from '../store/reports.js';
import { buildReport } from './build.js';
import { renderHtml } from './html.js';
import { RolloutSampler, samplingFromEnv } from './sampler.js';
import { synthesizeRollout } from './synthetic.js';
import { formatReport } from './text.js';

function tempStore(): Store {
  return Store.open(join(mkdtempSync(join(tmpdir(), 'hotswap-report-')), 'hotswap.db'));
}

test('a recorded rollout gives windows per revision, percentiles and aligned chart columns', () => {
  const store = tempStore();
  const id = synthesizeRollout(store, {
    service: 'web',
    seconds: 40,
    ratePerSec: 200,
    instances: 4,
  });
  const r = buildReport(store, 'web');
  assert.equal(r.rollout.id, id);
  assert.ok(r.sampled && r.complete);
  const phases = r.phases.map((p) => `${p.phase}:r${p.revision}`);
  assert.deepEqual(phases, ['before:r1', 'during:r1', 'during:r2', 'after:r2']);
  const during2 = r.phases.find((p) => p.phase === 'during' && p.revision === 2)!;
  assert.ok(during2.requests > 1000 && during2.failed > 0);
  assert.ok(during2.p50! < during2.p95! && during2.p95! <= during2.p99!);
  assert.equal(r.charts.p99.t.length, 44);
  for (const line of Object.values(r.charts.p99.lines)) assert.equal(line.length, 44);
  assert.equal(Object.keys(r.charts.cpuPct.lines).length, 4);
  assert.deepEqual(Object.keys(r.charts.weightPct.lines), ['r1', 'r2']);
  assert.equal(r.charts.weightPct.lines['r2']!.at(-1), 100);
  assert.match(formatReport(r), /during\s+r2/);
  assert.equal(r.instances.length, 4);
  assert.ok(r.instances.every((i) => i.samples === 44 && i.cpuMaxPct! >= i.cpuMeanPct!));
  const html = renderHtml(r, { js: '/*uplot*/', css: '' });
  assert.ok(html.includes('"requestsPerSec"') && !html.includes('</script><script>"'));
  assert.throws(() => buildReport(store, 'web', id + 1), /not found/);
  assert.throws(() => buildReport(store, 'other'), /has no rollout/);
});

/** A store with one rolling rollout r1 → r2 of "web". */
function rollingRollout() {
  const store = tempStore();
  const rec = store.rollouts.start({
    service: 'web',
    kind: 'update',
    from: 1,
    to: 2,
    strategy: 'rolling',
  });
  return { store, rec };
}

/** Docker readings that each add 50 ns of CPU in 100 ns of system time. */
function usageCounter(onlineCpus: number): () => InstanceUsage {
  let n = 0;
  return () => {
    n++;
    return {
      atMs: Date.now(),
      cpuTotalNs: n * 50,
      systemNs: n * 100,
      onlineCpus,
      memoryBytes: 1 << 20,
      memoryLimitBytes: null,
    };
  };
}

test('the sampler records before, during and after, with CPU % from two Docker readings', async () => {
  const { store, rec } = rollingRollout();
  const asked: number[] = [];
  const router = {
    stats: (_s: string, o?: { windowMs?: number }): Promise<ServiceStats> => {
      asked.push(o?.windowMs ?? -1);
      const rev = { windowRequests: 3, windowErrors: 1, samples: [1, 2, 3] };
      return Promise.resolve({
        revisions: { '2': rev },
        instances: { abc: { revision: 2 } },
      } as unknown as ServiceStats);
    },
  } as Router;
  const next = usageCounter(2);
  const runtime = {
    instanceUsage: (): Promise<InstanceUsage> => Promise.resolve(next()),
  } as unknown as Runtime;
  const sampler = new RolloutSampler({ router, runtime, store }, 'web', rec.id, {
    beforeMs: 5000,
    afterMs: 60,
    intervalMs: 20,
  }).start();
  await new Promise((r) => setTimeout(r, 100));
  sampler.ended();
  await new Promise((r) => setTimeout(r, 200));
  assert.equal(asked[0], 5000, 'the first read is the before window');
  const traffic = store.reports.traffic(rec.id);
  const phases = new Set(traffic.map((t) => t.phase));
  assert.deepEqual([...phases].sort(), ['after', 'before', 'during']);
  assert.deepEqual([...traffic[0]!.latencies], [1, 2, 3]);
  const usage = store.reports.usage(rec.id);
  assert.equal(usage[0]!.cpuPercent, null, 'one reading gives no CPU % yet');
  assert.equal(usage[1]!.cpuPercent, 100, '50 of 100 ns on 2 CPUs = one full core');
  assert.equal(store.reports.meta(rec.id)!.complete, true);
  const count = store.reports.traffic(rec.id).length;
  await new Promise((r) => setTimeout(r, 60));
  assert.equal(store.reports.traffic(rec.id).length, count, 'nothing recorded once complete');
});

/**
 * Samples instances 1 and 2 of "web" every 20 ms for `ms`, their Docker stats read by `read`;
 * returns the readings stored per instance.
 */
async function sampleTwo(
  ids: [string, string],
  read: (id: string) => Promise<InstanceUsage>,
  ms: number,
): Promise<Record<string, UsageSample[]>> {
  const { store, rec } = rollingRollout();
  const router = {
    stats: (): Promise<ServiceStats> =>
      Promise.resolve({
        revisions: {},
        instances: { [ids[0]]: { revision: 1 }, [ids[1]]: { revision: 2 } },
      } as unknown as ServiceStats),
  } as unknown as Router;
  const runtime = { instanceUsage: read } as unknown as Runtime;
  const sampler = new RolloutSampler({ router, runtime, store }, 'web', rec.id, {
    beforeMs: 1000,
    afterMs: 10,
    intervalMs: 20,
  }).start();
  await new Promise((r) => setTimeout(r, ms));
  sampler.stop();
  const usage = store.reports.usage(rec.id);
  return Object.fromEntries(ids.map((id) => [id, usage.filter((u) => u.instanceId === id)]));
}

test('an instance whose stats read hangs does not stop the others being sampled', async () => {
  const next = usageCounter(1);
  // 'stuck' is a container being removed: its read never comes back.
  const read = (id: string): Promise<InstanceUsage> =>
    id === 'stuck' ? new Promise(() => undefined) : Promise.resolve(next());
  const { fine } = await sampleTwo(['stuck', 'fine'], read, 400);
  // 400 ms at 20 ms: about 20 readings; at least 5 even on a loaded machine.
  assert.ok(fine!.length >= 5, `only ${fine!.length} readings of the instance that answers`);
  assert.ok(fine!.filter((u) => u.cpuPercent !== null).length >= 4, 'CPU % from consecutive reads');
});

test('each instance is read at its own pace: a slow stats read does not slow the others', async () => {
  const next = usageCounter(1);
  const read = async (id: string): Promise<InstanceUsage> => {
    if (id === 'slow') await new Promise((r) => setTimeout(r, 35)); // a container stopping
    return next();
  };
  const { slow, fine } = await sampleTwo(['slow', 'fine'], read, 500);
  // Paced by the slow read, both get the same count (~14); on its own, 'fine' gets ~25 and 'slow'
  // ~12 (it is asked again at the first tick after its read came back).
  assert.ok(fine!.length >= 1.5 * slow!.length, `fine ${fine!.length}, slow ${slow!.length}`);
});

test('readings of one round a few ms apart share a point: each instance draws an unbroken line', () => {
  const { store, rec } = rollingRollout();
  const t0 = 1_000_000;
  store.reports.begin({
    rolloutId: rec.id,
    service: 'web',
    beforeMs: 1000,
    afterMs: 1000,
    startedMs: t0,
  });
  for (let k = 1; k <= 3; k++) {
    store.reports.addUsage(rec.id, [
      {
        atMs: t0 + k * 1000 + 3,
        instanceId: 'aaaaaaaaaa',
        revision: 1,
        cpuPercent: k,
        memoryBytes: 1 << 20,
      },
      {
        atMs: t0 + k * 1000 + 41,
        instanceId: 'bbbbbbbbbb',
        revision: 2,
        cpuPercent: k,
        memoryBytes: 1 << 20,
      },
    ]);
  }
  const chart = buildReport(store, 'web', rec.id).charts.cpuPct;
  assert.equal(chart.t.length, 3);
  for (const line of Object.values(chart.lines)) assert.deepEqual(line, [1, 2, 3]);
});

test('cpuPercent needs two readings that moved; bad windows in the environment are refused', () => {
  const a = {
    atMs: 0,
    cpuTotalNs: 0,
    systemNs: 0,
    onlineCpus: 4,
    memoryBytes: 0,
    memoryLimitBytes: 0,
  };
  assert.equal(cpuPercent(a, { ...a, cpuTotalNs: 25, systemNs: 100 }), 100);
  assert.equal(cpuPercent(a, a), null);
  assert.equal(samplingFromEnv({ HOTSWAP_REPORT_AFTER: '5s' }).afterMs, 5000);
  assert.throws(
    () => samplingFromEnv({ HOTSWAP_REPORT_AFTER: 'soon' }),
    /HOTSWAP_REPORT_AFTER=soon/,
  );
});

test('samples of rollouts older than the last KEEP_SAMPLED of a service are dropped', () => {
  const store = tempStore();
  const small = { service: 'web', seconds: 2, ratePerSec: 10, instances: 1 };
  const first = synthesizeRollout(store, small);
  for (let i = 0; i < KEEP_SAMPLED; i++) synthesizeRollout(store, small);
  synthesizeRollout(store, { ...small, service: 'other' });
  assert.equal(store.reports.traffic(first).length, 0);
  assert.equal(store.reports.usage(first).length, 0);
  assert.ok(store.reports.traffic(first + 1).length > 0, 'the last 50 keep theirs');
  assert.equal(buildReport(store, 'web', first).phases.length, 0, 'the timeline stays');
});

test('the watch after promotion: window, baseline, verdict numbers, breach and rollback', () => {
  const store = tempStore();
  const id = synthesizeRollout(store, {
    service: 'web',
    seconds: 10,
    ratePerSec: 50,
    instances: 2,
  });
  const note = (event: string, data: unknown) =>
    store.journal.append({ service: 'web', rolloutId: id, event, data });
  assert.equal(buildReport(store, 'web').watch, null, 'no watch without postPromotion');
  note('watch.baseline', {
    revisions: [1],
    windowMs: 60_000,
    requests: 3000,
    errors: 0,
    latenciesMs: [],
  });
  note('watch.started', {
    revision: 2,
    previous: 1,
    windowMs: 300_000,
    intervalMs: 30_000,
    endsAt: '2026-01-01T00:05:00Z',
  });
  assert.equal(buildReport(store, 'web').watch?.status, 'watching');
  const metrics = { errorRate: { canaryErrors: 12, canaryTotal: 400 } };
  note('watch.verdict', { result: 'pass', reasons: ['within 2%'], metrics: {} });
  note('watch.verdict', { result: 'fail', reasons: ['error rate 3.0% (12/400)'], metrics });
  note('watch.failed', { reason: 'watch after promotion: error rate 3.0% (12/400)', previous: 1 });
  note('watch.rolledback', {
    rolloutId: id + 1,
    outcome: 'succeeded',
    instant: true,
    flipMs: 40,
    reason: null,
  });
  const r = buildReport(store, 'web');
  const w = r.watch!;
  assert.equal(w.status, 'rolled back');
  assert.deepEqual(w.baseline, { revisions: [1], windowMs: 60_000, requests: 3000, errors: 0 });
  assert.deepEqual(
    w.verdicts.map((v) => v.result),
    ['pass', 'fail'],
  );
  assert.deepEqual(w.verdicts[1]!.metrics, metrics);
  assert.deepEqual(
    { ...w.rollback, tMs: 0 },
    { rolloutId: id + 1, outcome: 'succeeded', instant: true, flipMs: 40, tMs: 0 },
  );
  const text = formatReport(r);
  assert.match(
    text,
    /watch after promotion: r2 for 5m0s against r1's baseline \(3000 requests, 0 errors over 60\.0s\), 2 judgement\(s\): breached .* \(watch after promotion: error rate 3\.0% \(12\/400\)\); rolled back to r1 by rollout #\d+ \(instant flip, 40ms, succeeded\)/,
  );
  assert.match(text, /watch verdict at .*: fail — error rate 3\.0% \(12\/400\)/);
  assert.match(renderHtml(r, { js: '', css: '' }), /<h2>Watch after promotion<\/h2>/);
});
