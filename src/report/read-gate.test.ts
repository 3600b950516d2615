import assert from 'node:assert/strict';
import { test } from 'node:test';
import { ReadGate } from './read-gate.js';

test('reads through the gate run one at a time, in order, at least the gap apart', async () => {
  // The gate's waits do not keep a process alive (a daemon's samplers must not): this test does.
  const alive = setInterval(() => undefined, 1000);
  const gate = new ReadGate(30);
  const log: Array<{ i: number; start: number; end: number }> = [];
  let inFlight = 0;
  let maxInFlight = 0;
  const read = (i: number) => async () => {
    inFlight++;
    maxInFlight = Math.max(maxInFlight, inFlight);
    const start = Date.now();
    await new Promise((r) => setTimeout(r, 5));
    inFlight--;
    log.push({ i, start, end: Date.now() });
    if (i === 2) throw new Error('read 2 failed');
    return i;
  };
  const results = await Promise.allSettled([0, 1, 2, 3].map((i) => gate.run(read(i))));
  clearInterval(alive);
  assert.equal(maxInFlight, 1);
  assert.deepEqual(
    log.map((l) => l.i),
    [0, 1, 2, 3],
  );
  for (let k = 1; k < log.length; k++)
    assert.ok(log[k]!.start - log[k - 1]!.end >= 28, `read ${k} started too soon`);
  // A failed read fails only its caller.
  assert.deepEqual(
    results.map((r) => r.status),
    ['fulfilled', 'fulfilled', 'rejected', 'fulfilled'],
  );
});

test('a read that hangs holds the gate only holdMs: the next read does not wait for it', async () => {
  const alive = setInterval(() => undefined, 1000);
  const gate = new ReadGate(10, 100);
  const started = Date.now();
  let release!: () => void;
  const hung = gate.run(() => new Promise<string>((r) => (release = () => r('late'))));
  const next = await gate.run(() => Promise.resolve(Date.now() - started));
  assert.ok(next >= 100 && next < 1000, `the next read started after ${next} ms`);
  release();
  assert.equal(await hung, 'late');
  clearInterval(alive);
});
