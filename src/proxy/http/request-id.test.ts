import assert from 'node:assert/strict';
import { test } from 'node:test';
import { nextRequestId, REQUEST_ID_LENGTH, writeRequestId } from './request-id.js';

test('request ids are UUID-shaped, share the process prefix and never repeat', () => {
  const ids = Array.from({ length: 5000 }, () => nextRequestId());
  for (const id of ids)
    assert.match(id, /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/);
  assert.equal(new Set(ids).size, ids.length);
  assert.equal(new Set(ids.map((id) => id.slice(0, 24))).size, 1);
  // Consecutive: the counter part goes up by one.
  const a = parseInt(ids[0]!.slice(24), 16);
  const b = parseInt(ids[1]!.slice(24), 16);
  assert.equal(b - a, 1);
});

test('writeRequestId writes the same kind of id as bytes, continuing the same counter', () => {
  const out = Buffer.alloc(40, 0x2e);
  const before = nextRequestId();
  assert.equal(writeRequestId(out, 2), 2 + REQUEST_ID_LENGTH);
  const written = out.toString('latin1', 2, 2 + REQUEST_ID_LENGTH);
  assert.equal(written.slice(0, 24), before.slice(0, 24));
  assert.equal(parseInt(written.slice(24), 16) - parseInt(before.slice(24), 16), 1);
  assert.equal(out.toString('latin1', 0, 2) + out.toString('latin1', 38), '....');
});
