import assert from 'node:assert/strict';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { Store } from './store.js';
import { WriteQueue } from './write-queue.js';

const full = (): never => {
  throw Object.assign(new Error('database or disk is full'), { code: 'SQLITE_FULL' });
};

test('a write the full disk refuses waits, later ones queue behind it, all go in order', () => {
  const q = new WriteQueue();
  const done: number[] = [];
  let room = false;
  assert.equal(
    q.run(() => (room ? done.push(1) : full())),
    false,
  );
  assert.equal(
    q.run(() => done.push(2)),
    false,
    'queued behind the first, to keep the order',
  );
  assert.equal(done.length, 0);
  assert.match(q.backlog()?.error ?? '', /disk is full/);
  assert.equal(q.backlog()?.pending, 2);
  room = true;
  assert.equal(q.flush(), true);
  assert.deepEqual(done, [1, 2]);
  assert.equal(q.backlog(), null);
  assert.equal(
    q.run(() => done.push(3)),
    true,
  );
  q.close();
});

test('other errors are thrown as before', () => {
  const q = new WriteQueue();
  assert.throws(
    () =>
      q.run(() => {
        throw new Error('constraint failed');
      }),
    /constraint failed/,
  );
  assert.equal(q.backlog(), null);
});

test('a journal entry the disk refuses is written once there is room, with its seq', () => {
  const store = Store.open(join(mkdtempSync(join(tmpdir(), 'hotswap-wq-')), 'hotswap.db'));
  let room = false;
  // The first write fails like a full disk; the entry waits and keeps its place.
  store.writes.run(() => (room ? undefined : full()));
  const e = store.journal.append({ service: 'web', event: 'rollback.started', data: {} });
  assert.equal(e.seq, 0);
  assert.equal(store.journal.list({ service: 'web' }).length, 0);
  room = true;
  store.writes.flush();
  assert.ok(e.seq > 0);
  assert.deepEqual(
    store.journal.list({ service: 'web' }).map((x) => x.event),
    ['rollback.started'],
  );
  store.close();
});
