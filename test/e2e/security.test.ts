// End to end, issue 14: the daemon's remote API over TCP+TLS on loopback with its self-signed
// certificate, reached by a second CLI (another home, no local daemon) with tokens: a viewer is
// refused on `up`, a deployer scoped to `web` deploys web but not api, a wrong pin or no token
// is refused. Then the audit chain: the sqlite3 CLI edits and deletes rows in the store file and
// `audit verify` names the entries. And a world-writable home is refused at daemon start.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { X509Certificate } from 'node:crypto';
import { chmodSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { homePaths } from '../../src/daemon/paths.js';
import type { AuditRecord } from '../../src/store/index.js';
import { cleanupScope, ensureFixtures, requireEngine } from '../helpers/docker.js';
import { freePort, getText, hotswap, type CliResult } from '../helpers/cli.js';

function specText(ports: { web: number; api: number }): string {
  const svc = (name: string, port: number): string => `  ${name}:
    image: hotswap-fixture:v1
    replicas: 1
    port: 8080
    listen: 127.0.0.1:${port}
    health: { http: /healthz, interval: 200ms, deadline: 10s }
    drain: { timeout: 1s }
    stopGracePeriod: 2s
`;
  return `services:\n${svc('web', ports.web)}${svc('api', ports.api)}`;
}

describe('remote API with tokens, and the audit chain', () => {
  const home = mkdtempSync(join(tmpdir(), 'hotswap-sec-'));
  const elsewhere = mkdtempSync(join(tmpdir(), 'hotswap-sec-client-')); // the second CLI's home
  const dir = mkdtempSync(join(tmpdir(), 'hotswap-sec-spec-'));
  const specFile = join(dir, 'hotswap.yaml');
  let apiPort = 0;
  let ports = { web: 0, api: 0 };
  let fingerprint = '';
  const tokens: Record<string, string> = {};

  const remote = (token: string | null, args: string[], pin = fingerprint): Promise<CliResult> =>
    hotswap(elsewhere, [
      '--host',
      `https://127.0.0.1:${apiPort}`,
      ...(token === null ? [] : ['--token', token]),
      '--fingerprint',
      pin,
      ...args,
    ]);

  before(async () => {
    await requireEngine();
    await ensureFixtures();
    apiPort = await freePort();
    ports = { web: await freePort(), api: await freePort() };
    writeFileSync(join(home, 'config.yaml'), `api:\n  listen: 127.0.0.1:${apiPort}\n`);
    writeFileSync(specFile, specText(ports));
  });

  after(async () => {
    await hotswap(home, ['down']);
    await cleanupScope(homePaths(home).scope);
  });

  test('the local admin creates tokens; the daemon prints its certificate fingerprint', async () => {
    for (const [name, args] of [
      ['viewer', ['--role', 'viewer']],
      ['deployer', ['--role', 'deployer', '--services', 'web', '--name', 'ci-web']],
    ] as const) {
      const r = await hotswap(home, ['token', 'create', ...args]);
      assert.equal(r.code, 0, r.stderr);
      tokens[name] = r.stdout.trim();
      assert.match(r.stderr, /shown once/);
    }
    const cert = new X509Certificate(readFileSync(join(home, 'api-tls', 'cert.pem')));
    fingerprint = cert.fingerprint256;
    const log = readFileSync(homePaths(home).daemonLog, 'utf8');
    assert.ok(log.includes(`fingerprint ${fingerprint}`), log);
    const list = await hotswap(home, ['token', 'list']);
    assert.match(list.stdout, /ci-web\s+deployer\s+web\s+active/);
    // hst_<12 hex>_<secret>: the secret is base64url and may itself contain "_".
    const secret = tokens.deployer!.slice('hst_'.length + 12 + 1);
    assert.equal(secret.length, 43);
    assert.ok(!list.stdout.includes(secret), 'no secret in the list');
  });

  test('over TCP+TLS: a viewer reads but is refused on up', async () => {
    const st = await remote(tokens.viewer!, ['status']);
    assert.equal(st.code, 0, st.stderr);
    const up = await remote(tokens.viewer!, ['up', '-f', specFile, 'web']);
    assert.equal(up.code, 8, up.stderr);
    assert.match(up.stderr, /FORBIDDEN: .*viewer.*needs the deployer role/);
  });

  test('a deployer scoped to web deploys web, and is refused on api and down', async () => {
    const web = await remote(tokens.deployer!, ['up', '-f', specFile, 'web']);
    assert.equal(web.code, 0, web.stderr + web.stdout);
    assert.equal((await getText(`http://127.0.0.1:${ports.web}/`)).version, 'v1');
    const api = await remote(tokens.deployer!, ['up', '-f', specFile, 'api']);
    assert.equal(api.code, 8, api.stderr);
    assert.match(api.stderr, /may change only web, not api/);
    const down = await remote(tokens.deployer!, ['down', 'web']);
    assert.equal(down.code, 8, down.stderr);
  });

  test('no token, a forged token, a wrong pin are refused; a CA file works too', async () => {
    const none = await remote(null, ['status']);
    assert.equal(none.code, 8);
    assert.match(none.stderr, /UNAUTHENTICATED: this API needs a token/);
    const forged = await remote(tokens.viewer!.slice(0, -2) + 'xx', ['status']);
    assert.equal(forged.code, 8);
    assert.match(forged.stderr, /invalid token/);
    const pin = await remote(tokens.viewer!, ['status'], 'AA'.repeat(32));
    assert.equal(pin.code, 6);
    assert.match(pin.stderr, /not the pinned/);
    const ca = await hotswap(elsewhere, [
      '--host',
      `https://127.0.0.1:${apiPort}`,
      '--token',
      tokens.viewer!,
      '--ca',
      join(home, 'api-tls', 'cert.pem'),
      'status',
    ]);
    assert.equal(ca.code, 0, ca.stderr);
  });

  test('the audit names who did what from where; a revoked token is refused', async () => {
    const revoke = await hotswap(home, ['token', 'revoke', 'ci-web']);
    assert.equal(revoke.code, 0, revoke.stderr);
    const after = await remote(tokens.deployer!, ['status']);
    assert.equal(after.code, 8);
    assert.match(after.stderr, /revoked/);
    const r = await hotswap(home, ['audit', '--json']);
    const { entries } = JSON.parse(r.stdout) as { entries: AuditRecord[] };
    const upWeb = entries.find((e) => e.actor === 'token:ci-web' && e.outcome === 'ok');
    assert.equal(upWeb?.verb, 'up');
    assert.equal(upWeb?.service, 'web');
    assert.match(upWeb?.source ?? '', /^127\.0\.0\.1:\d+$/);
    assert.match(upWeb?.specHash ?? '', /^sha256:[0-9a-f]{64}$/);
    assert.match(upWeb?.imageDigest ?? '', /^web@sha256:[0-9a-f]{64}$/);
    assert.ok(
      entries.some((e) => e.actor.startsWith('token:viewer') && /^denied 403/.test(e.outcome)),
    );
    assert.ok(entries.some((e) => e.actor === 'anonymous' && /^denied 401/.test(e.outcome)));
    assert.ok(entries.some((e) => e.verb === 'token.create' && e.actor.startsWith('local:')));
    const web = await hotswap(home, ['audit', '--service', 'web', '--json']);
    const onlyWeb = (JSON.parse(web.stdout) as { entries: AuditRecord[] }).entries;
    assert.ok(onlyWeb.length > 0 && onlyWeb.every((e) => e.service?.split(',').includes('web')));
  });

  test('audit verify finds an entry edited, then one deleted, with the sqlite3 CLI', async () => {
    const ok = await hotswap(home, ['audit', 'verify']);
    assert.equal(ok.code, 0, ok.stderr);
    assert.match(ok.stdout, /audit chain intact: \d+ entries/);
    const db = homePaths(home).dbFile;
    const sql = (s: string): void => {
      const r = spawnSync('sqlite3', [db, s]);
      assert.equal(r.status, 0, r.stderr.toString());
    };
    sql(`DROP TRIGGER audit_no_update; UPDATE audit SET actor = 'local:nobody' WHERE seq = 4;`);
    const edited = await hotswap(home, ['audit', 'verify']);
    assert.equal(edited.code, 9, edited.stderr);
    assert.match(edited.stderr, /AUDIT_BROKEN: audit chain broken: entry #4 was edited/);
    sql(`DROP TRIGGER audit_no_delete; DELETE FROM audit WHERE seq = 2;`);
    const deleted = await hotswap(home, ['audit', 'verify', '--json']);
    assert.equal(deleted.code, 9);
    const result = JSON.parse(deleted.stdout.split('\n{"error"')[0]!) as {
      ok: boolean;
      seq: number;
      problem: string;
    };
    assert.deepEqual([result.ok, result.seq, result.problem], [false, 2, 'deleted']);
  });

  test('a home other users can write is refused at daemon start', async () => {
    const unsafe = mkdtempSync(join(tmpdir(), 'hotswap-unsafe-'));
    chmodSync(unsafe, 0o777);
    const r = await hotswap(unsafe, ['daemon']);
    assert.equal(r.code, 2, r.stderr);
    assert.match(r.stderr, /UNSAFE_HOME: the hotswap home .* has mode 777: .*chmod 700/);
    // A verb that would start the daemon says so at once, not after a start timeout.
    const st = await hotswap(unsafe, ['token', 'create', '--role', 'viewer']);
    assert.equal(st.code, 2, st.stderr);
    assert.match(st.stderr, /UNSAFE_HOME/);
    assert.ok(st.ms < 5000, `${st.ms} ms`);
  });
});
