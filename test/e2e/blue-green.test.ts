// Blue-green end to end: the new group starts at full size beside the old one, answers on the
// preview listener while the main listener still serves the old revision, and takes all traffic
// at once on `hotswap promote`; the old group stays warm for scaleDownDelay, then goes.
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { homePaths } from '../../src/daemon/paths.js';
import { cleanupScope, ensureFixtures, requireEngine } from '../helpers/docker.js';
import { freePort, getText, hotswap, type CliResult } from '../helpers/cli.js';
import { underLoad, waitFor } from '../helpers/load.js';

function spec(port: number, preview: number, image: string): string {
  return `services:
  shop:
    image: ${image}
    replicas: 2
    port: 8080
    listen: 127.0.0.1:${port}
    health: { http: /healthz, interval: 200ms, healthyThreshold: 2, deadline: 15s }
    strategy:
      type: blue-green
      previewListen: 127.0.0.1:${preview}
      scaleDownDelay: 2s
    drain: { timeout: 5s }
    stopGracePeriod: 5s
`;
}

interface Status {
  services: Array<{ instances: Array<{ revision: number; serving: boolean }> }>;
}

describe('blue-green on the real engine', () => {
  const home = mkdtempSync(join(tmpdir(), 'hotswap-bg-'));
  const file = join(mkdtempSync(join(tmpdir(), 'hotswap-bg-spec-')), 'hotswap.yaml');
  let port = 0;
  let preview = 0;

  before(async () => {
    await requireEngine();
    await ensureFixtures();
    port = await freePort();
    preview = await freePort();
    writeFileSync(file, spec(port, preview, 'hotswap-fixture:v1'));
    const r = await hotswap(home, ['up', '-f', file]);
    assert.equal(r.code, 0, r.stderr + r.stdout);
  });

  after(async () => {
    await hotswap(home, ['down']);
    await cleanupScope(homePaths(home).scope);
  });

  test('preview, then promote: zero failed requests, old group removed after scaleDownDelay', async () => {
    const url = `http://127.0.0.1:${port}/`;
    let r!: CliResult;
    const m = await underLoad(url, 200, async () => {
      writeFileSync(file, spec(port, preview, 'hotswap-fixture:v2'));
      const running = hotswap(home, ['up', '-f', file]);
      await waitFor(
        'the preview listener',
        async () => (await getText(`http://127.0.0.1:${preview}/`)).version === 'v2' || null,
      );
      // While previewed, the main listener still serves only v1.
      for (let i = 0; i < 20; i++) assert.equal((await getText(url)).version, 'v1');
      const p = await hotswap(home, ['promote', 'shop']);
      assert.equal(p.code, 0, p.stderr);
      r = await running;
    });
    console.log('blue-green', JSON.stringify(m.during));
    assert.equal(r.code, 0, r.stderr + r.stdout);
    assert.equal(m.all.failed, 0, JSON.stringify(m.all.errors));
    assert.deepEqual(Object.keys(m.afterwards.versions), ['v2']);
    await assert.rejects(
      getText(`http://127.0.0.1:${preview}/`),
      'the preview listener closes at promotion',
    );
    await waitFor(
      'the old group to be removed after scaleDownDelay',
      async () => {
        const s = JSON.parse((await hotswap(home, ['status', '--json'])).stdout) as Status;
        const revs = s.services[0]!.instances.map((i) => i.revision);
        return revs.length === 2 && revs.every((x) => x === 2);
      },
      15_000,
    );
  });
});
