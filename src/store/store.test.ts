import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import Database from 'better-sqlite3';
import type { ServiceSpec } from '../spec/types.js';
import { Store } from './store.js';

const spec = { name: 'web', image: 'img:v1', replicas: 2 } as ServiceSpec;

function openTemp(): { store: Store; file: string } {
  const file = join(mkdtempSync(join(tmpdir(), 'hotswap-store-')), 'hotswap.db');
  return { store: Store.open(file), file };
}

test('revisions are numbered per service and found by identity', () => {
  const { store } = openTemp();
  store.services.upsert(spec);
  const base = {
    service: 'web',
    image: 'img:v1',
    imageId: 'sha256:a',
    repoDigest: null,
    configHash: 'h1',
    spec,
  };
  const r1 = store.revisions.create(base);
  const r2 = store.revisions.create({ ...base, imageId: 'sha256:b' });
  assert.equal(r1.number, 1);
  assert.equal(r2.number, 2);
  assert.equal(store.revisions.findIdentical('web', 'sha256:a', 'h1')?.number, 1);
  assert.equal(store.revisions.findIdentical('web', 'sha256:a', 'other'), null);
  store.services.setStable('web', 2);
  assert.equal(store.services.get('web')?.stableRevision, 2);
});

test('the journal is append-only', () => {
  const { store, file } = openTemp();
  store.journal.append({ service: 'web', event: 'rollout.started', data: { to: 2 } });
  store.journal.append({ service: 'web', event: 'rollout.finished' });
  assert.deepEqual(
    store.journal.list({ service: 'web' }).map((e) => e.event),
    ['rollout.started', 'rollout.finished'],
  );
  store.close();
  const again = Store.open(file); // migrations are idempotent on reopen
  assert.equal(again.journal.list().length, 2);
  const db = (again as unknown as { db: { prepare(s: string): { run(): void } } }).db;
  assert.throws(() => db.prepare('DELETE FROM journal').run(), /append-only/);
  assert.throws(() => db.prepare("UPDATE journal SET event = 'x'").run(), /append-only/);
});

test('rollouts record steps and outcome', () => {
  const { store } = openTemp();
  const r = store.rollouts.start({
    service: 'web',
    kind: 'update',
    from: 1,
    to: 2,
    strategy: 'rolling',
  });
  const s = store.rollouts.beginStep(r.id, 'start', { count: 1 });
  store.rollouts.endStep(s.id, 'done');
  assert.equal(store.rollouts.unfinished().length, 1);
  store.rollouts.finish(r.id, 'failed', 'deadline');
  const done = store.rollouts.get(r.id)!;
  assert.equal(done.status, 'failed');
  assert.equal(done.reason, 'deadline');
  assert.deepEqual(
    store.rollouts.steps(r.id).map((x) => [x.seq, x.kind, x.status]),
    [[1, 'start', 'done']],
  );
  assert.equal(store.rollouts.unfinished().length, 0);
});

test('a corrupt or newer-schema store is refused with a clear message', () => {
  const { store, file } = openTemp();
  store.close();
  const newer = new Database(file);
  newer.pragma('user_version = 999');
  newer.close();
  assert.throws(() => Store.open(file), /schema version 999, newer than this hotswap knows/);
  const junk = join(mkdtempSync(join(tmpdir(), 'hotswap-store-')), 'hotswap.db');
  writeFileSync(junk, Buffer.alloc(8192, 7));
  assert.throws(() => Store.open(junk), /is not a readable hotswap store/);
});
