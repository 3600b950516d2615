import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { Runtime } from '../runtime/types.js';
import { sampleService } from '../spec/sample.js';
import type { ResourcesSpec } from '../spec/types.js';
import { resizeInstances } from './resize.js';

const MB = 1024 * 1024;

function fakeRuntime(limits: ResourcesSpec, inUse: number) {
  const current = new Map([
    ['aaaaaaaaaaaa1', { ...limits }],
    ['bbbbbbbbbbbb2', { ...limits }],
  ]);
  const updates: string[] = [];
  const runtime = {
    listInstances: () =>
      Promise.resolve([...current.keys()].map((id) => ({ id, state: 'running' }))),
    instanceResources: (id: string) =>
      Promise.resolve({ limits: { ...current.get(id)! }, memoryInUse: inUse }),
    updateResources: (id: string, r: ResourcesSpec) => {
      updates.push(id);
      current.set(id, { ...current.get(id)!, ...r });
      return Promise.resolve();
    },
  } as unknown as Runtime;
  return { runtime, updates, current };
}

test('every instance is checked before any changes: memory below use is refused, no update', async () => {
  const f = fakeRuntime({ memory: 128 * MB }, 40 * MB);
  const spec = sampleService({ resources: { memory: 32 * MB } });
  await assert.rejects(
    resizeInstances(f.runtime, spec, { memory: 128 * MB }, () => undefined),
    (err: Error & { code?: string }) =>
      err.code === 'CONFLICT' &&
      err.message ===
        'cannot lower the memory of web to 32.0 MB: aaaaaaaaaaaa uses 40.0 MB, bbbbbbbbbbbb uses 40.0 MB now; nothing was changed',
  );
  assert.deepEqual(f.updates, []);
});

test('instances that differ are updated and read back; a removed limit is reported', async () => {
  const f = fakeRuntime({ cpus: 0.5, memory: 128 * MB }, 20 * MB);
  const notes: string[] = [];
  const spec = sampleService({ resources: { cpus: 1 } });
  const n = await resizeInstances(f.runtime, spec, { cpus: 0.5, memory: 128 * MB }, (e, m) =>
    notes.push(`${e}: ${m}`),
  );
  assert.equal(n, 2);
  assert.deepEqual(f.updates, ['aaaaaaaaaaaa1', 'bbbbbbbbbbbb2']);
  assert.equal(notes.length, 3);
  assert.match(notes[0]!, /^resources\.kept: memory removed from the spec/);
  assert.match(notes[1]!, /resized live: cpus 0\.5, memory 128\.0 MB → cpus 1, memory 128\.0 MB/);
  // Already at the spec: nothing to do.
  assert.equal(await resizeInstances(f.runtime, spec, spec.resources, () => undefined), 0);
});
