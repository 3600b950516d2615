// Every route the API registers has exactly one permission rule, and README.md shows the table
// generated from those rules: a new endpoint without a rule fails here, not in production.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { test } from 'node:test';
import type { Hono } from 'hono';
import { fileURLToPath } from 'node:url';
import { createApi, type ApiDeps } from '../api/index.js';
import { findRule, matchRule, ROUTE_RULES, roleTable } from './rules.js';

const README = fileURLToPath(new URL('../../../README.md', import.meta.url));

function api(): Hono {
  return createApi({
    security: {} as ApiDeps['security'],
    store: {} as ApiDeps['store'],
  } as ApiDeps);
}

function apiRoutes(app = api()): Array<{ method: string; path: string }> {
  // app.use() middleware shows up as method ALL; every endpoint has a concrete method.
  return app.routes
    .filter((r) => r.method !== 'ALL')
    .map((r) => ({ method: r.method, path: r.path }));
}

test('every API route has a permission rule', () => {
  const routes = apiRoutes();
  assert.ok(routes.length >= 15, `found only ${routes.length} routes`);
  const missing = routes.filter((r) => !findRule(r.method, r.path));
  assert.deepEqual(missing, [], 'routes without a rule in src/security/rules.ts');
});

test('a route added without a rule is caught (the check above can fail)', () => {
  const app = api();
  app.post('/v1/new-thing', (c) => c.json({}));
  const missing = apiRoutes(app).filter((r) => !findRule(r.method, r.path));
  assert.deepEqual(missing, [{ method: 'POST', path: '/v1/new-thing' }]);
});

test('every rule names a route that exists, once', () => {
  const routes = new Set(apiRoutes().map((r) => `${r.method} ${r.path}`));
  const keys = ROUTE_RULES.map((r) => `${r.method} ${r.path}`);
  assert.deepEqual(
    keys.filter((k) => !routes.has(k)),
    [],
    'rules for routes that do not exist',
  );
  assert.equal(new Set(keys).size, keys.length, 'a route has two rules');
});

test('only the health check is public, and every POST that needs more than read is audited', () => {
  assert.deepEqual(
    ROUTE_RULES.filter((r) => r.permission === 'public').map((r) => r.path),
    ['/v1/health'],
  );
  for (const r of ROUTE_RULES.filter((r) => r.method === 'POST' && r.permission !== 'read'))
    assert.ok(r.verb, `${r.method} ${r.path} changes something but has no audit verb`);
});

test('matchRule finds the rule and its parameters; an unknown path has none', () => {
  const m = matchRule('POST', '/v1/services/web/rollout/promote');
  assert.equal(m?.rule.path, '/v1/services/:name/rollout/:action');
  assert.deepEqual(m?.params, { name: 'web', action: 'promote' });
  assert.equal(matchRule('GET', '/v1/services/web/rollback'), null);
  assert.equal(matchRule('DELETE', '/v1/services'), null);
});

test('README.md shows the role table generated from the rules', () => {
  const readme = readFileSync(README, 'utf8');
  const m = /<!-- role-table:begin -->\n+([\s\S]*?)\n+<!-- role-table:end -->/.exec(readme);
  assert.ok(m, 'README.md has no role-table markers');
  assert.equal(m[1], roleTable(), 'README.md role table is stale: run `hotswap token roles`');
});
