import assert from 'node:assert/strict';
import { test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { RECONCILE, ServiceLocks } from './service-lock.js';

test('a user operation waits for a reconcile pass; a second operation is a conflict', async () => {
  const locks = new ServiceLocks();
  const order: string[] = [];
  const pass = locks.with('web', RECONCILE, async () => {
    await sleep(30);
    order.push('reconcile');
  });
  const up = locks.with('web', 'update', async () => {
    order.push('update');
    await sleep(30);
  });
  await sleep(5);
  assert.equal(locks.busy('web'), RECONCILE);
  await pass;
  await sleep(5);
  assert.equal(locks.busy('web'), 'update');
  await assert.rejects(
    locks.with('web', 'rollback', () => Promise.resolve()),
    /busy: update in progress/,
  );
  await assert.rejects(
    locks.with('web', RECONCILE, () => Promise.resolve()),
    /busy: update in progress/,
  );
  await up;
  assert.deepEqual(order, ['reconcile', 'update']);
  assert.equal(locks.busy('web'), null);
});
