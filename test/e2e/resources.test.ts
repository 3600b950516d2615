// Live resources on the real engine (issue 16): a change of `resources` only is applied to the
// running containers with the Engine's update call — the same containers, no restart, no new
// revision — under 200 req/s with 0 failed requests; lowering memory below what an instance uses
// is refused with the figures, and nothing changes.
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { homePaths } from '../../src/daemon/paths.js';
import { DockerClient } from '../../src/runtime/index.js';
import { cleanupScope, ensureFixtures, requireEngine } from '../helpers/docker.js';
import { freePort, hotswap } from '../helpers/cli.js';
import { underLoad } from '../helpers/load.js';

const MB = 1024 * 1024;

function spec(port: number, resources: string): string {
  return `services:
  web:
    image: hotswap-fixture:v1
    replicas: 2
    port: 8080
    listen: 127.0.0.1:${port}
    health: { http: /healthz, interval: 200ms, deadline: 15s }
    resources: ${resources}
    stopGracePeriod: 2s
`;
}

interface Status {
  services: Array<{ stableRevision: number; instances: Array<{ id: string; serving: boolean }> }>;
}

describe('live resources on the real engine', () => {
  const home = mkdtempSync(join(tmpdir(), 'hotswap-res-'));
  const file = join(mkdtempSync(join(tmpdir(), 'hotswap-res-spec-')), 'hotswap.yaml');
  let port = 0;
  let client: DockerClient;
  const status = async (): Promise<Status['services'][0]> =>
    (JSON.parse((await hotswap(home, ['status', '--json'])).stdout) as Status).services[0]!;
  const limits = async (ids: string[]) =>
    Promise.all(
      ids.map(async (id) => {
        const h = (await client.containers.inspect(id)).HostConfig;
        return { cpus: (h.NanoCpus ?? 0) / 1e9, memory: h.Memory, pids: h.PidsLimit || null };
      }),
    );

  before(async () => {
    const engine = await requireEngine();
    await ensureFixtures();
    client = new DockerClient({ socketPath: engine.socketPath });
    port = await freePort();
    writeFileSync(file, spec(port, `{ cpus: 0.5, memory: 128m }`));
    const r = await hotswap(home, ['up', '-f', file]);
    assert.equal(r.code, 0, r.stderr + r.stdout);
  });

  after(async () => {
    await hotswap(home, ['down']);
    await cleanupScope(homePaths(home).scope);
    await client.close();
  });

  test('resize under 200 req/s: same containers, same revision, new limits, 0 failed', async () => {
    const before = await status();
    const ids = before.instances.map((i) => i.id).sort();
    assert.deepEqual(await limits(ids), [
      { cpus: 0.5, memory: 128 * MB, pids: null },
      { cpus: 0.5, memory: 128 * MB, pids: null },
    ]);
    let out = '';
    const m = await underLoad(`http://127.0.0.1:${port}/`, 200, async () => {
      writeFileSync(file, spec(port, `{ cpus: 1, memory: 192m, pids: 100 }`));
      const r = await hotswap(home, ['up', '-f', file]);
      out = r.stdout + r.stderr;
      assert.equal(r.code, 0, out);
    });
    console.log(
      'resize under load',
      JSON.stringify({ sent: m.all.sent, failed: m.all.failed }),
      out.trim(),
    );
    assert.equal(m.all.failed, 0, JSON.stringify(m.all.errors));
    const after = await status();
    assert.deepEqual(after.instances.map((i) => i.id).sort(), ids, 'the same containers');
    assert.equal(after.stableRevision, before.stableRevision, 'no new revision');
    assert.deepEqual(await limits(ids), [
      { cpus: 1, memory: 192 * MB, pids: 100 },
      { cpus: 1, memory: 192 * MB, pids: 100 },
    ]);
  });

  test('memory below what an instance uses now is refused with the figures; nothing changes', async () => {
    const ids = (await status()).instances.map((i) => i.id).sort();
    writeFileSync(file, spec(port, `{ cpus: 1, memory: 8m, pids: 100 }`));
    const r = await hotswap(home, ['up', '-f', file]);
    const out = r.stdout + r.stderr;
    console.log('refusal:', out.trim());
    assert.notEqual(r.code, 0);
    assert.match(out, /cannot lower the memory of web to 8\.0 MB: [0-9a-f]{12} uses \d+\.\d MB/);
    assert.deepEqual(await limits(ids), [
      { cpus: 1, memory: 192 * MB, pids: 100 },
      { cpus: 1, memory: 192 * MB, pids: 100 },
    ]);
  });
});
