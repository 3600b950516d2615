// Exec and docker health probes on the real engine (issue 16). The fixture image is FROM scratch
// with the host's node: the exec probe is exec form, running the image's /app/health.js, which is
// also the image's own HEALTHCHECK (so `docker: true` has a status to read).
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { homePaths } from '../../src/daemon/paths.js';
import { cleanupScope, ensureFixtures, requireEngine } from '../helpers/docker.js';
import { freePort, getText, hotswap } from '../helpers/cli.js';
import { waitFor } from '../helpers/load.js';

const EXEC = '["/usr/local/bin/node", "/app/health.js"]';

function spec(port: number, dockerPort: number, dockerImage: string): string {
  return `services:
  ex:
    image: hotswap-fixture:v1
    replicas: 2
    port: 8080
    listen: 127.0.0.1:${port}
    health:
      exec: ${EXEC}
      interval: 300ms
      timeout: 3s
      healthyThreshold: 2
      unhealthyThreshold: 2
      startup: { deadline: 20s, interval: 200ms }
    stopGracePeriod: 2s
  dk:
    image: ${dockerImage}
    port: 8080
    listen: 127.0.0.1:${dockerPort}
    health: { docker: true, interval: 300ms, deadline: 12s }
    stopGracePeriod: 2s
`;
}

interface Status {
  services: Array<{
    name: string;
    instances: Array<{ id: string; address: string | null; serving: boolean }>;
  }>;
}

/** A service that listens only after 4 s, with a readiness deadline of 2 s. */
function slowSpec(port: number, startupDeadline: string): string {
  return `services:
  slow:
    image: hotswap-fixture:v1
    port: 8080
    listen: 127.0.0.1:${port}
    env: { STARTUP_DELAY_MS: 4000 }
    health:
      http: /healthz
      interval: 200ms
      deadline: 2s
      startup: { deadline: ${startupDeadline} }
    stopGracePeriod: 1s
`;
}

describe('exec and docker probes on the real engine', () => {
  const home = mkdtempSync(join(tmpdir(), 'hotswap-probes-'));
  const file = join(mkdtempSync(join(tmpdir(), 'hotswap-probes-spec-')), 'hotswap.yaml');
  let port = 0;
  let dockerPort = 0;
  const status = async (): Promise<Status> =>
    JSON.parse((await hotswap(home, ['status', '--json'])).stdout) as Status;

  before(async () => {
    await requireEngine();
    await ensureFixtures();
    port = await freePort();
    dockerPort = await freePort();
  });

  after(async () => {
    await hotswap(home, ['down']);
    await cleanupScope(homePaths(home).scope);
  });

  test('exec and docker probes gate readiness; a failing exec probe ejects after its threshold', async () => {
    writeFileSync(file, spec(port, dockerPort, 'hotswap-fixture:v1'));
    const up = await hotswap(home, ['up', '-f', file]);
    assert.equal(up.code, 0, up.stderr + up.stdout);
    assert.equal((await getText(`http://127.0.0.1:${port}/`)).version, 'v1');
    assert.equal((await getText(`http://127.0.0.1:${dockerPort}/`)).version, 'v1');

    // Make one instance's /healthz fail: only the exec probe (run inside it) can notice.
    const ex = (await status()).services.find((s) => s.name === 'ex')!;
    const victim = ex.instances[0]!;
    await getText(`http://${victim.address}/admin/health?ok=0`);
    await waitFor(
      'the exec probe to eject the instance',
      async () =>
        (await status()).services
          .find((s) => s.name === 'ex')!
          .instances.find((i) => i.id === victim.id)?.serving === false,
      15_000,
    );
    await getText(`http://${victim.address}/admin/health?ok=1`);
    await waitFor(
      'the exec probe to bring it back',
      async () =>
        (await status()).services
          .find((s) => s.name === 'ex')!
          .instances.find((i) => i.id === victim.id)?.serving === true,
      15_000,
    );
  });

  test("docker: true fails a rollout on the image's own unhealthy status, and v1 keeps serving", async () => {
    writeFileSync(file, spec(port, dockerPort, 'hotswap-fixture:bad'));
    const up = await hotswap(home, ['up', '-f', file, 'dk']);
    console.log('docker probe refusal:', (up.stdout + up.stderr).trim().split('\n').slice(-3));
    assert.notEqual(up.code, 0);
    assert.match(up.stdout + up.stderr, /docker health: (unhealthy|starting)/);
    assert.equal((await getText(`http://127.0.0.1:${dockerPort}/`)).version, 'v1');
  });

  test('a startup phase has its own deadline: a 4 s start passes with 2 s readiness', async () => {
    const slowFile = join(mkdtempSync(join(tmpdir(), 'hotswap-probes-slow-')), 'hotswap.yaml');
    const slowPort = await freePort();
    writeFileSync(slowFile, slowSpec(slowPort, '1s'));
    const short = await hotswap(home, ['up', '-f', slowFile]);
    assert.notEqual(short.code, 0);
    assert.match(short.stdout + short.stderr, /did not start \(startup phase\) within 1000 ms/);
    writeFileSync(slowFile, slowSpec(slowPort, '20s'));
    const long = await hotswap(home, ['up', '-f', slowFile]);
    assert.equal(long.code, 0, long.stdout + long.stderr);
    assert.equal((await getText(`http://127.0.0.1:${slowPort}/`)).version, 'v1');
  });
});
