// Issue 15 end to end: the daemon serves /metrics (its own and the proxy's) on the address from
// <home>/config.yaml; Debian's real Prometheus, started here on loopback, scrapes it every second;
// a canary whose only check is an `analysis.prometheus` query of its own error rate (scoped with
// {{canary}}) is rolled back by that check.
import assert from 'node:assert/strict';
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { homePaths } from '../../src/daemon/paths.js';
import { cleanupScope, ensureFixtures, requireEngine } from '../helpers/docker.js';
import { REPO_ROOT, freePort, getText, hotswap, type CliResult } from '../helpers/cli.js';
import { underLoad, waitFor } from '../helpers/load.js';

const RATE = 150;
/** The canary's error rate, from the proxy's counters as Prometheus scraped them. */
const ERROR_RATE_QUERY =
  'sum(rate(hotswap_proxy_requests_total{service="{{service}}",revision="{{canary}}",code="5xx"}[5s]))' +
  ' / sum(rate(hotswap_proxy_requests_total{service="{{service}}",revision="{{canary}}"}[5s]))';

function spec(port: number, promUrl: string, env: Record<string, string | number>, steps: string) {
  return `services:
  web:
    image: hotswap-fixture:v2
    replicas: 2
    port: 8080
    listen: 127.0.0.1:${port}
    env: ${JSON.stringify(env)}
    health: { http: /healthz, interval: 200ms, healthyThreshold: 2, deadline: 15s }
    strategy:
      type: canary
      steps: ${steps}
    analysis:
      minRequests: 20
      errorRate: null
      latency: null
      prometheus:
        url: ${promUrl}
        checks:
          - name: canary-error-rate
            query: '${ERROR_RATE_QUERY}'
            max: 0.05
    drain: { timeout: 5s }
    stopGracePeriod: 5s
`;
}

/** Prometheus on loopback, scraping the daemon every second; storage in a temp dir. */
async function startPrometheus(
  metricsPort: number,
): Promise<{ url: string; child: ChildProcess; dir: string }> {
  const dir = mkdtempSync(join(tmpdir(), 'hotswap-prometheus-'));
  const config = join(dir, 'prometheus.yml');
  writeFileSync(
    config,
    `global: { scrape_interval: 1s, evaluation_interval: 1s }
scrape_configs:
  - job_name: hotswap
    static_configs: [{ targets: ['127.0.0.1:${metricsPort}'] }]
`,
  );
  const port = await freePort();
  const child = spawn(
    'prometheus',
    [
      `--config.file=${config}`,
      `--storage.tsdb.path=${join(dir, 'data')}`,
      `--web.listen-address=127.0.0.1:${port}`,
    ],
    { stdio: ['ignore', 'ignore', 'pipe'] },
  );
  let log = '';
  child.stderr.on('data', (d: Buffer) => (log = (log + d.toString()).slice(-4000)));
  const url = `http://127.0.0.1:${port}`;
  await waitFor(
    'Prometheus to be ready',
    async () => (await fetch(`${url}/-/ready`)).ok,
    20_000,
  ).catch((err: Error) => {
    throw new Error(`${err.message}; its log: ${log}`);
  });
  return { url, child, dir };
}

/** One number from an instant query, or null while there is none. */
async function promValue(url: string, query: string): Promise<number | null> {
  const res = await fetch(`${url}/api/v1/query?query=${encodeURIComponent(query)}`);
  const body = (await res.json()) as { data?: { result?: Array<{ value: [number, string] }> } };
  const v = body.data?.result?.[0]?.value[1];
  return v === undefined ? null : Number(v);
}

describe('a real Prometheus scrapes hotswap and judges a canary', () => {
  const home = mkdtempSync(join(tmpdir(), 'hotswap-prom-'));
  const file = join(mkdtempSync(join(tmpdir(), 'hotswap-prom-spec-')), 'hotswap.yaml');
  let port = 0;
  let metricsUrl = '';
  let prom: Awaited<ReturnType<typeof startPrometheus>> | null = null;
  const up = (text: string): Promise<CliResult> => {
    writeFileSync(file, text);
    return hotswap(home, ['up', '-f', file]);
  };

  before(async () => {
    const which = spawnSync('prometheus', ['--version']);
    assert.equal(which.status, 0, "needs Debian's prometheus package (apt-get install prometheus)");
    await requireEngine();
    await ensureFixtures();
    port = await freePort();
    const metricsPort = await freePort();
    metricsUrl = `http://127.0.0.1:${metricsPort}/metrics`;
    writeFileSync(join(home, 'config.yaml'), `metrics:\n  listen: 127.0.0.1:${metricsPort}\n`);
    prom = await startPrometheus(metricsPort);
    const r = await up(spec(port, prom.url, { VERSION: 'v1' }, '[{ setWeight: 100 }]'));
    assert.equal(r.code, 0, r.stderr + r.stdout);
    assert.equal((await getText(`http://127.0.0.1:${port}/`)).version, 'v1');
  });

  after(async () => {
    prom?.child.kill('SIGTERM');
    await hotswap(home, ['down']);
    await cleanupScope(homePaths(home).scope);
    if (prom) rmSync(prom.dir, { recursive: true, force: true });
  });

  test('/metrics carries the daemon and the proxy metrics, and Prometheus scrapes them', async () => {
    for (let i = 0; i < 20; i++) await getText(`http://127.0.0.1:${port}/`);
    const res = await fetch(metricsUrl);
    assert.equal(res.status, 200);
    assert.match(res.headers.get('content-type') ?? '', /^text\/plain; version=0\.0\.4/);
    const text = await res.text();
    for (const name of [
      'hotswap_rollouts_total{service="web",outcome="succeeded"} 1',
      'hotswap_rollout_duration_seconds_count{service="web",outcome="succeeded"} 1',
      'hotswap_rollout_steps_total{service="web"',
      'hotswap_instances{service="web",state="running"} 2',
      'hotswap_probes_total{type="http",result="pass"}',
      'hotswap_proxy_up 1',
      'hotswap_proxy_requests_total{service="web",revision="1",code="2xx"}',
      'hotswap_proxy_request_duration_seconds_bucket{service="web",revision="1",le="+Inf"}',
      'hotswap_proxy_backends{service="web",revision="1",state="active"} 2',
      'hotswap_proxy_retries_total{service="web"} 0',
    ]) {
      assert.ok(text.includes(name), `${name} in:\n${text.slice(0, 3000)}`);
    }
    const served = await waitFor(
      'Prometheus to scrape the proxy requests',
      () => promValue(prom!.url, 'sum(hotswap_proxy_requests_total{service="web",code="2xx"})'),
      20_000,
    );
    assert.ok(served >= 20, `Prometheus saw ${served} requests`);
  });

  test('a canary with 30% errors is rolled back by its analysis.prometheus check', async () => {
    let r!: CliResult;
    const steps =
      '[{ setWeight: 50 }, { analysis: { interval: 3s, count: 4 } }, { setWeight: 100 }]';
    const m = await underLoad(`http://127.0.0.1:${port}/`, RATE, async () => {
      r = await up(spec(port, prom!.url, { VERSION: 'canary-err', ERROR_PERCENT: 30 }, steps));
    });
    console.log('prometheus canary', JSON.stringify(m.all));
    assert.equal(r.code, 3, r.stderr + r.stdout);
    const s = JSON.parse((await hotswap(home, ['rollout', 'status', 'web', '--json'])).stdout) as {
      rollout: { status: string; reason: string | null };
      events: Array<{ event: string; data: { result: string; reasons: string[] } }>;
    };
    const verdicts = s.events.filter((e) => e.event === 'analysis.verdict').map((e) => e.data);
    console.log('verdicts', JSON.stringify(verdicts.map((v) => [v.result, v.reasons])));
    const failed = verdicts.at(-1)!;
    assert.equal(failed.result, 'fail');
    assert.ok(
      failed.reasons.some((x) =>
        /prometheus canary-error-rate: .* = 0\.\d+, above max 0\.05/.test(x),
      ),
      JSON.stringify(failed.reasons),
    );
    // The query Prometheus ran was scoped to the canary revision (2), not the placeholder.
    assert.ok(
      failed.reasons.some((x) => x.includes('revision="2"')),
      JSON.stringify(failed.reasons),
    );
    assert.equal(s.rollout.status, 'failed');
    assert.deepEqual(Object.keys(m.afterwards.versions), ['v1']);
    const text = await (await fetch(metricsUrl)).text();
    assert.match(text, /hotswap_rollouts_total\{service="web",outcome="failed"\} 1/);
    assert.match(text, /hotswap_rollbacks_total\{service="web",trigger="automatic"\} 1/);
    assert.match(text, /hotswap_analysis_verdicts_total\{service="web",result="fail"\} 1/);
    // Cardinality: once rolled back, revision 2 has neither a backend nor a weight: not rendered.
    assert.doesNotMatch(text, /hotswap_proxy_requests_total\{service="web",revision="2"/);
  });
  test('every query of docs/grafana-dashboard.json is valid PromQL on a real Prometheus', async () => {
    const json = readFileSync(join(REPO_ROOT, 'docs', 'grafana-dashboard.json'), 'utf8');
    const exprs = [...json.matchAll(/"expr": ("(?:[^"\\]|\\.)*")/g)].map(
      (m) => JSON.parse(m[1]!) as string,
    );
    assert.ok(exprs.length >= 15);
    const empty: string[] = [];
    for (const expr of exprs) {
      const q = expr
        .replaceAll('$service', 'web')
        .replaceAll('$__rate_interval', '10s')
        .replaceAll('$__range', '5m');
      const res = await fetch(`${prom!.url}/api/v1/query?query=${encodeURIComponent(q)}`);
      const body = (await res.json()) as {
        status: string;
        error?: string;
        data?: { result: unknown[] };
      };
      assert.equal(body.status, 'success', `${q}: ${body.error}`);
      if ((body.data?.result.length ?? 0) === 0) empty.push(q);
    }
    console.log(
      `dashboard: ${exprs.length} queries, ${empty.length} without data (no event of their kind yet)`,
      empty,
    );
  });
});
