import assert from 'node:assert/strict';
import { test } from 'node:test';
import { trafficWeights } from './weights.js';

const inst = (revision: number, n: number) =>
  Array.from({ length: n }, (_, i) => ({
    id: `${revision}-${i}`,
    revision,
    address: '127.0.0.1:1',
  }));

test('without a percentage each revision weighs its instance count', () => {
  assert.deepEqual(trafficWeights(inst(1, 2), inst(2, 1), 2, null), { '1': 2, '2': 1 });
  assert.deepEqual(trafficWeights(inst(1, 3), [], 2, null), { '1': 3, '2': 0 });
});

test('with a percentage the target gets exactly that share of the traffic', () => {
  const w = trafficWeights([...inst(1, 2), ...inst(3, 1)], inst(4, 1), 4, 20);
  const total = Object.values(w).reduce((a, b) => a + b, 0);
  assert.equal(w['4']! / total, 0.2);
  assert.equal(w['1']! / total, (0.8 * 2) / 3); // old revisions share the rest by instance count
  assert.deepEqual(
    trafficWeights(inst(1, 2), [], 2, 30),
    { '1': 140, '2': 0 },
    'no ready canary: no weight',
  );
  assert.deepEqual(trafficWeights([], inst(2, 3), 2, 100), { '2': 100 });
});
