// End to end (issue 15, items 1 and 5) on the real engine: the watch after promotion ends as
// passed for a healthy revision; a revision that errs once promoted (its rollout has no analysis
// of its own, so it promotes) is rolled back by the watch with an instant flip, and the only
// failed requests are the bad revision's own 500s; a watch survives a SIGKILL of the daemon;
// `hotswap daemon logs --json` lines parse and carry service, rollout and revision.
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { homePaths } from '../../src/daemon/paths.js';
import type { LogRecord } from '../../src/logging/index.js';
import type { ImpactReport } from '../../src/report/index.js';
import { freePort, getText, hotswap, startDaemon, type CliResult } from '../helpers/cli.js';
import { cleanupScope, ensureFixtures, requireEngine } from '../helpers/docker.js';
import { underLoad, waitFor } from '../helpers/load.js';

const RATE = 50;
const WINDOW = '6s';

function spec(port: number, env: Record<string, string | number>, window = WINDOW): string {
  return `services:
  web:
    image: hotswap-fixture:v2
    replicas: 2
    port: 8080
    listen: 127.0.0.1:${port}
    env: ${JSON.stringify(env)}
    health: { http: /healthz, interval: 300ms, timeout: 3s, healthyThreshold: 2, deadline: 20s }
    strategy:
      type: rolling
      maxSurge: 1
      maxUnavailable: 0
      postPromotion: { window: ${window}, analysis: { interval: 2s } }
    analysis: { minRequests: 20, errorRate: { max: 2% }, latency: null }
    keepPrevious: 5m
    drain: { timeout: 3s }
    stopGracePeriod: 3s
`;
}

interface History {
  rollouts: Array<{ id: number; kind: string; status: string; toRevision: number }>;
}

describe('watch after promotion and daemon logs on the real engine', () => {
  const home = mkdtempSync(join(tmpdir(), 'hotswap-watch-'));
  const file = join(mkdtempSync(join(tmpdir(), 'hotswap-watch-spec-')), 'hotswap.yaml');
  let url = '';
  let port = 0;
  const up = (env: Record<string, string | number>, window?: string): Promise<CliResult> => {
    writeFileSync(file, spec(port, env, window));
    return hotswap(home, ['up', '-f', file]);
  };
  const history = async (): Promise<History> =>
    JSON.parse((await hotswap(home, ['history', 'web', '--json'])).stdout) as History;
  const report = async (id: number): Promise<ImpactReport> => {
    const r = await hotswap(home, ['report', 'web', '--rollout', String(id), '--json']);
    assert.equal(r.code, 0, r.stderr);
    return JSON.parse(r.stdout) as ImpactReport;
  };
  /** The latest update rollout, once its watch has ended as `status`. */
  const watchEnded = async (id: number, status: string[]): Promise<ImpactReport> =>
    waitFor(
      `the watch of rollout #${id} to end`,
      async () => {
        const r = await report(id);
        return r.watch && status.includes(r.watch.status) ? r : null;
      },
      40_000,
    );
  const latestUpdate = async (): Promise<number> =>
    (await history()).rollouts.find((r) => r.kind === 'update')!.id;

  before(async () => {
    await requireEngine();
    await ensureFixtures();
    port = await freePort();
    url = `http://127.0.0.1:${port}/`;
    const r = await up({ VERSION: 'a' });
    assert.equal(r.code, 0, r.stderr + r.stdout);
    assert.equal((await getText(url)).version, 'a');
  });

  after(async () => {
    await hotswap(home, ['down']);
    await cleanupScope(homePaths(home).scope);
  });

  test('a healthy revision is watched for the window and the watch passes', async () => {
    let r!: CliResult;
    let watched!: ImpactReport;
    const m = await underLoad(url, RATE, async () => {
      await new Promise((res) => setTimeout(res, 3000)); // the baseline's traffic
      r = await up({ VERSION: 'b' });
      watched = await watchEnded(await latestUpdate(), ['passed', 'inconclusive', 'rolled back']);
    });
    assert.equal(r.code, 0, r.stderr + r.stdout);
    const w = watched.watch!;
    console.log('watch passed:', JSON.stringify({ ...w, verdicts: w.verdicts.length }));
    assert.equal(w.status, 'passed');
    assert.equal(w.verdicts.length, 3);
    assert.ok(
      w.verdicts.every((v) => v.result === 'pass'),
      JSON.stringify(w.verdicts),
    );
    assert.ok(w.baseline!.requests >= 20, JSON.stringify(w.baseline));
    assert.equal(m.all.failed, 0, JSON.stringify(m.all.errors));
    assert.deepEqual(Object.keys(m.afterwards.versions), ['b']);
  });

  test('a revision that errs after promotion is rolled back by the watch, instantly', async () => {
    let r!: CliResult;
    let watched!: ImpactReport;
    const m = await underLoad(url, RATE, async () => {
      await new Promise((res) => setTimeout(res, 2000));
      r = await up({ VERSION: 'bad', ERROR_PERCENT: 10 });
      watched = await watchEnded(await latestUpdate(), ['rolled back', 'passed', 'inconclusive']);
      await waitFor('v b to serve again', async () => (await getText(url)).version === 'b');
    });
    assert.equal(r.code, 0, 'the rollout itself has no analysis: it promotes');
    const w = watched.watch!;
    console.log(
      'watch breach:',
      JSON.stringify({ breach: w.breach, rollback: w.rollback, verdicts: w.verdicts }),
    );
    console.log('load:', JSON.stringify(m.all));
    assert.equal(w.status, 'rolled back');
    assert.match(w.breach!.reason, /error rate/);
    assert.equal(w.verdicts.at(-1)?.result, 'fail');
    assert.ok(w.verdicts.at(-1)?.metrics, 'the verdict carries its numbers');
    assert.equal(w.rollback!.outcome, 'succeeded');
    assert.equal(w.rollback!.instant, true, 'keepPrevious covers the window: a flip');
    const failed = m.samples.filter((s) => !s.ok);
    assert.ok(failed.length > 0, 'the bad revision served errors before the watch caught it');
    assert.ok(
      failed.every((s) => s.status === 500 && s.version === 'bad'),
      JSON.stringify(failed.filter((s) => !(s.status === 500 && s.version === 'bad')).slice(0, 3)),
    );
    assert.deepEqual(Object.keys(m.afterwards.versions), ['b']);
    const rollouts = (await history()).rollouts;
    const own = rollouts.find((x) => x.id === watched.rollout.id)!;
    assert.equal(own.status, 'rolled-back', 'history shows the watched rollout undone');
    assert.equal(rollouts[0]!.kind, 'rollback');
    const text = await hotswap(home, ['report', 'web', '--rollout', String(watched.rollout.id)]);
    assert.match(
      text.stdout,
      /watch after promotion: r\d+ for 6\.0s .* breached .* rolled back to r\d+/,
    );
  });

  test('a watch survives a SIGKILL of the daemon and goes on judging after the restart', async () => {
    let id = 0;
    let restartedAt = 0;
    let watched!: ImpactReport;
    const m = await underLoad(url, RATE, async () => {
      await new Promise((res) => setTimeout(res, 2000));
      // A longer window: the new daemon (a few seconds to start here) finds time left.
      const r = await up({ VERSION: 'c' }, '16s');
      assert.equal(r.code, 0, r.stderr + r.stdout);
      id = await latestUpdate();
      await waitFor(
        'a first watch verdict',
        async () => (await report(id)).watch!.verdicts.length > 0,
      );
      const pid = Number(readFileSync(homePaths(home).daemonPid, 'utf8'));
      process.kill(pid, 'SIGKILL');
      await startDaemon(home);
      restartedAt = Date.now();
      watched = await watchEnded(id, ['passed', 'inconclusive', 'rolled back']);
    });
    const w = watched.watch!;
    const startMs = Date.parse(watched.window.startedAt);
    const after = w.verdicts.filter((v) => startMs + v.tMs > restartedAt);
    console.log(
      'watch across a restart:',
      JSON.stringify({
        status: w.status,
        verdicts: w.verdicts.map((v) => v.result),
        afterRestart: after.length,
      }),
    );
    assert.equal(w.status, 'passed');
    assert.ok(w.verdicts.length > after.length, 'judged before the restart');
    assert.ok(after.length >= 1, 'and after it, for the time left');
    assert.ok(
      w.verdicts.every((v) => v.result === 'pass'),
      JSON.stringify(w.verdicts),
    );
    assert.equal(m.all.failed, 0, JSON.stringify(m.all.errors));
  });

  test('daemon logs --json: every line parses, with service, rollout and revision', async () => {
    const r = await hotswap(home, ['daemon', 'logs', '--json', '-n', '100000']);
    assert.equal(r.code, 0, r.stderr);
    const lines = r.stdout.trim().split('\n');
    const records = lines.map((l) => JSON.parse(l) as LogRecord);
    const components = new Set(records.map((x) => x.component));
    assert.ok(components.has('daemon') && components.has('proxy'), [...components].join());
    const timed = records.filter((x) => x.time !== undefined);
    assert.ok(timed.length > 20);
    const rollout = records.filter(
      (x) => x.service === 'web' && typeof x.rollout === 'number' && typeof x.revision === 'number',
    );
    assert.ok(rollout.length > 10, `${rollout.length} rollout lines`);
    const breach = records.find((x) => x.event === 'watch.failed');
    assert.ok(breach, 'the breach is logged');
    assert.equal(breach.level, 'warn');
    assert.equal(breach.service, 'web');
    const proxyLine = records.find((x) => x.component === 'proxy' && x.service === 'web');
    assert.ok(proxyLine, 'the proxy logs with the service too');

    const only = await hotswap(home, ['daemon', 'logs', '--json', '--service', 'web', '-n', '5']);
    const five = only.stdout
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as LogRecord);
    assert.equal(five.length, 5);
    assert.ok(five.every((x) => x.service === 'web'));
    const plain = await hotswap(home, ['daemon', 'logs', '-n', '3', '--since', '1h']);
    assert.equal(plain.stdout.trim().split('\n').length, 3);
    assert.match(plain.stdout, /^\S+Z (daemon|proxy) /m);
  });
});
