// End to end (issue 15): notifications and alerts on the real engine and proxy. A loopback
// webhook gets rollout started / succeeded with a valid HMAC signature; a webhook that refuses
// and one that hangs do not slow the rollout (the refused one is recorded as failed after its
// retries); an alert rule fires while a revision answers 50% errors under load, notifies, and
// resolves after a rollback; `hotswap alerts` and `hotswap availability` show it all; an
// instance that keeps exiting is notified as a crash loop and fires a `restarts` rule; a rollout
// to a never-healthy image is notified as failed and rolled back, to config.yaml's webhook too.
// The delivery latency (journal time → the receiver got it) is printed.
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import type { Availability } from '../../src/alerts/index.js';
import { LoadGenerator } from '../../src/assess/index.js';
import { homePaths } from '../../src/daemon/paths.js';
import { verifySignature } from '../../src/notify/index.js';
import type { AlertRecord } from '../../src/store/index.js';
import { freePort, hotswap } from '../helpers/cli.js';
import { cleanupScope, ensureFixtures, requireEngine } from '../helpers/docker.js';
import { waitFor } from '../helpers/load.js';

const SECRET = 'e2e-secret-0123456789';

interface Got {
  event: string;
  at: string;
  message: string;
  receivedMs: number;
  signed: boolean;
}

interface AlertsJson {
  firing: AlertRecord[];
  history: AlertRecord[];
  rules: Array<{ rule: string; status: string }>;
  deliveries: Array<{
    event: string;
    url: string;
    state: string;
    attempts: number;
    lastError: string | null;
  }>;
}

function specText(o: {
  port: number;
  hook: string;
  refused: string;
  hanging: string;
  image: string;
  errors: number;
  crashAfterS?: number;
  deadline?: string;
}): string {
  return `services:
  web:
    image: ${o.image}
    replicas: 1
    port: 8080
    listen: 127.0.0.1:${o.port}
    env: { ERROR_PERCENT: "${o.errors}"${o.crashAfterS ? `, CRASH_AFTER_S: "${o.crashAfterS}"` : ''} }
    health: { http: /healthz, interval: 200ms, deadline: ${o.deadline ?? '15s'} }
    strategy: { type: rolling, maxSurge: 1, maxUnavailable: 0 }
    drain: { timeout: 2s }
    stopGracePeriod: 2s
    notify:
      - { webhook: "${o.hook}", secret: ${SECRET} }
      - { webhook: "${o.refused}", retries: 1, timeout: 2s }
      - { webhook: "${o.hanging}", retries: 1, timeout: 20s, events: [rollout.started] }
    alerts:
      - { name: errors, when: "errorRate > 10%", for: 1s, window: 3s }
      - { name: restarts, when: "restarts > 1", for: 0s, window: 1m }
`;
}

/** The rollout's own duration from `up --json` (its NDJSON result line). */
function rolloutMs(ndjson: string): number {
  const last = JSON.parse(ndjson.trim().split('\n').at(-1)!) as {
    result: Array<{ durationMs: number }>;
  };
  return last.result[0]!.durationMs;
}

describe('notifications and alerts on the real engine', () => {
  const home = mkdtempSync(join(tmpdir(), 'hotswap-e2e-alerts-'));
  const file = join(mkdtempSync(join(tmpdir(), 'hotswap-e2e-alerts-spec-')), 'hotswap.yaml');
  const got: Got[] = [];
  const daemonGot: string[] = [];
  const servers: http.Server[] = [];
  const saved = process.env['HOTSWAP_ALERT_INTERVAL'];
  let spec = (_image: string, _errors: number, _crashAfterS?: number, _deadline?: string): string =>
    '';
  let port = 0;

  async function listen(handler: http.RequestListener): Promise<string> {
    const s = http.createServer(handler);
    servers.push(s);
    await new Promise<void>((r) => s.listen(0, '127.0.0.1', r));
    return `http://127.0.0.1:${(s.address() as AddressInfo).port}/hook`;
  }

  const alerts = async (): Promise<AlertsJson> =>
    JSON.parse((await hotswap(home, ['alerts', '--json'])).stdout) as AlertsJson;
  const received = (event: string): Got | undefined => got.find((g) => g.event === event);

  before(async () => {
    await requireEngine();
    await ensureFixtures();
    process.env['HOTSWAP_ALERT_INTERVAL'] = '500ms'; // the daemon the CLI starts inherits it
    port = await freePort();
    const hook = await listen((req, res) => {
      let body = '';
      req.on('data', (c: Buffer) => (body += c.toString()));
      req.on('end', () => {
        const doc = JSON.parse(body) as { event: string; at: string; message: string };
        got.push({
          ...doc,
          receivedMs: Date.now(),
          signed: verifySignature(SECRET, body, req.headers['x-hotswap-signature'] as string, {
            toleranceSec: 300,
          }),
        });
        res.end('ok');
      });
    });
    const hanging = await listen(() => undefined); // reads the request, never answers
    // config.yaml's webhook: told about every service.
    const daemonHook = await listen((req, res) => {
      let body = '';
      req.on('data', (c: Buffer) => (body += c.toString()));
      req.on('end', () => {
        daemonGot.push((JSON.parse(body) as { event: string }).event);
        res.end('ok');
      });
    });
    writeFileSync(
      join(home, 'config.yaml'),
      `notify:\n  - { webhook: "${daemonHook}", events: [rollout.succeeded, rollout.failed] }\n`,
    );
    const refused = `http://127.0.0.1:${await freePort()}/hook`;
    spec = (image, errors, crashAfterS, deadline) =>
      specText({ port, hook, refused, hanging, image, errors, crashAfterS, deadline });
  });

  after(async () => {
    await hotswap(home, ['down']);
    await cleanupScope(homePaths(home).scope);
    for (const s of servers) {
      s.closeAllConnections();
      s.close();
    }
    if (saved === undefined) delete process.env['HOTSWAP_ALERT_INTERVAL'];
    else process.env['HOTSWAP_ALERT_INTERVAL'] = saved;
  });

  test('rollout started and succeeded reach the webhook signed; dead webhooks do not slow it', async () => {
    writeFileSync(file, spec('hotswap-fixture:v1', 0));
    const up = await hotswap(home, ['up', '-f', file, '--json']);
    assert.equal(up.code, 0, up.stderr + up.stdout);
    // When `up` returns, the hanging webhook still holds its first attempt (20 s timeout).
    const atEnd = await alerts();
    const hangingRow = atEnd.deliveries.find(
      (d) => d.event === 'rollout.started' && d.state === 'pending' && d.attempts === 0,
    );
    assert.ok(
      hangingRow,
      `the hanging delivery is still pending: ${JSON.stringify(atEnd.deliveries)}`,
    );
    console.log(
      `first deploy with a hanging and a refusing webhook: rollout ${rolloutMs(up.stdout)} ms (\`up\` with the daemon's start: ${up.ms} ms)`,
    );
    const started = await waitFor(
      'rollout.started',
      () => Promise.resolve(received('rollout.started')),
      5000,
    );
    const succeeded = await waitFor(
      'rollout.succeeded',
      () => Promise.resolve(received('rollout.succeeded')),
      5000,
    );
    assert.ok(started.signed && succeeded.signed, 'the signatures verify');
    assert.match(started.message, /^web: rollout #1 started: r- → r1/);
    assert.match(succeeded.message, /^web: rollout #1 succeeded: r1 serves/);
    await waitFor(
      "config.yaml's webhook",
      () => Promise.resolve(daemonGot.includes('rollout.succeeded')),
      5000,
    );
    assert.ok(
      !daemonGot.includes('rollout.started'),
      "config.yaml's webhook asked for two events only",
    );
    // The refusing webhook: tried twice (retries: 1), then recorded as failed.
    const failed = await waitFor(
      'the refused deliveries to fail',
      async () => {
        const rows = (await alerts()).deliveries.filter((d) => d.lastError === 'ECONNREFUSED');
        return rows.length >= 2 && rows.every((d) => d.state === 'failed') && rows;
      },
      15_000,
    );
    assert.ok(failed.every((d) => d.attempts === 2));
  });

  test('an alert fires on a failing revision, notifies, and resolves after a rollback', async () => {
    const load = new LoadGenerator({
      url: `http://127.0.0.1:${port}/`,
      ratePerSec: 50,
      connections: 'keep-alive',
      maxDurationMs: 90_000,
    });
    load.start();
    try {
      writeFileSync(file, spec('hotswap-fixture:v1', 50));
      const up = await hotswap(home, ['up', '-f', file, '--json']);
      assert.equal(up.code, 0, up.stderr + up.stdout);
      const upDone = Date.now();
      console.log(`rolling update r1 → r2 with the same dead webhooks: ${rolloutMs(up.stdout)} ms`);
      const firing = await waitFor(
        'alert.firing',
        () => Promise.resolve(received('alert.firing')),
        20_000,
      );
      assert.ok(firing.signed);
      console.log(
        `alert.firing received ${firing.receivedMs - upDone} ms after \`up\` to r2 returned`,
      );
      assert.match(
        firing.message,
        /^web: alert errors firing: errorRate \d+(\.\d+)?% \(errorRate > 10% over 3s\)/,
      );
      const a = await alerts();
      assert.equal(a.firing.length, 1);
      assert.equal(a.rules.find((r) => r.rule === 'errors')?.status, 'firing');

      const back = await hotswap(home, ['rollback', 'web']);
      assert.equal(back.code, 0, back.stderr + back.stdout);
      const backDone = Date.now();
      const rolledBack = await waitFor(
        'rollout.rolled-back',
        () => Promise.resolve(received('rollout.rolled-back')),
        10_000,
      );
      assert.match(rolledBack.message, /^web: rolled back to r1/);
      const resolved = await waitFor(
        'alert.resolved',
        () => Promise.resolve(received('alert.resolved')),
        20_000,
      );
      assert.match(resolved.message, /^web: alert errors resolved after /);
      console.log(
        `alert.resolved received ${resolved.receivedMs - backDone} ms after \`rollback\` returned`,
      );
      assert.equal((await alerts()).firing.length, 0);
    } finally {
      await load.stop();
    }

    const text = await hotswap(home, ['alerts']);
    assert.equal(text.code, 0, text.stderr);
    assert.match(text.stdout, /errors\s+errorRate > 10%/);
    const av = await hotswap(home, ['availability', 'web', '--since', '1h', '--json']);
    assert.equal(av.code, 0, av.stderr + av.stdout);
    const report = JSON.parse(av.stdout) as Availability;
    assert.ok(report.requests.failed > 0 && report.requests.successShare! < 1);
    assert.ok(report.minutes.withFailures >= 1);
    const kinds = report.incidents.map((i) => i.kind);
    assert.ok(kinds.includes('alert') && kinds.includes('rollback'), kinds.join(', '));
    assert.ok(report.mttrMs !== null && report.mttrMs > 0);
    console.log((await hotswap(home, ['availability', 'web', '--since', '1h'])).stdout);

    const latencies = got.map((g) => g.receivedMs - Date.parse(g.at)).sort((x, y) => x - y);
    console.log(
      `notification latency (journal entry → webhook received), ${latencies.length} deliveries: ` +
        `p50 ${latencies[Math.floor(latencies.length / 2)]} ms, max ${latencies.at(-1)} ms`,
    );
    assert.ok(
      latencies.every((l) => l < 2000),
      `every delivery within 2 s: ${latencies.join(', ')}`,
    );
  });

  test('a rollout to a never-healthy image: failed and rolled back, both notified', async () => {
    writeFileSync(file, spec('hotswap-fixture:bad', 0, undefined, '3s'));
    const up = await hotswap(home, ['up', '-f', file]);
    assert.equal(up.code, 3, up.stderr + up.stdout);
    const failed = await waitFor(
      'rollout.failed',
      () => Promise.resolve(received('rollout.failed')),
      10_000,
    );
    assert.match(failed.message, /^web: rollout #\d+ failed: /);
    const rolledBack = got.filter((g) => g.event === 'rollout.rolled-back').at(-1)!;
    assert.match(rolledBack.message, /rolled back: traffic is on r1 again/);
    await waitFor(
      "config.yaml's webhook",
      () => Promise.resolve(daemonGot.includes('rollout.failed')),
      5000,
    );
    const av = JSON.parse(
      (await hotswap(home, ['availability', 'web', '--json'])).stdout,
    ) as Availability;
    assert.ok(av.incidents.some((i) => i.kind === 'failed-rollout' && i.ttrMs !== null));
  });

  test('a crash loop is notified, and a restarts rule fires on self-healing', async () => {
    writeFileSync(file, spec('hotswap-fixture:v1', 0, 3));
    const up = await hotswap(home, ['up', '-f', file]);
    assert.equal(up.code, 0, up.stderr + up.stdout);
    const looping = await waitFor(
      'instance.crash-looping',
      () => Promise.resolve(received('instance.crash-looping')),
      45_000,
    );
    assert.ok(looping.signed);
    assert.match(looping.message, /^web: instances crash-loop: .*3 failures in a row/);
    const restarts = await waitFor(
      'the restarts alert',
      () =>
        Promise.resolve(
          got.find((g) => g.event === 'alert.firing' && g.message.includes('alert restarts')),
        ),
      20_000,
    );
    assert.match(restarts.message, /restarts \d+ \(restarts > 1 over 1m\)/);
  });
});
