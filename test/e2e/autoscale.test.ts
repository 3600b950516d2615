// Autoscale on the real engine (issue 16): a load step (10 → 160 req/s) makes a service with
// targetRps 40 scale out to its max, and back in to its min once the step ends, with 0 failed
// requests; every decision is in the journal.
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { LoadGenerator, summarize } from '../../src/assess/index.js';
import { ApiClient } from '../../src/cli/client.js';
import { homePaths } from '../../src/daemon/paths.js';
import { cleanupScope, ensureFixtures, requireEngine } from '../helpers/docker.js';
import { freePort, hotswap } from '../helpers/cli.js';
import { waitFor } from '../helpers/load.js';

function spec(port: number): string {
  return `services:
  web:
    image: hotswap-fixture:v1
    replicas: 1
    port: 8080
    listen: 127.0.0.1:${port}
    health: { http: /healthz, interval: 200ms, deadline: 15s }
    autoscale: { min: 1, max: 3, targetRps: 40, cooldown: 3s }
    drain: { timeout: 5s }
    stopGracePeriod: 2s
`;
}

interface Status {
  services: Array<{ replicas: number; instances: Array<{ serving: boolean }> }>;
}

describe('autoscale on the real engine', () => {
  const home = mkdtempSync(join(tmpdir(), 'hotswap-as-'));
  const file = join(mkdtempSync(join(tmpdir(), 'hotswap-as-spec-')), 'hotswap.yaml');
  let port = 0;
  const serving = async () =>
    (
      JSON.parse((await hotswap(home, ['status', '--json'])).stdout) as Status
    ).services[0]!.instances.filter((i) => i.serving).length;

  before(async () => {
    await requireEngine();
    await ensureFixtures();
    port = await freePort();
    writeFileSync(file, spec(port));
    const r = await hotswap(home, ['up', '-f', file]);
    assert.equal(r.code, 0, r.stderr + r.stdout);
  });

  after(async () => {
    await hotswap(home, ['down']);
    await cleanupScope(homePaths(home).scope);
  });

  test('a load step scales out to max and back in to min, 0 failed requests', async () => {
    const url = `http://127.0.0.1:${port}/`;
    const base = new LoadGenerator({
      url,
      ratePerSec: 10,
      connections: 'mixed',
      maxDurationMs: 90_000,
    });
    const step = new LoadGenerator({
      url,
      ratePerSec: 150,
      connections: 'mixed',
      maxDurationMs: 40_000,
    });
    base.start();
    step.start();
    const t0 = Date.now();
    let outMs: number;
    let inMs: number;
    try {
      await waitFor('scale-out to 3', async () => (await serving()) === 3, 30_000);
      outMs = Date.now() - t0;
      await new Promise((r) => setTimeout(r, 2000)); // the step goes on at 3 instances
    } finally {
      const stepSamples = await step.stop();
      const s = summarize(stepSamples);
      console.log('load step (150 req/s)', JSON.stringify({ sent: s.sent, failed: s.failed }));
      assert.equal(s.failed, 0, JSON.stringify(s.errors));
    }
    const t1 = Date.now();
    try {
      await waitFor('scale-in to 1', async () => (await serving()) === 1, 40_000);
      inMs = Date.now() - t1;
    } finally {
      const s = summarize(await base.stop());
      console.log('base load (10 req/s)', JSON.stringify({ sent: s.sent, failed: s.failed }));
      assert.equal(s.failed, 0, JSON.stringify(s.errors));
    }
    console.log(
      `scaled out to 3 in ${outMs} ms after the step began; back to 1 ${inMs} ms after it ended`,
    );

    const api = new ApiClient(homePaths(home));
    try {
      const { entries } = await api.json<{
        entries: Array<{ event: string; data: { from: number; to: number; reason: string } }>;
      }>('GET', '/v1/journal?service=web');
      const scales = entries.filter((e) => e.event === 'autoscale.scale').map((e) => e.data);
      for (const d of scales) console.log(`  autoscale ${d.from} → ${d.to}: ${d.reason}`);
      assert.ok(
        scales.some((d) => d.to > d.from),
        'a scale-out decision',
      );
      assert.ok(
        scales.some((d) => d.to < d.from),
        'a scale-in decision',
      );
      assert.ok(
        entries.some((e) => e.event === 'autoscale.hold'),
        'holds are journaled too',
      );
    } finally {
      await api.close();
    }
  });
});
