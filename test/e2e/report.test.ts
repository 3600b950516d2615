// End to end (issue 15): `hotswap assess` updates a service under an open-loop load on the real
// engine and passes the gate; the impact report of that rollout has the windows before, during
// and after per revision, CPU and memory per instance from Docker stats, steps and weights; its
// HTML page draws every chart with data in Debian's Chromium (the screenshot path is printed);
// an assess to a never-healthy image exits 3.
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { homePaths } from '../../src/daemon/paths.js';
import type { ImpactReport } from '../../src/report/index.js';
import { checkReportPage, haveChromium } from '../helpers/browser.js';
import { freePort, hotswap } from '../helpers/cli.js';
import { cleanupScope, ensureFixtures, requireEngine } from '../helpers/docker.js';
import { waitFor } from '../helpers/load.js';

function specText(port: number): string {
  return `services:
  web:
    image: hotswap-fixture:v1
    replicas: 2
    port: 8080
    listen: 127.0.0.1:${port}
    health: { http: /healthz, interval: 200ms, timeout: 1s, healthyThreshold: 2, deadline: 6s }
    strategy: { type: rolling, maxSurge: 1, maxUnavailable: 0 }
    drain: { timeout: 3s }
    stopGracePeriod: 3s
`;
}

describe('impact report and assess on the real engine', () => {
  const home = mkdtempSync(join(tmpdir(), 'hotswap-e2e-report-'));
  const dir = mkdtempSync(join(tmpdir(), 'hotswap-e2e-report-out-'));
  const specFile = join(dir, 'hotswap.yaml');
  const saved = {
    before: process.env['HOTSWAP_REPORT_BEFORE'],
    after: process.env['HOTSWAP_REPORT_AFTER'],
  };

  before(async () => {
    await requireEngine();
    await ensureFixtures();
    // The daemon the CLI starts inherits these: short windows keep the test short.
    process.env['HOTSWAP_REPORT_BEFORE'] = '10s';
    process.env['HOTSWAP_REPORT_AFTER'] = '5s'; // CPU % of a new instance needs two readings
    writeFileSync(specFile, specText(await freePort()));
    const up = await hotswap(home, ['up', '-f', specFile]);
    assert.equal(up.code, 0, up.stderr + up.stdout);
  });

  after(async () => {
    await hotswap(home, ['down']);
    await cleanupScope(homePaths(home).scope);
    for (const [k, v] of [
      ['HOTSWAP_REPORT_BEFORE', saved.before],
      ['HOTSWAP_REPORT_AFTER', saved.after],
    ] as const) {
      if (v === undefined) delete process.env[k];
      else process.env[k] = v;
    }
  });

  test('assess v1 → v2 at 100 req/s passes; the report has every part; the page renders', async () => {
    const html = join(dir, 'assess.html');
    const r = await hotswap(home, [
      'assess',
      '-f',
      specFile,
      '--to',
      'hotswap-fixture:v2',
      '--rate',
      '100/s',
      '--duration',
      '8s',
      '--keep-alive-share',
      '50%',
      '--max-failed',
      '0',
      '--max-p99-increase',
      '2000%',
      '--html',
      html,
    ]);
    console.log(r.stdout);
    assert.equal(r.code, 0, r.stderr + r.stdout);
    assert.match(r.stdout, /PASS; report: /);
    assert.ok(existsSync(html));

    const report = await waitFor(
      'the after window to end',
      async () => {
        const j = await hotswap(home, ['report', 'web', '--json']);
        const rep = JSON.parse(j.stdout) as ImpactReport;
        return rep.complete ? rep : null;
      },
      20_000,
    );
    assert.equal(report.rollout.status, 'succeeded');
    assert.ok(report.durationMs! > 0);
    assert.equal(report.rollback, null);
    const phases = report.phases.map((p) => `${p.phase}:r${p.revision}`);
    for (const want of ['before:r1', 'during:r1', 'during:r2', 'after:r2'])
      assert.ok(phases.includes(want), `${want} missing from ${phases.join(', ')}`);
    for (const p of report.phases) {
      assert.equal(p.failed, 0, `${p.phase} r${p.revision} had failures`);
      assert.ok(p.p50! > 0 && p.p99! >= p.p50!);
    }
    assert.ok(report.steps.length >= 4, 'rolling 2 replicas: start, stop, start, stop');
    assert.ok(report.weights.length >= 2);
    const cpu = Object.values(report.charts.cpuPct.lines)
      .flat()
      .filter((x) => x !== null);
    const mem = Object.values(report.charts.memoryMb.lines)
      .flat()
      .filter((x) => x !== null);
    assert.ok(cpu.length > 0 && mem.length > 0 && mem.every((m) => m > 1), 'Docker stats sampled');

    if (!haveChromium()) return;
    const page = join(dir, 'report.html');
    const rep = await hotswap(home, ['report', 'web', '--html', page]);
    assert.equal(rep.code, 0, rep.stderr);
    assert.match(rep.stdout, /during\s+r2/);
    const shot = join(dir, 'report.png');
    const check = await checkReportPage(page, shot);
    console.log(`report screenshot: ${shot}`);
    assert.deepEqual(check.network, []);
    assert.deepEqual(check.consoleErrors, []);
    assert.deepEqual(check.empty, []);
    for (const c of check.charts)
      assert.ok(c.inked > 200, `${c.chart} drew only ${c.inked} pixels`);
  });

  test('assess to a never-healthy image exits 3 and the old revision keeps serving', async () => {
    const r = await hotswap(home, [
      'assess',
      '-f',
      specFile,
      '--to',
      'hotswap-fixture:bad',
      '--rate',
      '50/s',
      '--duration',
      '3s',
      '--html',
      join(dir, 'bad.html'),
    ]);
    assert.equal(r.code, 3, r.stderr + r.stdout);
    assert.match(r.stdout, /update: failed/);
    assert.match(r.stderr, /ROLLOUT_FAILED/);
    const j = await hotswap(home, ['report', 'web', '--json']);
    const report = JSON.parse(j.stdout) as ImpactReport;
    assert.equal(report.rollout.status, 'failed');
    assert.ok(report.rollback, 'the report shows the rollback');
    assert.ok(report.rollback.tookMs !== null && report.rollback.tookMs >= 0);
    assert.ok(report.rollback.detectedAfterMs > 0);
  });
});
