import assert from 'node:assert/strict';
import { readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { RouteStore } from './route-store.js';
import { tempDir } from '../test-support.js';
import type { RouteTable } from '../types.js';

function table(weight: number): RouteTable {
  return {
    version: 1,
    services: {
      web: {
        listen: '127.0.0.1:8080',
        mode: 'http',
        longConnections: { policy: 'keep', timeoutMs: 30_000 },
        maxBodyBytes: 100 * 1024 * 1024,
        weights: { '1': weight },
        backends: [{ id: 'c1', revision: 1, address: '127.0.0.1:3000', state: 'active' }],
      },
    },
  };
}

test('a missing file is an empty table; saves are atomic and the last one wins', async () => {
  const dir = tempDir();
  const path = join(dir, 'sub', 'routes.json');
  const logs: string[] = [];
  const store = new RouteStore(path, (l) => logs.push(l));
  assert.deepEqual(store.load(), { version: 1, services: {} });
  await Promise.all([1, 2, 3, 4, 5].map((w) => store.save(table(w))));
  assert.deepEqual(store.load(), table(5));
  assert.equal(statSync(path).mode & 0o777, 0o600);
  // No temp file is left next to the table.
  assert.deepEqual(readdirSync(join(dir, 'sub')), ['routes.json']);
  assert.deepEqual(logs, []);
});

test('a corrupt or invalid file is set aside, logged, and read as empty', () => {
  const dir = tempDir();
  const path = join(dir, 'routes.json');
  const logs: string[] = [];
  const store = new RouteStore(path, (l) => logs.push(l));
  writeFileSync(path, '{"version": 1, "services": {');
  assert.deepEqual(store.load(), { version: 1, services: {} });
  assert.match(logs[0] ?? '', /unreadable/);
  const aside = readdirSync(dir).find((f) => f.startsWith('routes.json.corrupt-'));
  assert.ok(aside);
  assert.equal(readFileSync(join(dir, aside), 'utf8'), '{"version": 1, "services": {');

  const bad = table(1);
  (bad.services.web!.backends[0] as { address: string }).address = '10.0.0.1:80';
  writeFileSync(path, JSON.stringify(bad));
  assert.deepEqual(store.load(), { version: 1, services: {} });
  assert.match(logs[1] ?? '', /table\.services\.web\.backends\.0\.address/);
});

test('a table written before service configs existed loads with the defaults', () => {
  const dir = tempDir();
  const path = join(dir, 'routes.json');
  writeFileSync(
    path,
    JSON.stringify({
      version: 1,
      services: {
        web: {
          listen: '127.0.0.1:8080',
          weights: { '1': 1 },
          backends: [{ id: 'c1', revision: 1, address: '127.0.0.1:3000', state: 'active' }],
        },
      },
    }),
  );
  const logs: string[] = [];
  assert.deepEqual(new RouteStore(path, (l) => logs.push(l)).load(), table(1));
  assert.deepEqual(logs, []);
});
