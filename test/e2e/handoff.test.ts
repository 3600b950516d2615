// End to end, issue 16 item 2: the fixture app keeps its sessions in memory; with a handoff
// section every session survives a rolling update (under load, 0 failed requests). A state over
// maxBytes fails the rollout (onFail: fail, the old instance keeps serving with its sessions) or
// is skipped with the reason journaled (onFail: continue).
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { homePaths } from '../../src/daemon/paths.js';
import { cleanupScope, ensureFixtures, requireEngine } from '../helpers/docker.js';
import { freePort, getText, hotswap } from '../helpers/cli.js';
import { underLoad } from '../helpers/load.js';

const SESSIONS = 200;

describe('state hand-off across a rolling update', () => {
  const home = mkdtempSync(join(tmpdir(), 'hotswap-handoff-'));
  const dir = mkdtempSync(join(tmpdir(), 'hotswap-handoff-spec-'));
  const specFile = join(dir, 'hotswap.yaml');
  let port = 0;
  const base = (): string => `http://127.0.0.1:${port}`;

  const writeSpec = (
    image: string,
    handoff: string,
    strategy = 'rolling, maxSurge: 1, maxUnavailable: 0',
  ): void =>
    writeFileSync(
      specFile,
      `services:
  web:
    image: ${image}
    replicas: 1
    port: 8080
    listen: 127.0.0.1:${port}
    health: { http: /healthz, interval: 200ms, deadline: 10s }
    strategy: { type: ${strategy} }
    drain: { timeout: 1s }
    stopGracePeriod: 2s
    handoff:
      export: { http: { path: /hotswap/state } }
      import: { http: { path: /hotswap/state } }
      timeout: 5s
${handoff}
`,
    );

  const sessionsKept = async (): Promise<number> => {
    let kept = 0;
    for (let i = 0; i < SESSIONS; i++) {
      const r = await getText(`${base()}/session?id=s${i}`);
      if (r.status === 200 && r.body === `value-${i}\n`) kept++;
    }
    return kept;
  };

  before(async () => {
    await requireEngine();
    await ensureFixtures();
    port = await freePort();
  });

  after(async () => {
    await hotswap(home, ['down']);
    await cleanupScope(homePaths(home).scope);
  });

  test('every session survives a rolling update, under load with 0 failed requests', async () => {
    writeSpec('hotswap-fixture:v1', '      maxBytes: 1MiB');
    const first = await hotswap(home, ['up', '-f', specFile]);
    assert.equal(first.code, 0, first.stderr + first.stdout);
    for (let i = 0; i < SESSIONS; i++) {
      const res = await fetch(`${base()}/session?id=s${i}&value=value-${i}`, { method: 'POST' });
      assert.equal(res.status, 200);
      await res.text();
    }
    writeSpec('hotswap-fixture:v2', '      maxBytes: 1MiB');
    let r!: Awaited<ReturnType<typeof hotswap>>;
    const m = await underLoad(`${base()}/`, 100, async () => {
      r = await hotswap(home, ['up', '-f', specFile]);
    });
    assert.equal(r.code, 0, r.stderr + r.stdout);
    assert.equal(m.all.failed, 0, JSON.stringify(m.all.errors));
    assert.equal((await getText(`${base()}/`)).version, 'v2');
    const kept = await sessionsKept();
    const st = await hotswap(home, ['rollout', 'status', 'web', '--json']);
    const events = (JSON.parse(st.stdout) as { events: Array<{ event: string; data: unknown }> })
      .events;
    const done = events.find((e) => e.event === 'handoff.done')?.data as
      { bytes: number; ms: number } | undefined;
    console.log(
      `hand-off: ${kept}/${SESSIONS} sessions kept, ${done?.bytes} bytes in ${done?.ms} ms; ` +
        `load: ${m.all.sent} sent, ${m.all.failed} failed`,
    );
    assert.equal(kept, SESSIONS);
    assert.ok(done, st.stdout);
  });

  test('a state over maxBytes fails the rollout with onFail: fail; the sessions stay', async () => {
    writeSpec('hotswap-fixture:v1', '      maxBytes: 100\n      onFail: fail');
    const r = await hotswap(home, ['up', '-f', specFile]);
    assert.equal(r.code, 3, r.stderr + r.stdout);
    assert.match(r.stderr + r.stdout, /hand-off payload over maxBytes: more than 100 bytes/);
    assert.equal((await getText(`${base()}/`)).version, 'v2', 'the old revision keeps serving');
    assert.equal(await sessionsKept(), SESSIONS);
  });

  test('with onFail: continue the rollout goes on and the reason is journaled', async () => {
    writeSpec('hotswap-fixture:v1', '      maxBytes: 100\n      onFail: continue');
    const r = await hotswap(home, ['up', '-f', specFile]);
    assert.equal(r.code, 0, r.stderr + r.stdout);
    assert.equal((await getText(`${base()}/`)).version, 'v1');
    const st = await hotswap(home, ['rollout', 'status', 'web', '--json']);
    assert.match(st.stdout, /handoff\.failed/);
    assert.match(st.stdout, /over maxBytes/);
    assert.equal(await sessionsKept(), 0, 'the new instance started without the state');
  });

  test('recreate: the state is read before the old instance stops and given to the new one', async () => {
    writeSpec('hotswap-fixture:v2', '      maxBytes: 1MiB', 'recreate');
    const r = await hotswap(home, ['up', '-f', specFile]);
    assert.equal(r.code, 0, r.stderr + r.stdout);
    assert.equal((await getText(`${base()}/`)).version, 'v2');
    // The instance serving now started empty (onFail: continue above): fill it again.
    for (let i = 0; i < SESSIONS; i++) {
      const res = await fetch(`${base()}/session?id=s${i}&value=value-${i}`, { method: 'POST' });
      await res.text();
    }
    writeSpec('hotswap-fixture:v1', '      maxBytes: 1MiB', 'recreate');
    const again = await hotswap(home, ['up', '-f', specFile]);
    assert.equal(again.code, 0, again.stderr + again.stdout);
    assert.equal((await getText(`${base()}/`)).version, 'v1');
    const st = await hotswap(home, ['rollout', 'status', 'web', '--json']);
    assert.match(st.stdout, /handoff\.captured/);
    const kept = await sessionsKept();
    console.log(`hand-off under recreate: ${kept}/${SESSIONS} sessions kept`);
    assert.equal(kept, SESSIONS);
  });
});
