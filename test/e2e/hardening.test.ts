// End to end, issue 14: container hardening reaches Docker, the daemon's policy refuses a spec
// that mounts the Docker socket or a host path outside its roots before anything starts, and an
// env value from a file is used, kept out of history, and makes a new revision when it changes.
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { homePaths } from '../../src/daemon/paths.js';
import { DockerClient } from '../../src/runtime/docker/client.js';
import { cleanupScope, ensureFixtures, requireEngine } from '../helpers/docker.js';
import { freePort, getText, hotswap } from '../helpers/cli.js';
import { underLoad } from '../helpers/load.js';

describe('container hardening, policy and secrets on the real engine', () => {
  const home = mkdtempSync(join(tmpdir(), 'hotswap-hard-'));
  const dir = mkdtempSync(join(tmpdir(), 'hotswap-hard-spec-'));
  const specFile = join(dir, 'hotswap.yaml');
  let port = 0;

  const spec = (extra: string): string => `services:
  web:
    image: hotswap-fixture:v1
    port: 8080
    listen: 127.0.0.1:${port}
    health: { http: /healthz, interval: 200ms, deadline: 10s }
    drain: { timeout: 1s }
    stopGracePeriod: 2s
${extra}`;

  before(async () => {
    await requireEngine();
    await ensureFixtures();
    port = await freePort();
  });

  after(async () => {
    await hotswap(home, ['down']);
    await cleanupScope(homePaths(home).scope);
  });

  test('the Docker socket and a host path outside the roots are refused, nothing starts', async () => {
    writeFileSync(
      specFile,
      spec(`    volumes: ['/var/run/docker.sock:/var/run/docker.sock', '/etc:/host-etc:ro']\n`),
    );
    const r = await hotswap(home, ['up', '-f', specFile]);
    assert.equal(r.code, 10, r.stderr);
    assert.match(r.stderr, /POLICY_REFUSED: .*refused by the daemon's policy \(2 problems\)/);
    assert.match(r.stderr, /volumes\[0\]: .*mounts the Docker socket/);
    assert.match(r.stderr, /volumes\[1\]: host path "\/etc" is outside/);
    const st = await hotswap(home, ['status', '--json']);
    assert.deepEqual((JSON.parse(st.stdout) as { services: unknown[] }).services, []);
    const audit = await hotswap(home, ['audit', '--json']);
    const last = (JSON.parse(audit.stdout) as { entries: Array<{ outcome: string }> }).entries.at(
      -1,
    );
    assert.match(last?.outcome ?? '', /^error POLICY_REFUSED/);
  });

  test('hardening fields reach Docker; a secret env comes from its file and not back', async () => {
    writeFileSync(join(dir, 'version.txt'), 'from-a-file\n');
    writeFileSync(
      specFile,
      spec(`    user: "1000:1000"
    readOnly: true
    capDrop: [ALL]
    noNewPrivileges: true
    pidsLimit: 64
    tmpfs: ["/tmp:size=1m"]
    env:
      GREETING: hello
      VERSION: { valueFrom: { file: ./version.txt } }
`),
    );
    const r = await hotswap(home, ['up', '-f', specFile]);
    assert.equal(r.code, 0, r.stderr + r.stdout);
    assert.equal((await getText(`http://127.0.0.1:${port}/`)).version, 'from-a-file');

    const st = await hotswap(home, ['status', '--json']);
    const id = (JSON.parse(st.stdout) as { services: Array<{ instances: Array<{ id: string }> }> })
      .services[0]!.instances[0]!.id;
    const c = await new DockerClient().containers.inspect(id);
    const host = c.HostConfig as Record<string, unknown>;
    assert.equal((c.Config as { User?: string }).User, '1000:1000');
    assert.equal(host.ReadonlyRootfs, true);
    assert.deepEqual(host.CapDrop, ['ALL']);
    assert.deepEqual(host.SecurityOpt, ['no-new-privileges:true']);
    assert.equal(host.PidsLimit, 64);
    assert.deepEqual(host.Tmpfs, { '/tmp': 'size=1m' });

    const h = await hotswap(home, ['history', 'web', '--json']);
    assert.ok(!h.stdout.includes('from-a-file'), 'the secret value must not come back');
    assert.ok(!h.stdout.includes('hello'), 'env values are redacted');
    assert.match(h.stdout, /"GREETING": "\(redacted\)"/);
  });

  test('a changed secret file makes a new revision', async () => {
    writeFileSync(join(dir, 'version.txt'), 'rotated\n');
    const r = await hotswap(home, ['up', '-f', specFile, '--json']);
    assert.equal(r.code, 0, r.stderr + r.stdout);
    assert.equal((await getText(`http://127.0.0.1:${port}/`)).version, 'rotated');
    const h = await hotswap(home, ['history', 'web', '--json']);
    const revs = (JSON.parse(h.stdout) as { revisions: Array<{ configHash: string }> }).revisions;
    assert.equal(revs.length, 2);
    assert.notEqual(revs[0]!.configHash, revs[1]!.configHash);
  });

  test('a blocking preflight failure leaves the old revision serving, under load; warn goes on', async () => {
    const hook = (onFail: string, exit: number): string => `    preflight:
      - run: [sh, -c, 'echo "scanned $$HOTSWAP_IMAGE $$HOTSWAP_IMAGE_DIGEST"; exit ${exit}']
        timeout: 10s
        onFail: ${onFail}
    env:
      VERSION: preflight-${onFail}
`;
    writeFileSync(specFile, spec(hook('block', 1)));
    let r!: Awaited<ReturnType<typeof hotswap>>;
    const m = await underLoad(`http://127.0.0.1:${port}/`, 100, async () => {
      r = await hotswap(home, ['up', '-f', specFile]);
    });
    assert.equal(r.code, 3, r.stderr + r.stdout);
    assert.match(
      r.stderr,
      /PREFLIGHT_FAILED: service web: preflight .* failed \(exit 1, .*\): scanned hotswap-fixture:v1 sha256:[0-9a-f]{64}/,
    );
    assert.equal(m.all.failed, 0, JSON.stringify(m.all.errors));
    assert.deepEqual(Object.keys(m.all.versions), ['rotated'], 'the old revision kept serving');
    writeFileSync(specFile, spec(hook('warn', 1)));
    const warned = await hotswap(home, ['up', '-f', specFile]);
    assert.equal(warned.code, 0, warned.stderr + warned.stdout);
    assert.match(warned.stdout, /preflight .* warned \(exit 1/);
    assert.equal((await getText(`http://127.0.0.1:${port}/`)).version, 'preflight-warn');
  });
});
