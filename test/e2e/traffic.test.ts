// Issue 3 end to end, against real containers through hotswap's proxy: long connections on a
// switch (keep and close), SSE flushed event by event, a TCP service updated without a failed
// connection, sticky split, proxy self-upgrade under load and the proxy's restart after a crash.
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import net from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { homePaths } from '../../src/daemon/paths.js';
import { readUntil, wsConnect } from '../../src/proxy/test-support.js';
import { cleanupScope, ensureFixtures, requireEngine } from '../helpers/docker.js';
import { freePort, getText, hotswap, type CliResult } from '../helpers/cli.js';
import { underLoad, waitFor } from '../helpers/load.js';

const home = mkdtempSync(join(tmpdir(), 'hotswap-traffic-'));
const dir = mkdtempSync(join(tmpdir(), 'hotswap-traffic-spec-'));

async function up(name: string, body: string): Promise<CliResult> {
  const file = join(dir, `${name}.yaml`);
  writeFileSync(file, `services:\n  ${name}:\n${body}`);
  return hotswap(home, ['up', '-f', file, '--json']);
}

function result(r: CliResult): { cutConnections: number; outcome: string } {
  const last = JSON.parse(r.stdout.trim().split('\n').at(-1)!) as {
    result: Array<{ cutConnections: number; outcome: string }>;
  };
  return last.result[0]!;
}

const common = `    port: 8080
    health: { http: /healthz, interval: 200ms, healthyThreshold: 2, deadline: 15s }
    strategy: { type: rolling, maxSurge: 1, maxUnavailable: 0 }
    stopGracePeriod: 5s
`;

describe('traffic through the proxy on the real engine', () => {
  before(async () => {
    await requireEngine();
    await ensureFixtures();
  });

  after(async () => {
    await hotswap(home, ['down']);
    await cleanupScope(homePaths(home).scope);
  });

  test('WebSocket under keep: stays on the old instance, is told to reconnect, cut at its budget', async () => {
    const port = await freePort();
    const spec = (image: string, policy: string): string =>
      `    image: ${image}\n    replicas: 1\n    listen: 127.0.0.1:${port}\n${common}    drain:\n      timeout: 5s\n      longConnections: { policy: ${policy}, timeout: 3s }\n      notify: { http: /hotswap/notify, grace: 200ms }\n`;
    assert.equal((await up('ws', spec('hotswap-fixture:v1', 'keep'))).code, 0);
    const ws = await wsConnect(port, '/ws');
    ws.send('a');
    assert.equal(await ws.text(), 'v1:a');
    const t0 = Date.now();
    const rolling = up('ws', spec('hotswap-fixture:v2', 'keep'));
    assert.equal(await ws.text(20_000), 'reconnect', 'the app was told before the cut');
    ws.send('b');
    assert.equal(await ws.text(), 'v1:b', 'still on the old instance while it drains');
    const close = await ws.next(10_000);
    const cutAfter = Date.now() - t0;
    assert.equal(close?.opcode, 8);
    assert.equal(close?.payload.readUInt16BE(0), 1001);
    const r = await rolling;
    assert.equal(r.code, 0, r.stderr);
    assert.equal(result(r).cutConnections, 1);
    console.log(`keep: cut ${cutAfter} ms after the update began`);
    assert.equal((await getText(`http://127.0.0.1:${port}/`)).version, 'v2');

    // close: a new connection on v2 is cut as soon as its instance drains.
    const ws2 = await wsConnect(port, '/ws');
    ws2.send('c');
    assert.equal(await ws2.text(), 'v2:c');
    const rolling2 = up('ws', spec('hotswap-fixture:v1', 'close'));
    let frame = await ws2.next(20_000);
    if (frame?.opcode === 1) frame = await ws2.next(5000); // the drain notice comes first
    assert.equal(frame?.opcode, 8);
    assert.equal(frame?.payload.readUInt16BE(0), 1001);
    assert.equal(result(await rolling2).cutConnections, 1);
  });

  test('SSE events are flushed one by one through the proxy', async () => {
    const port = await freePort();
    assert.equal(
      (
        await up(
          'sse',
          `    image: hotswap-fixture:v1\n    replicas: 1\n    listen: 127.0.0.1:${port}\n${common}`,
        )
      ).code,
      0,
    );
    const arrivals: number[] = [];
    const t0 = Date.now();
    await new Promise<void>((resolve, reject) => {
      http
        .get({ host: '127.0.0.1', port, path: '/events?count=4&interval=300' }, (res) => {
          assert.equal(res.headers['content-type'], 'text/event-stream');
          res.on('data', (chunk: Buffer) => {
            const events = chunk.toString().match(/^data: /gm) ?? [];
            for (let i = 0; i < events.length; i++) arrivals.push(Date.now() - t0);
          });
          res.on('end', resolve);
        })
        .on('error', reject);
    });
    assert.equal(arrivals.length, 4);
    for (let i = 1; i < arrivals.length; i++) {
      assert.ok(
        arrivals[i]! - arrivals[i - 1]! >= 200,
        `event ${i} arrived ${arrivals[i]! - arrivals[i - 1]!} ms after the previous`,
      );
    }
  });

  test('a TCP echo service is updated with no failed connection', async () => {
    const port = await freePort();
    const spec = (image: string): string =>
      `    image: ${image}\n    replicas: 2\n    mode: tcp\n    port: 8080\n    listen: 127.0.0.1:${port}\n    env: { TCP_ECHO: 1 }\n    health: { tcp: true, interval: 200ms, healthyThreshold: 2, deadline: 15s }\n    strategy: { type: rolling, maxSurge: 1, maxUnavailable: 0 }\n    drain: { longConnections: { policy: keep, timeout: 2s } }\n    stopGracePeriod: 5s\n`;
    assert.equal((await up('tcp', spec('hotswap-fixture:v1'))).code, 0);
    const outcomes: Array<string> = [];
    let stop = false;
    const loop = (async () => {
      for (let i = 0; !stop && i < 5000; i++) {
        outcomes.push(await tcpExchange(port, `ping ${i}`));
        await new Promise((r) => setTimeout(r, 20));
      }
    })();
    await new Promise((r) => setTimeout(r, 500));
    const r = await up('tcp', spec('hotswap-fixture:v2'));
    await new Promise((r2) => setTimeout(r2, 500));
    stop = true;
    await loop;
    assert.equal(r.code, 0, r.stderr);
    const failed = outcomes.filter((o) => o.startsWith('error'));
    console.log(`tcp: ${outcomes.length} connections, ${failed.length} failed`);
    assert.ok(outcomes.length > 50);
    assert.deepEqual(failed, []);
    assert.ok(outcomes.at(-1)!.startsWith('v2:'));
    assert.ok(outcomes[0]!.startsWith('v1:'));
  });

  test('sticky split: a user stays on one revision, users split by the weights', async () => {
    const port = await freePort();
    const spec = (image: string): string =>
      `    image: ${image}\n    replicas: 2\n    listen: 127.0.0.1:${port}\n    port: 8080\n    health: { http: /healthz, interval: 200ms, healthyThreshold: 2, deadline: 15s }\n    strategy: { type: canary, steps: [{ setWeight: 30 }, { pause: {} }] }\n    routing: { sticky: { cookie: user } }\n    stopGracePeriod: 5s\n`;
    assert.equal((await up('sticky', spec('hotswap-fixture:v1'))).code, 0);
    const rolling = up('sticky', spec('hotswap-fixture:v2'));
    const agent = new http.Agent({ keepAlive: true, maxSockets: 16 });
    const versionFor = (user: string): Promise<string> =>
      new Promise((resolve, reject) => {
        http
          .get(
            { host: '127.0.0.1', port, path: '/', agent, headers: { cookie: `user=${user}` } },
            (res) => {
              res.resume();
              res.on('end', () => resolve(String(res.headers['x-version'])));
            },
          )
          .on('error', reject);
      });
    await waitFor(
      'the canary weight',
      async () => (await versionFor('probe-' + Math.random())) === 'v2' || null,
    );
    const mine = new Set<string>();
    for (let i = 0; i < 1000; i++) mine.add(await versionFor('alice'));
    assert.equal(mine.size, 1, `alice saw ${[...mine].join(', ')}`);
    let onCanary = 0;
    const users = 2000;
    for (let i = 0; i < users; i += 50) {
      const batch = await Promise.all(
        Array.from({ length: 50 }, (_, j) => versionFor(`user-${i + j}`)),
      );
      onCanary += batch.filter((v) => v === 'v2').length;
    }
    agent.destroy();
    const share = (100 * onCanary) / users;
    console.log(`sticky: ${share.toFixed(1)}% of ${users} users on the canary at weight 30`);
    assert.ok(Math.abs(share - 30) <= 3, `share ${share}`);
    assert.equal((await hotswap(home, ['promote', 'sticky'])).code, 0);
    assert.equal((await rolling).code, 0);
  });

  test('proxy upgrade under load: zero failed requests; a crashed proxy is back within 1 s', async () => {
    const port = await freePort();
    assert.equal(
      (
        await up(
          'up',
          `    image: hotswap-fixture:v1\n    replicas: 2\n    listen: 127.0.0.1:${port}\n${common}`,
        )
      ).code,
      0,
    );
    const url = `http://127.0.0.1:${port}/`;
    let upgrade!: CliResult;
    const m = await underLoad(url, 200, async () => {
      upgrade = await hotswap(home, ['proxy', 'upgrade', '--json']);
    });
    assert.equal(upgrade.code, 0, upgrade.stderr);
    const pids = JSON.parse(upgrade.stdout) as { oldPid: number; newPid: number; ms: number };
    console.log('proxy upgrade', JSON.stringify(pids), JSON.stringify(m.all));
    assert.notEqual(pids.newPid, pids.oldPid);
    assert.equal(m.all.failed, 0, JSON.stringify(m.all.errors));

    const { pid } = JSON.parse((await hotswap(home, ['proxy', 'status', '--json'])).stdout) as {
      pid: number;
    };
    const killedAt = Date.now();
    process.kill(pid, 'SIGKILL');
    await waitFor(
      'the listener to refuse',
      async () =>
        !(await getText(url).then(
          () => true,
          () => false,
        )),
      2000,
    ).catch(() => undefined);
    await waitFor(
      'the listener to answer again',
      async () => (await getText(url)).status === 200,
      5000,
    );
    const gap = Date.now() - killedAt;
    console.log(`proxy crash: listener back ${gap} ms after SIGKILL`);
    assert.ok(gap < 1000, `gap ${gap} ms`);
  });
});

/** One TCP connection: send a line, read the echoed line, close. Never throws. */
function tcpExchange(port: number, line: string): Promise<string> {
  return new Promise((resolve) => {
    const socket = net.connect({ host: '127.0.0.1', port });
    socket.setTimeout(5000, () => socket.destroy(new Error('timeout')));
    socket.on('error', (err) => resolve(`error ${err.message}`));
    socket.on('connect', () => {
      socket.write(`${line}\n`);
      readUntil(socket, (t) => t.includes('\n'), 5000).then(
        (text) => {
          socket.end();
          resolve(text.trim());
        },
        (err: Error) => {
          socket.destroy();
          resolve(`error ${err.message}`);
        },
      );
    });
  });
}
