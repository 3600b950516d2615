// The API's gate, against the real hono app and a real store (the controller is a recorder):
// who gets 401, who gets 403, and what the audit chain records.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { Tokens } from '../security/index.js';
import { testApi } from '../security/test-support.js';
import { parseToken } from '../security/token-format.js';

const SPEC = `services:
  web: { image: 'img:v1', port: 80, listen: '127.0.0.1:18080' }
  api: { image: 'img:v1', port: 80, listen: '127.0.0.1:18081' }
`;
const apply = (service?: string) => ({ file: '/tmp/hotswap.yaml', text: SPEC, service });

test('the unix socket is admin without a token; TCP without a token is 401, audited', async () => {
  const t = testApi();
  const local = await t.request('local', 'POST', '/v1/down', { body: {} });
  assert.equal(local.status, 200, local.text);
  const remote = await t.request('remote', 'POST', '/v1/down', { body: {} });
  assert.equal(remote.status, 401);
  assert.equal((remote.body as { code: string }).code, 'UNAUTHENTICATED');
  assert.deepEqual(t.calls, ['down *']);
  const audit = t.store.audit.all();
  assert.equal(audit.length, 2);
  assert.match(audit[0]!.actor, /^local:/);
  assert.equal(audit[0]!.outcome, 'ok');
  assert.equal(audit[1]!.actor, 'anonymous');
  assert.match(audit[1]!.outcome, /^denied 401/);
});

test('malformed, wrong, revoked and expired tokens are 401 with a reason', async () => {
  const t = testApi();
  const { token, info } = t.security.tokens.create({ role: 'admin', name: 'ops' }, 'test');
  const wrong = token.slice(0, -4) + (token.endsWith('AAAA') ? 'BBBB' : 'AAAA');
  const cases: Array<[string, RegExp]> = [
    ['nonsense', /malformed token/],
    [wrong, /invalid token/],
    ['hst_000000000000_' + 'A'.repeat(43), /invalid token/],
  ];
  for (const [bad, why] of cases) {
    const r = await t.request('remote', 'GET', '/v1/tokens', { token: bad });
    assert.equal(r.status, 401, bad);
    assert.match((r.body as { message: string }).message, why);
  }
  assert.equal((await t.request('remote', 'GET', '/v1/tokens', { token })).status, 200);
  t.security.tokens.revoke(info.name);
  const revoked = await t.request('remote', 'GET', '/v1/tokens', { token });
  assert.equal(revoked.status, 401);
  assert.match((revoked.body as { message: string }).message, /revoked/);
  assert.equal(t.store.audit.all().filter((e) => e.outcome.startsWith('denied 401')).length, 4);
});

test('an expired token is refused', async () => {
  const t = testApi();
  const { token } = t.security.tokens.create({ role: 'viewer', expires: '1m' }, 'test');
  assert.equal((await t.request('remote', 'GET', '/v1/services', { token })).status, 200);
  t.security.tokens = new Tokens(t.store, () => new Date(Date.now() + 2 * 60_000)); // 2 min later
  const r = await t.request('remote', 'GET', '/v1/services', { token });
  assert.equal(r.status, 401);
  assert.match((r.body as { message: string }).message, /expired at/);
});

test('a viewer reads but may not deploy (403, audited); the controller is never called', async () => {
  const t = testApi();
  const { token } = t.security.tokens.create({ role: 'viewer', name: 'eyes' }, 'test');
  assert.equal((await t.request('remote', 'GET', '/v1/services', { token })).status, 200);
  const r = await t.request('remote', 'POST', '/v1/apply', { token, body: apply() });
  assert.equal(r.status, 403);
  assert.match((r.body as { message: string }).message, /eyes.*viewer.*needs the deployer role/);
  assert.deepEqual(t.calls, []);
  const [entry] = t.store.audit.all();
  assert.equal(entry?.actor, 'token:eyes');
  assert.equal(entry?.verb, 'up');
  assert.equal(entry?.service, 'web,api');
  assert.match(entry?.specHash ?? '', /^sha256:[0-9a-f]{64}$/);
  assert.match(entry?.outcome ?? '', /^denied 403/);
});

test('a deployer scoped to web deploys web, not api, and may not down', async () => {
  const t = testApi();
  const { token } = t.security.tokens.create(
    { role: 'deployer', services: ['web'], name: 'ci-web' },
    'test',
  );
  const web = await t.request('remote', 'POST', '/v1/apply', { token, body: apply('web') });
  assert.equal(web.status, 200, web.text);
  const both = await t.request('remote', 'POST', '/v1/apply', { token, body: apply() });
  assert.equal(both.status, 403);
  assert.match((both.body as { message: string }).message, /only web, not api/);
  const api = await t.request('remote', 'POST', '/v1/services/api/rollback', { token, body: {} });
  assert.equal(api.status, 403);
  const ok = await t.request('remote', 'POST', '/v1/services/web/rollout/pause', { token });
  assert.equal(ok.status, 200, ok.text);
  const down = await t.request('remote', 'POST', '/v1/down', { token, body: { service: 'web' } });
  assert.equal(down.status, 403);
  const tokens = await t.request('remote', 'GET', '/v1/tokens', { token });
  assert.equal(tokens.status, 403);
  assert.deepEqual(t.calls, ['apply web', 'pause web']);
  await new Promise((r) => setTimeout(r, 10)); // stream outcomes are recorded when they settle
  const verbs = t.store.audit
    .all()
    .map((e) => `${e.verb} ${e.service ?? '-'} ${e.outcome.slice(0, 10)}`);
  assert.deepEqual(verbs, [
    'up web ok',
    'up web,api denied 403',
    'rollback api denied 403',
    'rollout.pause web ok',
    'down - denied 403',
    'GET /v1/tokens - denied 403',
  ]);
});

test('token create over the API: admin only, secret shown once, never listed', async () => {
  const t = testApi();
  const created = await t.request('local', 'POST', '/v1/tokens', {
    body: { role: 'deployer', services: ['web'], name: 'ci' },
  });
  assert.equal(created.status, 200, created.text);
  const { token } = created.body as { token: string };
  // Not split('_'): a base64url secret may itself hold '_', and a fragment can be found anywhere.
  const secret = parseToken(token)?.secret;
  assert.ok(secret !== undefined, token);
  const list = await t.request('local', 'GET', '/v1/tokens');
  assert.ok(!list.text.includes(secret), 'the secret must never be listed');
  assert.ok(!list.text.includes('secretSha256'));
  const bad = await t.request('local', 'POST', '/v1/tokens', {
    body: { role: 'viewer', services: ['web'] },
  });
  assert.equal(bad.status, 400);
  assert.match((bad.body as { message: string }).message, /only a deployer token is scoped/);
  const badRole = await t.request('local', 'POST', '/v1/tokens', { body: { role: 'root' } });
  assert.match(
    (badRole.body as { message: string }).message,
    /expected one of viewer, deployer, admin/,
  );
  const entries = t.store.audit.all();
  assert.equal(entries[0]!.verb, 'token.create');
  assert.equal(entries[0]!.outcome, 'ok: token "ci" (deployer of web)');
  assert.ok(!JSON.stringify(entries).includes(parseToken(token)!.secret), 'no secret in the audit');
});

test('audit verify over the API finds a chain intact, with a signed head', async () => {
  const t = testApi();
  await t.request('local', 'POST', '/v1/down', { body: {} });
  await t.request('local', 'POST', '/v1/down', { body: {} });
  const r = await t.request('local', 'GET', '/v1/audit/verify');
  assert.equal(r.status, 200);
  assert.equal((r.body as { ok: boolean; entries: number }).ok, true);
  assert.equal((r.body as { entries: number }).entries, 2);
});

test('scope is checked on a pre-checked spec body too, and fails closed when it cannot be told', async () => {
  const t = testApi();
  const { token } = t.security.tokens.create({ role: 'deployer', services: ['web'] }, 'test');
  const checked = { spec: { file: '/tmp/x.yaml', services: [{ name: 'api', image: 'i' }] } };
  const r = await t.request('remote', 'POST', '/v1/apply', { token, body: checked });
  assert.equal(r.status, 403);
  assert.match((r.body as { message: string }).message, /only web, not api/);
  const bad = await t.request('remote', 'POST', '/v1/apply', {
    token,
    body: { file: '/tmp/x.yaml', text: 'services: [' },
  });
  assert.equal(bad.status, 403);
  assert.match((bad.body as { message: string }).message, /cannot be told/);
  assert.deepEqual(t.calls, []);
});

test('over TCP a path with no rule is 404 and reaches no handler', async () => {
  const t = testApi();
  const { token } = t.security.tokens.create({ role: 'admin' }, 'test');
  const r = await t.request('remote', 'POST', '/v1/no-such-thing', { token, body: {} });
  assert.equal(r.status, 404);
});

test('a body over the limit is refused before any token or handler work', async () => {
  const t = testApi();
  const r = await t.request('remote', 'POST', '/v1/apply', {
    body: { file: '/x', text: 'x'.repeat(17 * 1024 * 1024) },
  });
  assert.equal(r.status, 413);
  assert.deepEqual(t.calls, []);
});

test("a remote caller's spec text gets neither the daemon's variables nor its files", async () => {
  const t = testApi();
  const { token } = t.security.tokens.create({ role: 'deployer' }, 'test');
  const text = (extra: string) =>
    `services:\n  web:\n    image: img:v1\n    port: 80\n    listen: 127.0.0.1:18080\n${extra}`;
  process.env.HOTSWAP_TEST_DAEMON_SECRET = 'daemon-only';
  const vars = await t.request('remote', 'POST', '/v1/apply', {
    token,
    body: { file: '/tmp/x.yaml', text: text('    env: { X: "${HOTSWAP_TEST_DAEMON_SECRET}" }\n') },
  });
  assert.equal(vars.status, 400, vars.text);
  assert.match(vars.text, /HOTSWAP_TEST_DAEMON_SECRET is not set/);
  const file = await t.request('remote', 'POST', '/v1/apply', {
    token,
    body: { file: '/tmp/x.yaml', text: text('    envFile: /etc/passwd\n') },
  });
  assert.equal(file.status, 422, file.text);
  assert.match(file.text, /envFile: \\"\/etc\/passwd\\" is outside the allowed roots/);
  assert.ok(!file.text.includes('root:'), 'no line of the file comes back');
  assert.deepEqual(t.calls, []);
  // The local owner's spec may use both.
  const local = await t.request('local', 'POST', '/v1/apply', {
    body: { file: '/tmp/x.yaml', text: text('    env: { X: "${HOTSWAP_TEST_DAEMON_SECRET}" }\n') },
  });
  assert.equal(local.status, 200, local.text);
});
