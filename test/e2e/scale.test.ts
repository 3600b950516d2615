// Scaling on the real engine (issue 16): `hotswap scale` down and up under 200 req/s on a canary
// service (whose scale-down used to do nothing), with 0 failed requests.
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { homePaths } from '../../src/daemon/paths.js';
import { cleanupScope, ensureFixtures, requireEngine } from '../helpers/docker.js';
import { freePort, hotswap } from '../helpers/cli.js';
import { underLoad } from '../helpers/load.js';

function spec(port: number): string {
  return `services:
  web:
    image: hotswap-fixture:v1
    replicas: 3
    port: 8080
    listen: 127.0.0.1:${port}
    health: { http: /healthz, interval: 200ms, deadline: 15s }
    strategy:
      type: canary
      steps: [{ setWeight: 50 }, { pause: {} }]
    drain: { timeout: 5s }
    stopGracePeriod: 2s
`;
}

interface Status {
  services: Array<{ replicas: number; instances: Array<{ id: string; serving: boolean }> }>;
}

describe('hotswap scale on the real engine', () => {
  const home = mkdtempSync(join(tmpdir(), 'hotswap-scale-'));
  const file = join(mkdtempSync(join(tmpdir(), 'hotswap-scale-spec-')), 'hotswap.yaml');
  let port = 0;
  const status = async () =>
    (JSON.parse((await hotswap(home, ['status', '--json'])).stdout) as Status).services[0]!;

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

  test('canary service: scale 3 → 1 → 3 under 200 req/s, 0 failed', async () => {
    const m = await underLoad(`http://127.0.0.1:${port}/`, 200, async () => {
      const down = await hotswap(home, ['scale', 'web', '1']);
      assert.equal(down.code, 0, down.stderr + down.stdout);
      const s = await status();
      assert.equal(s.replicas, 1);
      assert.equal(s.instances.length, 1, 'the extra instances are gone');
      const up = await hotswap(home, ['scale', 'web', '3']);
      assert.equal(up.code, 0, up.stderr + up.stdout);
    });
    console.log('scale 3 → 1 → 3', JSON.stringify({ sent: m.all.sent, failed: m.all.failed }));
    assert.equal(m.all.failed, 0, JSON.stringify(m.all.errors));
    const s = await status();
    assert.equal(s.instances.filter((i) => i.serving).length, 3);
  });
});
