import assert from 'node:assert/strict';
import { test } from 'node:test';
import { HotswapError } from '../errors.js';
import { aggregate } from './aggregate.js';
import type { CheckResult } from './judge.js';

const runs = (...rs: CheckResult[]): { result: CheckResult }[] => rs.map((result) => ({ result }));

test('fails only when failures exceed failureLimit (Argo Rollouts semantics)', () => {
  assert.equal(aggregate(runs('fail'), 0).result, 'fail');
  assert.equal(aggregate(runs('fail'), 1, 3).result, 'inconclusive');
  const r = aggregate(runs('fail', 'pass', 'fail'), 1, 3);
  assert.equal(r.result, 'fail');
  assert.equal(r.reason, '2 failed measurements > failureLimit 1');
});

test('passes after the required number of passing intervals', () => {
  assert.equal(aggregate(runs('pass', 'inconclusive'), 0, 2).result, 'inconclusive');
  const r = aggregate(runs('pass', 'inconclusive', 'fail', 'pass'), 1, 2);
  assert.deepEqual(
    { result: r.result, passed: r.passed, failed: r.failed, inconclusive: r.inconclusive },
    { result: 'pass', passed: 2, failed: 1, inconclusive: 1 },
  );
  assert.equal(aggregate(runs('pass'), 0).result, 'pass');
});

test('no verdicts yet is inconclusive; bad limits are refused', () => {
  assert.equal(aggregate([], 0).result, 'inconclusive');
  assert.throws(() => aggregate([], -1), HotswapError);
  assert.throws(() => aggregate([], 0, 0), HotswapError);
});
