import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { Store } from '../store/index.js';
import { NOTIFY_EVENTS, type NotifyTarget } from '../spec/index.js';
import { backoffMs, nextAttemptAt } from './backoff.js';
import { DeliveryLoop } from './delivery.js';
import { Notifier } from './notifier.js';
import { signBody, verifySignature } from './signature.js';

const SECRET = 'a-secret-of-some-length';

test('signature: a receiver verifies the body it got, and nothing else', () => {
  const body = '{"event":"rollout.started"}';
  const header = signBody(SECRET, body, 1_700_000_000);
  assert.match(header, /^t=1700000000,v1=[0-9a-f]{64}$/);
  assert.equal(verifySignature(SECRET, body, header), true);
  assert.equal(verifySignature('another-secret-here', body, header), false);
  assert.equal(verifySignature(SECRET, body.replace('started', 'failed'), header), false);
  assert.equal(
    verifySignature(SECRET, body, header.replace('t=1700000000', 't=1700000001')),
    false,
  );
  assert.equal(verifySignature(SECRET, body, undefined), false);
  assert.equal(verifySignature(SECRET, body, 'v1=zz'), false);
  // A receiver may refuse replays older than its tolerance.
  const opts = { toleranceSec: 300, nowSec: 1_700_000_000 + 301 };
  assert.equal(verifySignature(SECRET, body, header, opts), false);
  assert.equal(verifySignature(SECRET, body, header, { ...opts, nowSec: 1_700_000_100 }), true);
});

test('backoff doubles up to its cap; the last attempt has no next', () => {
  const policy = { baseMs: 1000, maxMs: 10_000 };
  assert.deepEqual(
    [1, 2, 3, 4, 5, 6].map((n) => backoffMs(n, policy)),
    [1000, 2000, 4000, 8000, 10_000, 10_000],
  );
  assert.equal(nextAttemptAt(1, 3, 100, policy), 1100);
  assert.equal(nextAttemptAt(2, 3, 100, policy), 2100);
  assert.equal(nextAttemptAt(3, 3, 100, policy), null);
});

interface Received {
  headers: http.IncomingHttpHeaders;
  body: string;
  atMs: number;
}

async function receiver(
  answer: (req: http.IncomingMessage, res: http.ServerResponse) => void = (_q, r) =>
    void r.end('ok'),
): Promise<{ url: string; got: Received[]; close: () => Promise<void> }> {
  const got: Received[] = [];
  const server = http.createServer((req, res) => {
    let body = '';
    req.on('data', (c: Buffer) => (body += c.toString()));
    req.on('end', () => {
      got.push({ headers: req.headers, body, atMs: Date.now() });
      answer(req, res);
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}/hook`,
    got,
    close: () =>
      new Promise((r) => {
        server.closeAllConnections();
        server.close(() => r());
      }),
  };
}

/** A port that refuses: bound once to learn a free number, then closed. */
async function refusingUrl(): Promise<string> {
  const s = http.createServer();
  await new Promise<void>((r) => s.listen(0, '127.0.0.1', r));
  const { port } = s.address() as AddressInfo;
  await new Promise<void>((r) => s.close(() => r()));
  return `http://127.0.0.1:${port}/hook`;
}

function target(url: string, more: Partial<NotifyTarget> = {}): NotifyTarget {
  return {
    url,
    events: [...NOTIFY_EVENTS],
    format: 'json',
    secret: SECRET,
    timeoutMs: 1000,
    retries: 2,
    ...more,
  };
}

function setup(targets: NotifyTarget[]) {
  const dir = mkdtempSync(join(tmpdir(), 'hotswap-notify-'));
  const store = Store.open(join(dir, 'hotswap.db'));
  const loop = new DeliveryLoop(store, { backoff: { baseMs: 50, maxMs: 200 } }).start();
  const notifier = new Notifier({ store, daemonTargets: targets, enqueued: () => loop.kick() });
  const off = store.journal.observe((e) => notifier.observe(e));
  return {
    store,
    dir,
    loop,
    close: () => {
      off();
      loop.stop();
      store.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

async function until<T>(what: string, fn: () => T | undefined | false, ms = 10_000): Promise<T> {
  const end = Date.now() + ms;
  for (;;) {
    const v = fn();
    if (v) return v;
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

test('a journaled rollout start reaches the webhook signed, within 2 s (figure printed)', async () => {
  const hook = await receiver();
  const env = setup([target(hook.url)]);
  try {
    const latencies: number[] = [];
    for (let i = 0; i < 20; i++) {
      const before = hook.got.length;
      const t0 = Date.now();
      env.store.journal.append({
        service: 'web',
        rolloutId: i + 1,
        event: 'rollout.started',
        data: { from: 1, to: 2, kind: 'update', spec: { name: 'web', env: { TOKEN: 'no' } } },
      });
      const got = await until('the delivery', () => hook.got[before]);
      latencies.push(got.atMs - t0);
    }
    const first = hook.got[0]!;
    assert.equal(first.headers['x-hotswap-event'], 'rollout.started');
    assert.ok(verifySignature(SECRET, first.body, first.headers['x-hotswap-signature'] as string));
    const doc = JSON.parse(first.body) as Record<string, unknown>;
    assert.equal(doc.event, 'rollout.started');
    assert.equal(doc.service, 'web');
    assert.equal(doc.id, first.headers['x-hotswap-delivery']);
    assert.match(String(doc.message), /web: rollout #1 started: r1 → r2 \(update\)/);
    assert.ok(!first.body.includes('TOKEN'), 'the spec (and its env) never leaves the daemon');
    latencies.sort((a, b) => a - b);
    const p50 = latencies[Math.floor(latencies.length / 2)]!;
    const max = latencies.at(-1)!;
    console.log(
      `notification latency on loopback (journal append → receiver): p50 ${p50} ms, max ${max} ms over ${latencies.length}`,
    );
    await until(
      'delivered rows',
      () => env.store.outbox.list({ state: 'delivered' }).length === 20,
    );
  } finally {
    env.close();
    await hook.close();
  }
});

test('events a webhook did not ask for are not sent; other journal entries are not events', async () => {
  const hook = await receiver();
  const env = setup([target(hook.url, { events: ['rollout.failed'], format: 'slack' })]);
  try {
    env.store.journal.append({ service: 'web', event: 'rollout.started', data: {} });
    env.store.journal.append({ service: 'web', event: 'weights.set', data: {} });
    env.store.journal.append({
      service: 'web',
      event: 'rollout.failed',
      data: { reason: 'analysis failed' },
    });
    const got = await until('the delivery', () => hook.got[0]);
    assert.deepEqual(JSON.parse(got.body), { text: ':x: web: rollout #? failed: analysis failed' });
    await new Promise((r) => setTimeout(r, 100));
    assert.equal(hook.got.length, 1);
  } finally {
    env.close();
    await hook.close();
  }
});

test('a refusing, a hanging and an erroring webhook: retried with backoff, then failed; others unaffected', async () => {
  const good = await receiver();
  const hanging = await receiver(() => undefined); // never answers
  const erroring = await receiver((_q, r) => void r.writeHead(500).end());
  const refused = await refusingUrl();
  const env = setup([
    target(refused, { retries: 2 }),
    target(hanging.url, { retries: 1, timeoutMs: 400 }),
    target(erroring.url, { retries: 2 }),
    target(good.url),
  ]);
  try {
    env.store.journal.append({ service: 'web', event: 'service.degraded', data: { reason: 'x' } });
    // The append only enqueued: nothing was sent yet, four rows wait.
    assert.equal(good.got.length + hanging.got.length + erroring.got.length, 0);
    assert.equal(env.store.outbox.list({ state: 'pending' }).length, 4);
    await until('the good delivery', () => good.got[0]);
    // Delivered while the hanging webhook still holds its first attempt.
    const hangingRow = env.store.outbox.list().find((d) => d.url === hanging.url)!;
    assert.equal(hangingRow.state, 'pending');
    assert.equal(hangingRow.attempts, 0);
    const failed = await until('three failed deliveries', () => {
      const f = env.store.outbox.list({ state: 'failed' });
      return f.length === 3 && f;
    });
    const byUrl = new Map(failed.map((d) => [d.url, d]));
    assert.equal(byUrl.get(refused)?.attempts, 3);
    assert.equal(byUrl.get(refused)?.lastError, 'ECONNREFUSED');
    assert.equal(byUrl.get(hanging.url)?.attempts, 2);
    assert.equal(byUrl.get(hanging.url)?.lastError, 'no answer within 400 ms');
    assert.equal(hanging.got.length, 2);
    assert.equal(byUrl.get(erroring.url)?.lastError, 'HTTP 500');
    assert.equal(erroring.got.length, 3);
    // Retries are spaced by the backoff (50 ms, then 100 ms).
    const gaps = erroring.got.slice(1).map((g, i) => g.atMs - erroring.got[i]!.atMs);
    assert.ok(gaps[0]! >= 45 && gaps[1]! >= 95, `backoff gaps ${gaps.join(', ')} ms`);
    assert.equal(env.store.outbox.list({ state: 'delivered' }).length, 1);
  } finally {
    env.close();
    await Promise.all([good.close(), hanging.close(), erroring.close()]);
  }
});

test('a delivery enqueued before a daemon stopped is sent by the next one', async () => {
  const hook = await receiver();
  const dir = mkdtempSync(join(tmpdir(), 'hotswap-notify-'));
  const file = join(dir, 'hotswap.db');
  try {
    // A daemon that journals the event and stops before its loop sends anything.
    const first = Store.open(file);
    const notifier = new Notifier({
      store: first,
      daemonTargets: [target(hook.url)],
      enqueued: () => undefined,
    });
    first.journal.observe((e) => notifier.observe(e));
    first.journal.append({ service: 'web', event: 'rollout.failed', data: { reason: 'boom' } });
    assert.equal(first.outbox.list({ state: 'pending' }).length, 1);
    first.close();
    assert.equal(hook.got.length, 0);
    // The next daemon.
    const second = Store.open(file);
    const loop = new DeliveryLoop(second).start();
    try {
      const got = await until('the delivery after the restart', () => hook.got[0]);
      assert.equal(got.headers['x-hotswap-event'], 'rollout.failed');
      await until('delivered', () => second.outbox.list({ state: 'delivered' }).length === 1);
    } finally {
      loop.stop();
      second.close();
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
    await hook.close();
  }
});
