// Private networks on the real engine (issue 16): created with hotswap's labels, found again,
// a change of `internal` refused, an instance joined to two networks (one internal) and reached
// where it publishes, unused networks removed. Everything carries this run's scope.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { HotswapError } from '../../src/errors.js';
import { DockerClient, DockerRuntime } from '../../src/runtime/index.js';
import {
  FIXTURE_IMAGES,
  cleanupScope,
  ensureFixtures,
  requireEngine,
  uniqueScope,
  waitForHttp,
} from '../helpers/docker.js';

describe('DockerRuntime networks', () => {
  const scope = uniqueScope('net');
  let runtime: DockerRuntime;
  let client: DockerClient;

  before(async () => {
    const engine = await requireEngine();
    await ensureFixtures();
    client = new DockerClient({ socketPath: engine.socketPath });
    runtime = new DockerRuntime({ scope, client });
  });

  after(async () => {
    await cleanupScope(scope);
    await client.close();
  });

  test('ensure creates once, with labels; a change of internal is refused', async () => {
    const a = await runtime.ensureNetwork('front', false);
    const again = await runtime.ensureNetwork('front', false);
    assert.deepEqual(again, a);
    assert.match(a.subnet, /^\d+\.\d+\.\d+\.\d+\/\d+$/);
    const inspect = await client.json<{ Labels: Record<string, string> }>({
      path: `/networks/${a.dockerName}`,
    });
    assert.equal(inspect.Labels['hotswap.scope'], scope);
    assert.equal(inspect.Labels['hotswap.network'], 'front');
    await assert.rejects(runtime.ensureNetwork('front', true), (err: unknown) => {
      assert.ok(err instanceof HotswapError && err.code === 'CONFLICT');
      assert.match(err.message, /exists with internal: false/);
      return true;
    });
  });

  test('an instance on a network and an internal one publishes on 127.0.0.1; unused networks go', async () => {
    const front = await runtime.ensureNetwork('front', false);
    const back = await runtime.ensureNetwork('back', true);
    const inst = await runtime.startInstance({
      service: 'web',
      revision: 1,
      image: FIXTURE_IMAGES.v1,
      env: {},
      command: null,
      port: 8080,
      volumes: [],
      stopGracePeriodMs: 1000,
      networks: [
        { dockerName: back.dockerName, internal: true },
        { dockerName: front.dockerName, internal: false },
      ],
      extraHosts: [`api:${front.gateway}`],
    });
    assert.match(inst.address ?? '', /^127\.0\.0\.1:\d+$/);
    assert.equal((await waitForHttp(`http://${inst.address}/`)).status, 200);
    const c = await client.containers.inspect(inst.id);
    const joined = Object.keys(c.NetworkSettings.Networks ?? {}).sort();
    assert.deepEqual(joined, [back.dockerName, front.dockerName].sort());
    assert.deepEqual(c.HostConfig.ExtraHosts, [`api:${front.gateway}`]);

    assert.deepEqual(await runtime.removeUnusedNetworks(new Set()), [], 'both are in use');
    await runtime.removeInstance(inst.id);
    const removed = await runtime.removeUnusedNetworks(new Set([front.dockerName]));
    assert.deepEqual(removed, [back.dockerName], 'kept what was asked to be kept');
  });
});
