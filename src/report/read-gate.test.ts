import assert from 'node:assert/strict';
import { test } from 'node:test';
import { ReadGate } from './read-gate.js';

test('at most `limit` reads run at once; all run, in order; a failed read fails only its caller', async () => {
  const gate = new ReadGate(2);
  const started: number[] = [];
  let inFlight = 0;
  let maxInFlight = 0;
  const read = (i: number) => async () => {
    started.push(i);
    inFlight++;
    maxInFlight = Math.max(maxInFlight, inFlight);
    await new Promise((r) => setTimeout(r, 10));
    inFlight--;
    if (i === 2) throw new Error('read 2 failed');
    return i;
  };
  const results = await Promise.allSettled([0, 1, 2, 3, 4].map((i) => gate.run(read(i))));
  assert.equal(maxInFlight, 2);
  assert.deepEqual(started, [0, 1, 2, 3, 4]);
  assert.deepEqual(
    results.map((r) => r.status),
    ['fulfilled', 'fulfilled', 'rejected', 'fulfilled', 'fulfilled'],
  );
});

test('a read that hangs holds its slot only holdMs: the next read does not wait for it', async () => {
  const alive = setInterval(() => undefined, 1000);
  const gate = new ReadGate(1, 100);
  const started = Date.now();
  let release!: () => void;
  const hung = gate.run(() => new Promise<string>((r) => (release = () => r('late'))));
  const next = await gate.run(() => Promise.resolve(Date.now() - started));
  assert.ok(next >= 95 && next < 1000, `the next read started after ${next} ms`);
  release();
  assert.equal(await hung, 'late');
  clearInterval(alive);
});
