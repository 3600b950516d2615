// The reload procedure against a fake runtime whose instances are small HTTP servers: each serves
// the config it "loaded" at its last trigger, and refuses (keeps the old one) a config with "bad".
import assert from 'node:assert/strict';
import { mkdtempSync } from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { HotswapError } from '../errors.js';
import { sampleService } from '../spec/sample.js';
import type { ReloadSpec, ServiceSpec } from '../spec/types.js';
import { Store } from '../store/index.js';
import { runReload, type ReloadTarget } from './reload-run.js';
import type { ReloadRuntime } from './runtime.js';

const PATH = '/etc/app.conf';

class FakeInstances implements ReloadRuntime {
  readonly inspectInstance = (): Promise<null> => Promise.resolve(null);
  readonly files = new Map<string, Map<string, Buffer>>();
  readonly loaded = new Map<string, string>();
  readonly triggers: string[] = [];
  readonly servers: http.Server[] = [];

  async add(id: string, content: string): Promise<ReloadTarget> {
    this.files.set(id, new Map([[PATH, Buffer.from(content)]]));
    this.loaded.set(id, content);
    const server = http.createServer((_, res) => res.end(this.loaded.get(id)));
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    this.servers.push(server);
    return { id, address: `127.0.0.1:${(server.address() as AddressInfo).port}` };
  }

  signalInstance(id: string): Promise<void> {
    this.triggers.push(id);
    const next = this.files.get(id)!.get(PATH)!.toString();
    if (!next.includes('bad')) this.loaded.set(id, next);
    return Promise.resolve();
  }

  putFiles(id: string, dir: string, files: Record<string, string | Uint8Array>): Promise<void> {
    for (const [name, data] of Object.entries(files))
      this.files.get(id)!.set(`${dir}${name}`, Buffer.from(data));
    return Promise.resolve();
  }

  readFile(id: string, path: string): Promise<Buffer> {
    const data = this.files.get(id)?.get(path);
    if (!data) return Promise.reject(new HotswapError('NOT_FOUND', `${path} missing`));
    return Promise.resolve(data);
  }

  exec(): Promise<{ exitCode: number; stdout: string; output: string }> {
    return new Promise(() => undefined); // a command that hangs
  }
}

let store: Store;
before(() => {
  store = Store.open(join(mkdtempSync(join(tmpdir(), 'hotswap-reload-')), 'hotswap.db'));
});
after(() => store.close());

function spec(
  content: string,
  over: Partial<ReloadSpec> = {},
): ServiceSpec & { reload: ReloadSpec } {
  return {
    ...sampleService(),
    reload: {
      files: [
        {
          source: '/x',
          target: PATH,
          sha256: 'x',
          content: Buffer.from(content).toString('base64'),
        },
      ],
      trigger: { type: 'signal', signal: 'SIGHUP' },
      verify: { type: 'http', path: '/', status: 200, body: content },
      timeoutMs: 300,
      ...over,
    },
  };
}

async function world(): Promise<{ rt: FakeInstances; instances: ReloadTarget[] }> {
  const rt = new FakeInstances();
  const instances = [await rt.add('a', 'v1'), await rt.add('b', 'v1')];
  return { rt, instances };
}

const close = (rt: FakeInstances): void => rt.servers.forEach((s) => s.close());

test('a reload copies, triggers and verifies one instance at a time', async () => {
  const { rt, instances } = await world();
  const events: string[] = [];
  const out = await runReload(
    { runtime: rt, store },
    { spec: spec('v2'), revision: 1, instances, cause: 'apply' },
    (_, e) => events.push(e.event),
  );
  close(rt);
  assert.equal(out.ok, true, out.reason ?? '');
  assert.equal(out.rollout.kind, 'reload');
  assert.equal(out.rollout.status, 'succeeded');
  assert.deepEqual([...rt.loaded.values()], ['v2', 'v2']);
  assert.deepEqual(rt.triggers, ['a', 'b']);
  assert.deepEqual(events, [
    'reload.started',
    'reload.instance',
    'reload.instance',
    'reload.succeeded',
  ]);
  assert.equal(store.rollouts.steps(out.rollout.id).length, 2);
});

test('a failed verify restores the old files and triggers again on every instance done', async () => {
  const { rt, instances } = await world();
  // "bad" is refused by the process; the verify waits for it and fails at the timeout
  const out = await runReload(
    { runtime: rt, store },
    { spec: spec('v2 bad'), revision: 1, instances, cause: 'apply' },
    () => undefined,
  );
  close(rt);
  assert.equal(out.ok, false);
  assert.match(
    out.reason ?? '',
    /reload verify failed for 300 ms: GET \/ answered without "v2 bad"/,
  );
  // the first instance failed already: only it was touched, and it is restored
  assert.deepEqual(rt.triggers, ['a', 'a']);
  assert.equal(rt.files.get('a')!.get(PATH)!.toString(), 'v1');
  assert.equal(rt.files.get('b')!.get(PATH)!.toString(), 'v1');
  assert.equal(store.rollouts.get(out.rollout.id)?.status, 'failed');
});

test('when the second instance fails, the first one is undone too', async () => {
  const { rt, instances } = await world();
  const good = spec('v2');
  // the second instance's process ignores the trigger: it keeps serving v1
  const refuse = rt.signalInstance.bind(rt);
  rt.signalInstance = async (id: string) => {
    if (id === 'b') {
      rt.triggers.push(id);
      return;
    }
    return refuse(id);
  };
  const out = await runReload(
    { runtime: rt, store },
    { spec: good, revision: 1, instances, cause: 'manual' },
    () => undefined,
  );
  close(rt);
  assert.equal(out.ok, false);
  assert.deepEqual(rt.triggers, ['a', 'b', 'a', 'b']);
  assert.deepEqual([...rt.loaded.values()], ['v1', 'v1'], 'both serve the old config again');
  assert.equal(rt.files.get('a')!.get(PATH)!.toString(), 'v1');
});

test('a trigger that hangs is cut at its timeout, then undone', async () => {
  const { rt, instances } = await world();
  const t0 = Date.now();
  const out = await runReload(
    { runtime: rt, store },
    {
      spec: spec('v2', { trigger: { type: 'exec', command: ['reload'] }, timeoutMs: 200 }),
      revision: 1,
      instances,
      cause: 'apply',
    },
    () => undefined,
  );
  close(rt);
  assert.equal(out.ok, false);
  assert.match(out.reason ?? '', /reload trigger exec reload ran longer than 200 ms/);
  // the undo's trigger hangs as well and is cut too: recorded, not waited on forever
  assert.match(out.reason ?? '', /restoring the old files failed too/);
  assert.ok(Date.now() - t0 < 2000);
  assert.equal(rt.files.get('a')!.get(PATH)!.toString(), 'v1', 'old file back');
});
