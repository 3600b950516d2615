import assert from 'node:assert/strict';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { Store } from '../store/index.js';
import { parseExpiry } from './expiry.js';
import { Tokens } from './tokens.js';
import { parseToken } from './token-format.js';

const store = (): Store => Store.open(join(mkdtempSync(join(tmpdir(), 'hotswap-tok-')), 'db'));

test('a created token authenticates; the store holds only the sha256 of its secret', () => {
  const s = store();
  const tokens = new Tokens(s);
  const { token, info } = tokens.create({ role: 'deployer', services: ['web'], name: 'ci' }, 'me');
  assert.equal(tokens.authenticate(token).name, 'ci');
  const row = s.tokens.get(info.id)!;
  assert.match(row.secretSha256, /^[0-9a-f]{64}$/);
  assert.ok(!JSON.stringify(s.tokens.list()).includes(parseToken(token)!.secret));
  assert.deepEqual(row.services, ['web']);
});

test('names are unique among active tokens, free again once revoked', () => {
  const tokens = new Tokens(store());
  tokens.create({ role: 'viewer', name: 'n' }, 'me');
  assert.throws(() => tokens.create({ role: 'viewer', name: 'n' }, 'me'), /already named "n"/);
  tokens.revoke('n');
  tokens.create({ role: 'viewer', name: 'n' }, 'me');
  assert.deepEqual(
    tokens.list().map((t) => t.state),
    ['revoked', 'active'],
  );
  assert.throws(() => tokens.revoke('nope'), /no token with id or name "nope"/);
});

test('expiry: durations, and a token past its expiry is refused', () => {
  assert.equal(parseExpiry('30d'), 30 * 86_400_000);
  assert.equal(parseExpiry('2w'), 14 * 86_400_000);
  assert.throws(() => parseExpiry('30'), /expected a positive duration/);
  assert.throws(() => parseExpiry('0d'), /expected a positive duration/);
  const s = store();
  let now = new Date('2026-01-01T00:00:00Z');
  const tokens = new Tokens(s, () => now);
  const { token } = tokens.create({ role: 'viewer', expires: '1h' }, 'me');
  assert.equal(tokens.authenticate(token).role, 'viewer');
  now = new Date('2026-01-01T01:00:00Z');
  assert.throws(() => tokens.authenticate(token), /expired at 2026-01-01T01:00:00.000Z/);
});
