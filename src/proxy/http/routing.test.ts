// Routing: sticky splits, forced revisions, several services on one listener by host and path.
import assert from 'node:assert/strict';
import http from 'node:http';
import { test } from 'node:test';
import { HotswapError } from '../../errors.js';
import type { OverrideConfig } from '../types.js';
import {
  freePort,
  json,
  request,
  startProxy,
  startUpstream,
  type EchoReply,
  type Reply,
  type RequestOptions,
  type TestProxy,
  cleanupAfterAll,
} from '../test-support.js';

const cleanup = cleanupAfterAll();
const agent = new http.Agent({ keepAlive: true, maxSockets: 32 });
cleanup(() => Promise.resolve(agent.destroy()));

/** Revisions 1 (backend a) and 2 (backend b) of service "web", with these routing settings. */
async function twoRevisions(
  sticky?: { cookie?: string; header?: string },
  opts: { override?: OverrideConfig | null; fastPath?: boolean } = {},
): Promise<TestProxy & { port: number }> {
  const p = await startProxy(undefined, { fastPath: opts.fastPath ?? true });
  cleanup(() => p.proxy.close());
  const a = await startUpstream('a');
  const b = await startUpstream('b');
  cleanup(
    () => a.close(),
    () => b.close(),
  );
  const port = await freePort();
  await p.client.ensureService('web', {
    listen: `127.0.0.1:${port}`,
    sticky,
    override: opts.override ?? null,
  });
  await p.client.addBackend('web', { id: 'a', revision: 1, address: a.address });
  await p.client.addBackend('web', { id: 'b', revision: 2, address: b.address });
  return { ...p, port };
}

async function who(port: number, opts: RequestOptions = {}): Promise<string> {
  const reply = await request(port, { agent, ...opts });
  assert.equal(reply.status, 200);
  return json<EchoReply>(reply).name;
}

/** Runs fn over items, 32 at a time. */
async function parallel<T, R>(items: T[], fn: (item: T) => Promise<R>): Promise<R[]> {
  const out: R[] = new Array<R>(items.length);
  let next = 0;
  await Promise.all(
    Array.from({ length: 32 }, async () => {
      while (next < items.length) {
        const i = next++;
        out[i] = await fn(items[i]!);
      }
    }),
  );
  return out;
}

const users = (n: number, tag: string): string[] =>
  Array.from({ length: n }, (_, i) => `${tag}-${i}`);

test('sticky cookie: one client stays on one revision; 2,000 clients split 30/70 within 3 points', async () => {
  const p = await twoRevisions({ cookie: 'sid' });
  await p.client.setWeights('web', { '1': 50, '2': 50 });
  const one = await parallel(Array.from({ length: 1000 }), () =>
    who(p.port, { headers: { cookie: 'theme=dark; sid=user-42' } }),
  );
  assert.equal(new Set(one).size, 1, 'every request of one client on one revision');

  await p.client.setWeights('web', { '1': 30, '2': 70 });
  const names = await parallel(users(2000, 'u'), (u) =>
    who(p.port, { headers: { cookie: `sid=${u}` } }),
  );
  const share = names.filter((n) => n === 'a').length / names.length;
  assert.ok(Math.abs(share - 0.3) <= 0.03, `revision 1 got ${(share * 100).toFixed(1)} %`);
});

test('sticky: raising the canary weight keeps its users on it', async () => {
  const p = await twoRevisions({ cookie: 'sid' });
  const ids = users(1000, 'c');
  await p.client.setWeights('web', { '1': 90, '2': 10 });
  const before = await parallel(ids, (u) => who(p.port, { headers: { cookie: `sid=${u}` } }));
  await p.client.setWeights('web', { '1': 50, '2': 50 });
  const afterRaise = await parallel(ids, (u) => who(p.port, { headers: { cookie: `sid=${u}` } }));
  const canaryBefore = ids.filter((_, i) => before[i] === 'b');
  assert.ok(
    canaryBefore.length > 60 && canaryBefore.length < 140,
    `${canaryBefore.length} on the canary at 10 %`,
  );
  for (let i = 0; i < ids.length; i++) {
    if (before[i] === 'b') assert.equal(afterRaise[i], 'b', `${ids[i]} left the canary`);
  }
  const canaryAfter = afterRaise.filter((n) => n === 'b').length;
  assert.ok(
    Math.abs(canaryAfter / ids.length - 0.5) <= 0.04,
    `${canaryAfter} on the canary at 50 %`,
  );
});

test('sticky: a missing cookie is generated, set, and then sticks; a header works too', async () => {
  const p = await twoRevisions({ cookie: 'sid' });
  await p.client.setWeights('web', { '1': 50, '2': 50 });
  const first: Reply = await request(p.port, { agent });
  const setCookie = first.headers['set-cookie'];
  assert.ok(setCookie !== undefined && setCookie.length === 1, JSON.stringify(setCookie));
  assert.match(setCookie[0]!, /^sid=[0-9a-f-]{36}; Path=\/; HttpOnly; SameSite=Lax$/);
  const cookie = setCookie[0]!.split(';')[0]!;
  const name = json<EchoReply>(first).name;
  for (let i = 0; i < 50; i++) {
    const reply = await request(p.port, { agent, headers: { cookie } });
    assert.equal(json<EchoReply>(reply).name, name);
    assert.equal(reply.headers['set-cookie'], undefined, 'set only when missing');
  }

  const h = await twoRevisions({ header: 'x-user' });
  await h.client.setWeights('web', { '1': 50, '2': 50 });
  const seen = new Set(
    await parallel(Array.from({ length: 200 }), () =>
      who(h.port, { headers: { 'x-user': 'alice' } }),
    ),
  );
  assert.equal(seen.size, 1);
  // Without the header, the per-request split applies and no cookie is set.
  const plain = await request(h.port, { agent });
  assert.equal(plain.headers['set-cookie'], undefined);
});

/** Two revisions behind a proxy on the given engine, with a routing override; all on r1. */
async function overridden(
  fastPath: boolean,
  override: OverrideConfig | null,
): Promise<TestProxy & { port: number }> {
  const p = await twoRevisions(undefined, { override, fastPath });
  await p.client.setWeights('web', { '1': 100, '2': 0 });
  return p;
}

for (const fastPath of [true, false]) {
  const engine = fastPath ? 'fast path' : 'full path';

  test(`${engine}: without routing.override no header or cookie reaches a revision at weight 0`, async () => {
    const p = await overridden(fastPath, null);
    for (const headers of [
      { 'x-hotswap-revision': '2' },
      { cookie: 'hotswap-revision=2' },
      { 'x-try': '2', cookie: 'try=2' },
    ]) {
      const reply = json<EchoReply>(await request(p.port, { agent, headers }));
      assert.equal(reply.name, 'a', JSON.stringify(headers));
    }
  });

  test(`${engine}: routing.override forces a revision, is stripped, and is not counted`, async () => {
    const p = await overridden(fastPath, { header: 'x-try', cookie: 'try' });
    const byHeader = json<EchoReply>(await request(p.port, { agent, headers: { 'x-try': '2' } }));
    assert.equal(byHeader.name, 'b');
    assert.equal(byHeader.headers['x-try'], undefined, 'the header never reaches the app');
    const byCookie = json<EchoReply>(
      await request(p.port, { agent, headers: { cookie: 'sid=7; try=2; theme=dark' } }),
    );
    assert.equal(byCookie.name, 'b');
    assert.equal(byCookie.headers.cookie, 'sid=7; theme=dark', 'only the override cookie goes');
    const onlyCookie = json<EchoReply>(
      await request(p.port, { agent, headers: { cookie: 'try=2' } }),
    );
    assert.equal(onlyCookie.headers.cookie, undefined);
    // A revision without an active backend, or a value that is not one, falls back to the weights.
    for (const value of ['3', 'two', '2:x']) {
      assert.equal(await who(p.port, { headers: { 'x-try': value } }), 'a', value);
    }
    const stats = await p.client.stats('web');
    assert.equal(stats.revisions['2']?.requests ?? 0, 0, 'forced requests are not the canary');
    assert.equal(stats.revisions['1']?.requests, 3);
  });

  test(`${engine}: routing.override with a secret needs "revision:secret"`, async () => {
    const secret = 'correct-horse-battery';
    const p = await overridden(fastPath, { header: 'x-try', secret });
    assert.equal(await who(p.port, { headers: { 'x-try': '2' } }), 'a');
    assert.equal(await who(p.port, { headers: { 'x-try': '2:wrong-horse-battery' } }), 'a');
    assert.equal(await who(p.port, { headers: { 'x-try': `2:${secret}` } }), 'b');
  });
}

test('routing.override is checked: names are tokens, a secret has 16+ characters', async () => {
  const p = await startProxy();
  cleanup(() => p.proxy.close());
  const port = await freePort();
  await assert.rejects(
    p.client.ensureService('web', {
      listen: `127.0.0.1:${port}`,
      override: { secret: 'x'.repeat(20) },
    }),
    /override.*needs a cookie or a header name \(or null for no override\)/,
  );
  await assert.rejects(
    p.client.ensureService('web', {
      listen: `127.0.0.1:${port}`,
      override: { header: 'x-try', secret: 'short' },
    }),
    /override\.secret.*16 to 256/,
  );
});

test('several services on one listener: host, then longest path prefix; no match is a 404', async () => {
  const p = await startProxy();
  cleanup(() => p.proxy.close());
  const port = await freePort();
  const listen = `127.0.0.1:${port}`;
  const services: [string, { hosts?: string[]; pathPrefix?: string }][] = [
    ['api', { hosts: ['api.example.com'] }],
    ['wild', { hosts: ['*.example.com'] }],
    ['static', { pathPrefix: '/static' }],
    ['assets', { pathPrefix: '/static/img/' }],
    ['v2', { hosts: ['api.example.com'], pathPrefix: '/v2' }],
  ];
  for (const [name, rules] of services) {
    const up = await startUpstream(name);
    cleanup(() => up.close());
    await p.client.ensureService(name, { listen, ...rules });
    await p.client.addBackend(name, { id: name, revision: 1, address: up.address });
  }
  const route = (host: string, path: string) => who(port, { path, headers: { host } });
  assert.equal(await route('api.example.com', '/'), 'api');
  assert.equal(await route('API.example.com:8080', '/static/x'), 'api', 'host beats path');
  assert.equal(await route('api.example.com', '/v2/users'), 'v2');
  assert.equal(await route('api.example.com', '/v2x'), 'api');
  assert.equal(await route('shop.example.com', '/'), 'wild');
  assert.equal(await route('a.b.example.com', '/static/x'), 'wild');
  assert.equal(await route('other.test', '/static'), 'static');
  assert.equal(await route('other.test', '/static/img/logo.png'), 'assets');
  assert.equal(await route('other.test', '/static?v=1'), 'static');
  const none = await request(port, { agent, path: '/staticx', headers: { host: 'example.com' } });
  assert.equal(none.status, 404);
  assert.match(
    none.body.toString(),
    /^hotswap: no service for host "example.com" and path "\/staticx"/,
  );

  // A catch-all takes what nobody else matched.
  const site = await startUpstream('site');
  cleanup(() => site.close());
  await p.client.ensureService('site', { listen });
  await p.client.addBackend('site', { id: 'site', revision: 1, address: site.address });
  assert.equal(await route('example.com', '/staticx'), 'site');
  assert.equal(await route('api.example.com', '/'), 'api');

  // Same rules twice on one address are ambiguous.
  await assert.rejects(
    p.client.ensureService('dup', { listen, hosts: ['API.example.com'] }),
    (e: HotswapError) => e.code === 'CONFLICT' && e.message.startsWith('listen:'),
  );
  // Removing one service leaves the others on the listener.
  await p.client.removeService('api');
  assert.equal(await route('api.example.com', '/'), 'wild');
  assert.equal((await p.client.table()).services.v2!.hosts?.[0], 'api.example.com');
});

test('service config is validated field by field and shown with defaults in the table', async () => {
  const p = await startProxy();
  cleanup(() => p.proxy.close());
  const port = await freePort();
  const listen = `127.0.0.1:${port}`;
  const bad = async (config: Record<string, unknown>, field: string) =>
    assert.rejects(
      p.client.ensureService('web', { listen, ...config }),
      (e: HotswapError) => e.code === 'PROXY_REJECTED' && e.message.startsWith(`${field}:`),
    );
  await bad({ mode: 'udp' }, 'mode');
  await bad({ hosts: ['bad host'] }, 'hosts.0');
  await bad({ pathPrefix: 'api' }, 'pathPrefix');
  await bad({ sticky: {} }, 'sticky');
  await bad({ sticky: { cookie: 'a b' } }, 'sticky.cookie');
  await bad({ longConnections: { policy: 'drop', timeoutMs: 1 } }, 'longConnections.policy');
  await bad({ longConnections: { policy: 'keep' } }, 'longConnections.timeoutMs');
  await bad({ maxBodyBytes: -1 }, 'maxBodyBytes');
  await p.client.ensureService('web', { listen, pathPrefix: '/api/', sticky: { cookie: 'sid' } });
  const route = (await p.client.table()).services.web!;
  assert.deepEqual(
    { ...route, weights: undefined, backends: undefined },
    {
      listen,
      mode: 'http',
      pathPrefix: '/api',
      sticky: { cookie: 'sid' },
      longConnections: { policy: 'keep', timeoutMs: 30_000 },
      maxBodyBytes: 100 * 1024 * 1024,
      weights: undefined,
      backends: undefined,
    },
  );
});
