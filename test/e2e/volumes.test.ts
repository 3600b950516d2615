// End to end, issue 16 item 3: volumes across revisions on the real engine. A named volume is the
// service's data: v1 writes to it, v2 (a new revision, rolled under load with 0 failed requests)
// reads what v1 wrote. An image's anonymous volume (VOLUME in its Dockerfile) is the instance's
// scratch space: each instance gets a fresh one, and it is removed with the instance.
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { homePaths } from '../../src/daemon/paths.js';
import { DockerClient, packTar } from '../../src/runtime/index.js';
import { cleanupScope, ensureFixtures, requireEngine } from '../helpers/docker.js';
import { freePort, hotswap } from '../helpers/cli.js';
import { underLoad } from '../helpers/load.js';

const NODE = '/usr/local/bin/node';

describe('volumes across revisions', () => {
  const home = mkdtempSync(join(tmpdir(), 'hotswap-volumes-'));
  const dir = mkdtempSync(join(tmpdir(), 'hotswap-volumes-spec-'));
  const specFile = join(dir, 'hotswap.yaml');
  const scope = homePaths(home).scope;
  const volume = `hotswap-test-${scope}-data`;
  const anonImage = `hotswap-fixture:anon-${scope}`;
  let client: DockerClient;
  let port = 0;

  const writeSpec = (service: string, body: string): void =>
    writeFileSync(
      specFile,
      `services:
  ${service}:
    port: 8080
    listen: 127.0.0.1:${port}
    health: { http: /healthz, interval: 200ms, deadline: 15s }
    strategy: { type: rolling, maxSurge: 1, maxUnavailable: 0 }
    drain: { timeout: 1s }
    stopGracePeriod: 2s
${body}`,
    );

  const running = async (service: string) => {
    const list = await client.containers.list({
      labels: { 'hotswap.scope': scope, 'hotswap.service': service },
    });
    return list.filter((c) => c.State === 'running');
  };
  const only = async (service: string): Promise<string> => {
    const list = await running(service);
    assert.equal(list.length, 1, `one running instance of ${service}`);
    return list[0]!.Id;
  };
  const node = async (id: string, script: string): Promise<string> => {
    const r = await client.exec.run(id, [NODE, '-e', script], { timeoutMs: 10_000 });
    assert.equal(r.exitCode, 0, r.output);
    return r.stdout.trim();
  };
  const up = async (): Promise<void> => {
    const r = await hotswap(home, ['up', '-f', specFile]);
    assert.equal(r.code, 0, r.stderr + r.stdout);
  };

  before(async () => {
    const engine = await requireEngine();
    client = new DockerClient({ socketPath: engine.socketPath });
    await ensureFixtures();
    port = await freePort();
  });

  after(async () => {
    await hotswap(home, ['down']);
    await cleanupScope(scope);
    await client
      .request({ method: 'DELETE', path: `/images/${encodeURIComponent(anonImage)}` })
      .catch(() => null);
    await client.close();
  });

  test('a named volume written by v1 is read by v2 after a rolling update under load', async () => {
    const spec = (image: string) =>
      writeSpec('notes', `    image: ${image}\n    volumes: ["${volume}:/data"]\n`);
    spec('hotswap-fixture:v1');
    await up();
    const v1 = await only('notes');
    await node(v1, `require('fs').writeFileSync('/data/note.txt', 'by ' + process.env.VERSION)`);

    spec('hotswap-fixture:v2');
    const m = await underLoad(`http://127.0.0.1:${port}/`, 100, up);
    assert.equal(m.all.failed, 0, JSON.stringify(m.all.errors));
    const v2 = await only('notes');
    assert.notEqual(v2, v1, 'a new instance');
    const read = await node(
      v2,
      `process.stdout.write(process.env.VERSION + ' reads ' + require('fs').readFileSync('/data/note.txt', 'utf8'))`,
    );
    console.log(
      `volumes: ${read}; ${m.all.sent} requests during the update, ${m.all.failed} failed`,
    );
    assert.equal(read, 'v2 reads by v1');
    const labels = (
      await client.json<{ Labels: Record<string, string> }>({
        path: `/volumes/${volume}`,
      })
    ).Labels;
    assert.equal(labels['hotswap.scope'], scope, 'created by hotswap with its labels');

    // `down` removes the service, never its data.
    const down = await hotswap(home, ['down', 'notes']);
    assert.equal(down.code, 0, down.stderr + down.stdout);
    await client.json({ path: `/volumes/${volume}` });
  });

  test('an image VOLUME: a fresh anonymous volume per instance, removed with the instance', async () => {
    const dockerfile = 'FROM hotswap-fixture:v1\nVOLUME /scratch\n';
    await client.images.build(packTar([{ name: 'Dockerfile', data: dockerfile }]), {
      tags: [anonImage],
      labels: { 'hotswap.test': 'volumes' },
    });
    const spec = (mark: string) =>
      writeSpec('scratch', `    image: ${anonImage}\n    env: { MARK: "${mark}" }\n`);
    const anonymousVolume = async (id: string): Promise<string> => {
      const c = await client.containers.inspect(id);
      const m = c.Mounts.find((x) => x.Destination === '/scratch');
      assert.equal(m?.Type, 'volume');
      return m.Name!;
    };
    spec('1');
    await up();
    const first = await only('scratch');
    const firstVolume = await anonymousVolume(first);
    await node(first, `require('fs').writeFileSync('/scratch/mark', 'left by the first')`);

    spec('2'); // a new revision
    await up();
    const second = await only('scratch');
    const secondVolume = await anonymousVolume(second);
    assert.notEqual(secondVolume, firstVolume, 'a fresh anonymous volume');
    const seen = await node(
      second,
      `process.stdout.write(String(require('fs').existsSync('/scratch/mark')))`,
    );
    assert.equal(seen, 'false', 'nothing carried over in an anonymous volume');
    const gone = await client.json({ path: `/volumes/${firstVolume}` }).then(
      () => 'still there',
      (err: Error) => err.message,
    );
    assert.match(gone, /no such volume|not found/i, 'removed with its instance');
  });
});
