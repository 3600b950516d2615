// The Docker runtime against the real engine: API client endpoints and the Runtime contract,
// with the fixture images. Everything created carries this run's scope and is removed after.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:http';
import type { Server } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { HotswapError } from '../../src/errors.js';
import { DockerClient, DockerRuntime, unpackTar } from '../../src/runtime/index.js';
import type { DockerEvent, Instance, InstanceRequest } from '../../src/runtime/index.js';
import {
  FIXTURE_IMAGES,
  cleanupScope,
  ensureFixtures,
  httpGet,
  requireEngine,
  uniqueScope,
  waitForHttp,
} from '../helpers/docker.js';

const MiB = 1024 * 1024;
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

function isCode(code: string) {
  return (err: unknown) => {
    assert.ok(err instanceof HotswapError, `expected a HotswapError, got ${String(err)}`);
    assert.equal(err.code, code, err.message);
    return true;
  };
}

/** A stand-in engine on a unix socket that reports `apiVersion` and records request paths. */
async function fakeEngine(
  apiVersion: string,
): Promise<{ socketPath: string; paths: string[]; close: () => Promise<void> }> {
  const dir = mkdtempSync(join(tmpdir(), 'hotswap-fake-engine-'));
  const socketPath = join(dir, 'docker.sock');
  const paths: string[] = [];
  const server: Server = createServer((req, res) => {
    paths.push(req.url ?? '');
    res.setHeader('content-type', 'application/json');
    if (req.url === '/version') {
      res.end(
        JSON.stringify({ Version: 'fake', ApiVersion: apiVersion, Os: 'linux', Arch: 'amd64' }),
      );
    } else if (req.url?.split('?')[0]?.endsWith('/containers/json')) {
      res.end('[]');
    } else {
      res.statusCode = 404;
      res.end(JSON.stringify({ message: `no such thing: ${req.url}` }));
    }
  });
  await new Promise<void>((resolve) => server.listen(socketPath, resolve));
  return {
    socketPath,
    paths,
    close: async () => {
      await new Promise((resolve) => server.close(resolve));
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

void describe('docker runtime on the real engine', () => {
  const scope = uniqueScope('rt');
  let runtime: DockerRuntime;
  let client: DockerClient;
  let socketPath = '';
  let inst: Instance;
  const hostDir = mkdtempSync(join(tmpdir(), 'hotswap-rt-bind-'));
  writeFileSync(join(hostDir, 'greeting.txt'), 'from the host\n');

  const request = (over: Partial<InstanceRequest> = {}): InstanceRequest => ({
    service: 'web',
    revision: 1,
    image: FIXTURE_IMAGES.v1,
    env: {},
    command: null,
    port: 8080,
    volumes: [],
    stopGracePeriodMs: 5_000,
    ...over,
  });

  before(async () => {
    ({ socketPath } = await requireEngine());
    const t0 = Date.now();
    await ensureFixtures();
    console.log(`fixtures ready in ${Date.now() - t0} ms`);
    runtime = new DockerRuntime({ socketPath, scope });
    client = runtime.client;
  });

  after(async () => {
    const removed = await cleanupScope(scope);
    console.log(`cleanup: removed ${removed} container(s) of scope ${scope}`);
    await runtime?.close();
    rmSync(hostDir, { recursive: true, force: true });
  });

  void test('negotiates the API version with the real engine', async () => {
    await runtime.ping();
    const v = await client.version();
    const chosen = await client.negotiate();
    assert.match(chosen, /^1\.\d+$/);
    assert.equal(client.apiVersion, chosen);
    const server = Number(v.ApiVersion.split('.')[1]);
    assert.equal(chosen, `1.${Math.min(server, 43)}`);
    assert.ok(Number(chosen.split('.')[1]) >= 41);
  });

  void test('caps a newer engine at 1.43 and refuses one older than 1.41', async () => {
    const newer = await fakeEngine('1.45');
    const c1 = new DockerClient({ socketPath: newer.socketPath });
    try {
      assert.equal(await c1.negotiate(), '1.43');
      await c1.containers.list();
      assert.ok(
        newer.paths.some((p) => p.startsWith('/v1.43/containers/json')),
        newer.paths.join(),
      );
    } finally {
      await c1.close();
      await newer.close();
    }
    const older = await fakeEngine('1.40');
    const c2 = new DockerClient({ socketPath: older.socketPath });
    try {
      await assert.rejects(c2.containers.list(), (err) => {
        isCode('DOCKER_UNAVAILABLE')(err);
        assert.match((err as Error).message, /API 1\.40.*1\.41/);
        return true;
      });
    } finally {
      await c2.close();
      await older.close();
    }
  });

  void test('a missing socket is DOCKER_UNAVAILABLE', async () => {
    const c = new DockerClient({ socketPath: join(hostDir, 'no-such.sock') });
    try {
      await assert.rejects(c.ping(), isCode('DOCKER_UNAVAILABLE'));
    } finally {
      await c.close();
    }
  });

  void test('inspects images: present, and missing → IMAGE_NOT_FOUND', async () => {
    const img = await runtime.inspectImage(FIXTURE_IMAGES.v1);
    assert.match(img.id, /^sha256:[0-9a-f]{64}$/);
    assert.equal(img.repoDigest, null);
    const raw = await client.images.inspect(FIXTURE_IMAGES.bad);
    assert.equal(raw.Config?.Labels?.['hotswap.fixture'], 'true');
    assert.ok(raw.Config?.Env?.includes('HEALTH_FAIL=1'));
    await assert.rejects(
      runtime.inspectImage('hotswap-fixture:no-such-tag'),
      isCode('IMAGE_NOT_FOUND'),
    );
    await assert.rejects(
      runtime.startInstance(request({ image: 'hotswap-fixture:no-such-tag' })),
      isCode('IMAGE_NOT_FOUND'),
    );
  });

  void test('starts an instance of v1 published on 127.0.0.1 and serves it', async () => {
    const t0 = Date.now();
    inst = await runtime.startInstance(
      request({ volumes: [{ source: hostDir, target: '/data', readOnly: true }] }),
    );
    const started = Date.now() - t0;
    assert.equal(inst.state, 'running');
    assert.match(inst.address ?? '', /^127\.0\.0\.1:\d+$/);
    assert.match(inst.name, new RegExp(`^hotswap-${scope}-web-r1-[0-9a-f]{6}$`));
    const res = await waitForHttp(`http://${inst.address}/`);
    console.log(`startInstance ${started} ms, first response after ${Date.now() - t0} ms`);
    assert.equal(res.status, 200);
    assert.equal(res.body, 'v1\n');
    assert.equal(res.headers['x-version'], 'v1');
    assert.equal(res.headers['x-instance'], inst.id.slice(0, 12));
    const c = await client.containers.inspect(inst.id);
    assert.deepEqual(c.HostConfig.PortBindings?.['8080/tcp'], [
      { HostIp: '127.0.0.1', HostPort: '' },
    ]);
    assert.equal(c.Config.Labels?.['hotswap.managed'], 'true');
    assert.equal(c.Config.Labels?.['hotswap.scope'], scope);
    assert.equal(c.Config.Labels?.['hotswap.service'], 'web');
    assert.equal(c.Config.Labels?.['hotswap.revision'], '1');
    assert.equal(c.Config.StopTimeout, 5);
    assert.equal(c.HostConfig.RestartPolicy?.Name, 'no');
    const again = await runtime.inspectInstance(inst.id);
    assert.equal(again?.address, inst.address);
  });

  void test('exec collects output and exit code', async () => {
    const r = await runtime.exec(inst.id, ['/usr/local/bin/node', '-e', 'console.log(1+1)']);
    assert.equal(r.exitCode, 0);
    assert.equal(r.stdout, '2\n');
    const e = await runtime.exec(inst.id, [
      '/usr/local/bin/node',
      '-e',
      'console.error("oops"); process.exit(3)',
    ]);
    assert.equal(e.exitCode, 3);
    assert.equal(e.stderr, 'oops\n');
    assert.equal(e.stdout, '');
    const mounted = await runtime.exec(inst.id, [
      '/usr/local/bin/node',
      '-e',
      'process.stdout.write(require("fs").readFileSync("/data/greeting.txt","utf8"))',
    ]);
    assert.equal(mounted.stdout, 'from the host\n');
  });

  void test('archive: put a file, then get it back', async () => {
    await runtime.putFiles(inst.id, '/tmp', { 'hello.txt': 'hello archive\n', 'sub/x.json': '{}' });
    assert.equal((await runtime.readFile(inst.id, '/tmp/hello.txt')).toString(), 'hello archive\n');
    const { tar, stat } = await client.containers.getArchive(inst.id, '/tmp/sub');
    assert.equal(stat?.name, 'sub');
    const names = unpackTar(tar).map((f) => f.name);
    assert.deepEqual(names.sort(), ['sub/', 'sub/x.json']);
    await assert.rejects(client.containers.getArchive(inst.id, '/tmp/nope'), isCode('NOT_FOUND'));
  });

  void test('updates resources (memory) and reads stats', async () => {
    const res = await client.containers.update(inst.id, {
      Memory: 128 * MiB,
      MemorySwap: 256 * MiB,
    });
    assert.ok(res.Warnings === null || Array.isArray(res.Warnings));
    const c = await client.containers.inspect(inst.id);
    assert.equal(c.HostConfig.Memory, 128 * MiB);
    assert.equal(c.HostConfig.MemorySwap, 256 * MiB);
    const stats = await client.containers.stats(inst.id);
    assert.ok(Date.parse(stats.read) > 0);
    assert.ok((stats.memory_stats.usage ?? 0) > 0, 'memory usage reported');
    assert.equal(stats.memory_stats.limit, 128 * MiB);
    assert.ok(stats.cpu_stats.cpu_usage.total_usage > 0);
  });

  void test('logs are demultiplexed text', async () => {
    const logs = await runtime.logs(inst.id);
    assert.match(logs, /\[v1\] listening on :8080/);
    assert.ok(![...logs].some((ch) => ch.charCodeAt(0) < 9), 'no frame headers left');
    const tail = await runtime.logs(inst.id, { tail: 1 });
    assert.equal(tail.trim().split('\n').length, 1);
  });

  void test('lists instances by labels', async () => {
    const all = await runtime.listInstances();
    assert.deepEqual(
      all.map((i) => i.id),
      [inst.id],
    );
    assert.equal(all[0]?.address, inst.address);
    assert.equal(all[0]?.service, 'web');
    assert.equal(all[0]?.revision, 1);
    assert.equal((await runtime.listInstances({ service: 'web', revision: 1 })).length, 1);
    assert.equal((await runtime.listInstances({ revision: 2 })).length, 0);
    assert.equal((await runtime.listInstances({ service: 'other' })).length, 0);
    const other = new DockerRuntime({ client, scope: `${scope}-other` });
    assert.equal((await other.listInstances()).length, 0);
    assert.equal(await other.inspectInstance(inst.id), null);
  });

  void test('the event stream sees a new instance start', async () => {
    const ac = new AbortController();
    const seen: DockerEvent[] = [];
    const watching = (async () => {
      for await (const ev of runtime.events({ signal: ac.signal })) {
        seen.push(ev);
        if (ev.Action === 'start') return ev;
      }
      return null;
    })();
    await sleep(200); // let the stream open before the container starts
    const timer = setTimeout(() => ac.abort(), 15_000);
    const second = await runtime.startInstance(request({ revision: 2, env: { VERSION: 'v1b' } }));
    const ev = await watching;
    clearTimeout(timer);
    ac.abort();
    assert.ok(ev, `no start event; saw ${seen.map((e) => e.Action).join(', ')}`);
    assert.equal(ev.Actor.ID, second.id);
    assert.equal(ev.Actor.Attributes['hotswap.scope'], scope);
    assert.equal(ev.Actor.Attributes['hotswap.revision'], '2');
    assert.equal((await waitForHttp(`http://${second.address}/`)).body, 'v1b\n');
    await runtime.removeInstance(second.id);
  });

  void test('stop is graceful: in-flight request finishes, exit code 0', async () => {
    const addr = inst.address;
    const slow = httpGet(`http://${addr}/slow?ms=1500`);
    await sleep(200);
    const t0 = Date.now();
    await runtime.stopInstance(inst.id, 5_000);
    const stopMs = Date.now() - t0;
    const res = await slow;
    assert.equal(res.status, 200);
    assert.equal(res.headers.connection, 'close');
    assert.ok(stopMs < 4_500, `stopped by SIGTERM, not SIGKILL (${stopMs} ms)`);
    const stopped = await runtime.inspectInstance(inst.id);
    assert.equal(stopped?.state, 'exited');
    assert.equal(stopped?.exitCode, 0);
    assert.equal(stopped?.address, null);
    assert.match(await runtime.logs(inst.id), /SIGTERM: draining[\s\S]*drained, exiting/);
    await runtime.stopInstance(inst.id, 1_000); // already stopped: fine
    await runtime.removeInstance(inst.id);
    assert.equal(await runtime.inspectInstance(inst.id), null);
    await runtime.removeInstance(inst.id); // missing: fine
    await runtime.stopInstance(inst.id, 1_000); // missing: fine
    await assert.rejects(client.containers.inspect(inst.id), isCode('NOT_FOUND'));
  });

  void test(':bad serves but its /healthz is 503 and Docker marks it unhealthy', async () => {
    const bad = await runtime.startInstance(request({ service: 'bad', image: FIXTURE_IMAGES.bad }));
    const root = await waitForHttp(`http://${bad.address}/`);
    assert.equal(root.status, 200);
    assert.equal(root.headers['x-version'], 'bad');
    const health = await httpGet(`http://${bad.address}/healthz`);
    assert.equal(health.status, 503);
    assert.equal(health.headers['x-version'], 'bad');
    const deadline = Date.now() + 20_000;
    let state = await runtime.inspectInstance(bad.id);
    while (state?.health !== 'unhealthy' && Date.now() < deadline) {
      await sleep(250);
      state = await runtime.inspectInstance(bad.id);
    }
    assert.equal(state?.health, 'unhealthy');
    const listed = await runtime.listInstances({ service: 'bad' });
    assert.equal(listed[0]?.health, 'unhealthy');
    await runtime.removeInstance(bad.id);
  });
});
