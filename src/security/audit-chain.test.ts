import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { AuditRecord } from '../store/index.js';
import { chainNext, entryHash, verifyChain } from './audit-chain.js';

function chain(n: number): AuditRecord[] {
  const out: AuditRecord[] = [];
  for (let i = 0; i < n; i++)
    out.push(
      chainNext(out.at(-1) ?? null, {
        at: `2026-01-01T00:00:0${i}.000Z`,
        actor: 'token:ci',
        verb: 'up',
        service: 'web',
        specHash: `sha256:${i}`,
        imageDigest: null,
        source: '127.0.0.1:5000',
        outcome: 'ok',
      }),
    );
  return out;
}

test('an intact chain verifies, with its head', () => {
  const c = chain(5);
  assert.deepEqual(verifyChain(c), { ok: true, entries: 5, head: { seq: 5, hash: c[4]!.hash } });
  assert.deepEqual(verifyChain([]), { ok: true, entries: 0, head: null });
});

test('an edited entry is named', () => {
  const c = chain(5);
  c[2] = { ...c[2]!, outcome: 'denied' };
  const r = verifyChain(c);
  assert.equal(r.ok, false);
  assert.ok(!r.ok && r.seq === 3 && r.problem === 'edited', JSON.stringify(r));
});

test('an edit with a recomputed hash is found by the next link', () => {
  const c = chain(5);
  const edited = { ...c[1]!, actor: 'someone-else' };
  c[1] = { ...edited, hash: entryHash(edited) };
  const r = verifyChain(c);
  assert.ok(!r.ok && r.seq === 2 && r.problem === 'edited', JSON.stringify(r));
});

test('a deleted entry is named, in the middle and at the start', () => {
  const c = chain(5);
  const r = verifyChain([c[0]!, c[1]!, c[3]!, c[4]!]);
  assert.ok(!r.ok && r.seq === 3 && r.problem === 'deleted', JSON.stringify(r));
  const r2 = verifyChain(c.slice(2));
  assert.ok(!r2.ok && r2.seq === 1 && r2.problem === 'deleted', JSON.stringify(r2));
  assert.match(!r2.ok ? r2.message : '', /#1\.\.#2 was deleted/);
});

test('a cut-off tail is found against the signed head', () => {
  const c = chain(5);
  const r = verifyChain(c.slice(0, 3), { seq: 5, hash: c[4]!.hash });
  assert.ok(!r.ok && r.seq === 4 && r.problem === 'deleted', JSON.stringify(r));
  assert.equal(verifyChain(c, { seq: 5, hash: c[4]!.hash }).ok, true);
});

test('swapped entries are reported as reordered', () => {
  const c = chain(5);
  // rows 2 and 3 traded places: each keeps its content but sits under the other's number
  const swapped = [c[0]!, { ...c[2]!, seq: 2 }, { ...c[1]!, seq: 3 }, c[3]!, c[4]!];
  const r = verifyChain(swapped);
  assert.ok(!r.ok && r.seq === 2 && r.problem === 'reordered', JSON.stringify(r));
  assert.match(!r.ok ? r.message : '', /#2 was written as #3/);
});
