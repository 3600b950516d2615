// Issue 4 end to end: canary steps with a statistical judge, automatic rollback on injected
// errors and on added latency, abort by hand, and an instant rollback after promotion, all
// under a fixed-rate load through the proxy.
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { homePaths } from '../../src/daemon/paths.js';
import { cleanupScope, ensureFixtures, requireEngine } from '../helpers/docker.js';
import { freePort, getText, hotswap, type CliResult } from '../helpers/cli.js';
import { underLoad, waitFor } from '../helpers/load.js';

const RATE = 200;
// Every revision answers / this much slower than the bare app, so a 3× canary stands out of
// the scheduling noise of a busy 2-core machine.
const BASE_MS = 20;

function spec(
  port: number,
  image: string,
  env: Record<string, string | number>,
  steps: string,
): string {
  return `services:
  web:
    image: ${image}
    replicas: 3
    port: 8080
    listen: 127.0.0.1:${port}
    env: ${JSON.stringify(env)}
    health: { http: /healthz, interval: 200ms, healthyThreshold: 2, deadline: 15s }
    strategy:
      type: canary
      steps: ${steps}
    analysis:
      minRequests: 20
      errorRate: { max: 2% }
      latency: { maxP99Ratio: 1.5, minDelta: 3ms }
    keepPrevious: 5m
    drain: { timeout: 5s }
    stopGracePeriod: 5s
`;
}

interface History {
  rollouts: Array<{
    id: number;
    status: string;
    reason: string | null;
    toRevision: number;
    strategy: string;
  }>;
}

describe('canary with a statistical judge on the real engine', () => {
  const home = mkdtempSync(join(tmpdir(), 'hotswap-canary-'));
  const file = join(mkdtempSync(join(tmpdir(), 'hotswap-canary-spec-')), 'hotswap.yaml');
  let port = 0;
  let url = '';
  const up = (text: string): Promise<CliResult> => {
    writeFileSync(file, text);
    return hotswap(home, ['up', '-f', file]);
  };
  const history = async (): Promise<History> =>
    JSON.parse((await hotswap(home, ['history', 'web', '--json'])).stdout) as History;
  const verdicts = async (): Promise<Array<{ result: string; reasons: string[] }>> => {
    const s = JSON.parse((await hotswap(home, ['rollout', 'status', 'web', '--json'])).stdout) as {
      events: Array<{ event: string; data: { result: string; reasons: string[] } }>;
    };
    return s.events.filter((e) => e.event === 'analysis.verdict').map((e) => e.data);
  };

  before(async () => {
    await requireEngine();
    await ensureFixtures();
    port = await freePort();
    url = `http://127.0.0.1:${port}/`;
    const r = await up(
      spec(port, 'hotswap-fixture:v1', { LATENCY_MS: BASE_MS }, '[{ setWeight: 50 }]'),
    );
    assert.equal(r.code, 0, r.stderr + r.stdout);
    assert.equal((await getText(url)).version, 'v1');
  });

  after(async () => {
    await hotswap(home, ['down']);
    await cleanupScope(homePaths(home).scope);
  });

  test('a canary 10 → 50 → 100 whose analysis passes, with zero failed requests', async () => {
    let r!: CliResult;
    const steps =
      '[{ setWeight: 10 }, { analysis: { interval: 2s, count: 2 } }, { setWeight: 50 }, { analysis: { interval: 2s, count: 1 } }, { setWeight: 100 }]';
    const m = await underLoad(url, RATE, async () => {
      r = await up(spec(port, 'hotswap-fixture:v2', { LATENCY_MS: BASE_MS }, steps));
    });
    console.log('canary pass', JSON.stringify(m.during));
    assert.equal(r.code, 0, r.stderr + r.stdout);
    assert.equal(m.all.failed, 0, JSON.stringify(m.all.errors));
    assert.deepEqual(Object.keys(m.afterwards.versions), ['v2']);
    const v = await verdicts();
    assert.equal(v.length, 3);
    assert.ok(
      v.every((x) => x.result === 'pass'),
      JSON.stringify(v),
    );
  });

  test('a canary returning 5% errors is judged, rolled back, and its errors are the only failures', async () => {
    let r!: CliResult;
    const steps =
      '[{ setWeight: 20 }, { analysis: { interval: 3s, count: 3 } }, { setWeight: 100 }]';
    const m = await underLoad(url, RATE, async () => {
      r = await up(
        spec(
          port,
          'hotswap-fixture:v2',
          { LATENCY_MS: BASE_MS, ERROR_PERCENT: 5, VERSION: 'canary-err' },
          steps,
        ),
      );
    });
    console.log('canary errors', JSON.stringify(m.all));
    assert.equal(r.code, 3, r.stderr + r.stdout);
    const failed = m.samples.filter((s) => !s.ok);
    assert.ok(
      failed.length > 0,
      'the injected errors reached clients while the canary held its weight',
    );
    assert.ok(
      failed.every((s) => s.status === 500 && s.version === 'canary-err'),
      JSON.stringify(failed.slice(0, 3)),
    );
    assert.deepEqual(Object.keys(m.afterwards.versions), ['v2']);
    const last = (await history()).rollouts[0]!;
    assert.equal(last.status, 'failed');
    assert.match(last.reason ?? '', /error rate \d+(\.\d+)?% \(\d+\/\d+\) vs baseline/);
    const v = await verdicts();
    assert.equal(v.at(-1)?.result, 'fail');
  });

  test('a canary with 3× latency is rolled back by the latency test', async () => {
    let r!: CliResult;
    const steps =
      '[{ setWeight: 20 }, { analysis: { interval: 3s, count: 3 } }, { setWeight: 100 }]';
    const m = await underLoad(url, RATE, async () => {
      r = await up(
        spec(
          port,
          'hotswap-fixture:v2',
          { LATENCY_MS: 3 * BASE_MS, VERSION: 'canary-slow' },
          steps,
        ),
      );
    });
    assert.equal(r.code, 3, r.stderr + r.stdout);
    assert.equal(m.all.failed, 0, JSON.stringify(m.all.errors));
    const last = (await history()).rollouts[0]!;
    assert.match(last.reason ?? '', /latency/);
    assert.deepEqual(Object.keys(m.afterwards.versions), ['v2']);
  });

  test('abort sends all traffic back to stable at once', async () => {
    let r!: CliResult;
    const m = await underLoad(url, RATE, async () => {
      const running = up(
        spec(
          port,
          'hotswap-fixture:v2',
          { LATENCY_MS: BASE_MS, VERSION: 'canary-abort' },
          '[{ setWeight: 30 }, { pause: {} }]',
        ),
      );
      await waitFor(
        'the canary to take traffic',
        async () => (await getText(url + '?probe')).version === 'canary-abort' || null,
      );
      const a = await hotswap(home, ['abort', 'web']);
      assert.equal(a.code, 0, a.stderr);
      r = await running;
    });
    assert.equal(r.code, 3, r.stderr + r.stdout);
    assert.match(r.stderr, /aborted by user/);
    assert.equal(m.all.failed, 0, JSON.stringify(m.all.errors));
    assert.deepEqual(Object.keys(m.afterwards.versions), ['v2']);
  });

  test('instant rollback after promotion flips to the warm previous revision in under a second', async () => {
    let r!: CliResult;
    const m = await underLoad(url, RATE, async () => {
      r = await hotswap(home, ['rollback', 'web', '--json']);
    });
    assert.equal(r.code, 0, r.stderr + r.stdout);
    const result = JSON.parse(r.stdout.trim().split('\n').at(-1)!) as {
      type: string;
      result: { flipMs: number; revision: number };
    };
    console.log('instant rollback', JSON.stringify(result.result), 'command took', r.ms, 'ms');
    assert.equal(result.result.revision, 1);
    assert.ok(result.result.flipMs < 1000, `flip took ${result.result.flipMs} ms`);
    assert.equal(m.all.failed, 0, JSON.stringify(m.all.errors));
    // From the command's start, how long until every response came from v1?
    const lastV2 = Math.max(
      ...m.samples.filter((s) => s.version === 'v2').map((s) => s.at + s.latencyMs),
    );
    console.log(
      'last v2 response',
      Math.round(lastV2 - m.actionStart),
      'ms after the command started',
    );
    assert.deepEqual(Object.keys(m.afterwards.versions), ['v1']);
    assert.equal((await history()).rollouts[0]!.strategy, 'instant');
  });
});
