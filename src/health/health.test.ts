import assert from 'node:assert/strict';
import http from 'node:http';
import net from 'node:net';
import { after, test } from 'node:test';
import type { HealthSpec } from '../spec/types.js';
import { httpProbe, probe, tcpProbe } from './probe.js';
import { waitReady } from './wait-ready.js';

const servers: net.Server[] = [];
after(() => servers.forEach((s) => s.close()));

async function listen(server: net.Server): Promise<string> {
  servers.push(server);
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return `127.0.0.1:${(server.address() as net.AddressInfo).port}`;
}

function health(over: Partial<HealthSpec> = {}): HealthSpec {
  return {
    check: { type: 'http', path: '/healthz' },
    intervalMs: 20,
    timeoutMs: 500,
    healthyThreshold: 3,
    unhealthyThreshold: 3,
    deadlineMs: 2000,
    ...over,
  };
}

const alive = {
  inspectInstance: () => Promise.resolve({ state: 'running' as const, exitCode: null } as never),
};

test('http probe passes on 2xx and fails on 503 or refused', async () => {
  let status = 200;
  const addr = await listen(http.createServer((_q, s) => s.writeHead(status).end()));
  assert.equal((await httpProbe(addr, '/healthz', 500)).ok, true);
  status = 503;
  const r = await httpProbe(addr, '/healthz', 500);
  assert.equal(r.ok, false);
  assert.match(r.detail, /503/);
  assert.equal((await httpProbe('127.0.0.1:1', '/', 500)).ok, false);
});

test('tcp probe fails when the peer closes right after accepting (docker-proxy with no app)', async () => {
  const closing = await listen(net.createServer((s) => s.destroy()));
  const open = await listen(net.createServer(() => undefined));
  assert.equal((await tcpProbe(closing, 1000)).ok, false);
  assert.equal((await tcpProbe(open, 1000)).ok, true);
});

test('waitReady needs healthyThreshold passes in a row', async () => {
  let calls = 0;
  // fails every 3rd call until call 6, then passes: a run of 3 happens only at calls 7,8,9
  const addr = await listen(
    http.createServer((_q, s) => {
      calls++;
      s.writeHead(calls <= 6 && calls % 3 === 0 ? 503 : 200).end();
    }),
  );
  await waitReady({ runtime: alive, instanceId: 'x', address: addr, health: health() });
  assert.equal(calls, 9);
});

test('waitReady fails at the deadline with the last probe detail', async () => {
  const addr = await listen(http.createServer((_q, s) => s.writeHead(503).end()));
  const t0 = Date.now();
  await assert.rejects(
    waitReady({
      runtime: alive,
      instanceId: 'abc',
      address: addr,
      health: health({ deadlineMs: 300 }),
    }),
    (err: Error & { code?: string }) => err.code === 'HEALTH_DEADLINE' && /503/.test(err.message),
  );
  assert.ok(Date.now() - t0 < 1500);
});

test('waitReady fails fast when the instance exited', async () => {
  const dead = {
    inspectInstance: () => Promise.resolve({ state: 'exited' as const, exitCode: 1 } as never),
  };
  await assert.rejects(
    waitReady({
      runtime: dead,
      instanceId: 'abc',
      address: '127.0.0.1:1',
      health: health({ deadlineMs: 5000 }),
    }),
    (err: Error & { code?: string }) =>
      err.code === 'INSTANCE_EXITED' && /code 1/.test(err.message),
  );
});

test('exec probe passes on exit 0 and names the exit code and output otherwise', async () => {
  let exitCode = 0;
  const calls: string[][] = [];
  const runtime = {
    ...alive,
    exec: (_id: string, cmd: string[]) => {
      calls.push(cmd);
      return Promise.resolve({ exitCode, output: exitCode ? 'boom\n' : '' });
    },
  };
  const target = { instanceId: 'abc', address: '127.0.0.1:1', runtime };
  const check = { type: 'exec' as const, command: ['/bin/check', '--quick'] };
  assert.equal((await probe(check, target, 500)).ok, true);
  exitCode = 3;
  const r = await probe(check, target, 500);
  assert.equal(r.ok, false);
  assert.equal(r.detail, 'exec /bin/check --quick → exit 3: boom');
  assert.deepEqual(calls[0], ['/bin/check', '--quick']);
});

test('docker probe passes only on healthy and says when the image has no HEALTHCHECK', async () => {
  let health = 'starting';
  const runtime = {
    inspectInstance: () => Promise.resolve({ state: 'running', exitCode: null, health } as never),
  };
  const target = { instanceId: 'abc', address: '127.0.0.1:1', runtime };
  const check = { type: 'docker' as const };
  assert.deepEqual(await probe(check, target, 500), {
    ok: false,
    detail: 'docker health: starting',
  });
  health = 'healthy';
  assert.equal((await probe(check, target, 500)).ok, true);
  health = 'none';
  assert.match((await probe(check, target, 500)).detail, /declares no HEALTHCHECK/);
});

test('a startup phase has its own deadline, and readiness only starts after it', async () => {
  let calls = 0;
  // The first 5 probes fail: a readiness deadline of 150 ms alone would not survive them.
  const addr = await listen(
    http.createServer((_q, s) => {
      calls++;
      s.writeHead(calls <= 5 ? 503 : 200).end();
    }),
  );
  await waitReady({
    runtime: alive,
    instanceId: 'x',
    address: addr,
    health: health({
      deadlineMs: 150,
      healthyThreshold: 2,
      startup: { intervalMs: 20, healthyThreshold: 1, deadlineMs: 2000 },
    }),
  });
  assert.equal(calls, 8); // 5 fails, 1 startup pass, 2 readiness passes
});

test('a startup phase that does not pass fails at its own deadline, naming the phase', async () => {
  const addr = await listen(http.createServer((_q, s) => s.writeHead(503).end()));
  await assert.rejects(
    waitReady({
      runtime: alive,
      instanceId: 'abc',
      address: addr,
      health: health({
        deadlineMs: 5000,
        startup: { intervalMs: 20, healthyThreshold: 1, deadlineMs: 200 },
      }),
    }),
    (err: Error & { code?: string; details?: { phase?: string } }) =>
      err.code === 'HEALTH_DEADLINE' &&
      /did not start \(startup phase\) within 200 ms/.test(err.message) &&
      err.details?.phase === 'startup',
  );
});
