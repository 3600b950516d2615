// `strategy: recreate` with `checkpoint: true` on a host where docker checkpoint cannot work
// (issue 16): the daemon found out at start, and `up` is refused with the reason, before any
// container or revision exists. On this project's machines CRIU 3.17 fails on the kernel's vDSO
// and the engine runs without experimental features.
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { homePaths } from '../../src/daemon/paths.js';
import { detectCheckpointSupport, DockerClient } from '../../src/runtime/index.js';
import { cleanupScope, ensureFixtures, requireEngine } from '../helpers/docker.js';
import { freePort, hotswap } from '../helpers/cli.js';

describe('checkpoint on a host without CRIU support', () => {
  const home = mkdtempSync(join(tmpdir(), 'hotswap-ckpt-'));
  const file = join(mkdtempSync(join(tmpdir(), 'hotswap-ckpt-spec-')), 'hotswap.yaml');

  before(async () => {
    await requireEngine();
    await ensureFixtures();
    writeFileSync(
      file,
      `services:
  web:
    image: hotswap-fixture:v1
    port: 8080
    listen: 127.0.0.1:${await freePort()}
    strategy: { type: recreate, checkpoint: true }
`,
    );
  });

  after(async () => {
    await hotswap(home, ['down']);
    await cleanupScope(homePaths(home).scope);
  });

  test('up is refused with the reason, and nothing is created', async () => {
    const { socketPath } = await requireEngine();
    const client = new DockerClient({ socketPath });
    const here = await detectCheckpointSupport(client).finally(() => client.close());
    assert.equal(here.supported, false, `this test needs a host without checkpoint support`);

    const r = await hotswap(home, ['up', '-f', file]);
    console.log('refusal:', r.stderr.trim());
    assert.equal(r.code, 2, r.stdout + r.stderr);
    assert.ok(
      r.stderr.includes(
        'hotswap: UNSUPPORTED: web: strategy recreate with checkpoint: true needs docker checkpoint, which this host does not support: ',
      ),
      r.stderr,
    );
    assert.ok(r.stderr.includes(here.reason), 'the reason found at daemon start');
    assert.match(here.reason, /experimental|criu/);
    const status = await hotswap(home, ['status', '--json']);
    assert.deepEqual((JSON.parse(status.stdout) as { services: unknown[] }).services, []);
  });
});
