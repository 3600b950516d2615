// The verbs a new user and a script meet first, through the real CLI: --version, validate (files,
// stdin, fallback name, golden messages), usage errors as JSON, global options in every help, and
// doctor against the real engine. None of them needs a daemon.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { REPO_ROOT } from '../helpers/cli.js';

const BIN = join(REPO_ROOT, 'bin', 'hotswap.js');
const work = mkdtempSync(join(tmpdir(), 'hotswap-cli-'));
const home = join(work, 'home');
after(() => rmSync(work, { recursive: true, force: true }));

function cli(args: string[], opts: { input?: string; env?: NodeJS.ProcessEnv } = {}) {
  const r = spawnSync(process.execPath, [BIN, '--home', home, ...args], {
    cwd: work,
    encoding: 'utf8',
    input: opts.input ?? '',
    env: { ...process.env, ...opts.env },
  });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

const SPEC =
  'services:\n  web:\n    image: "web:${TAG}"\n    port: 80\n    listen: 127.0.0.1:8080\n';

test('--version prints the package version', () => {
  const { version } = JSON.parse(readFileSync(join(REPO_ROOT, 'package.json'), 'utf8')) as {
    version: string;
  };
  const r = cli(['--version']);
  assert.equal(r.code, 0);
  assert.equal(r.stdout.trim(), version);
});

test('validate: hotswap.yml as fallback, -f - from stdin, ${VAR} from the environment', () => {
  writeFileSync(join(work, 'hotswap.yml'), SPEC);
  const fallback = cli(['validate', '--json'], { env: { TAG: 'v7' } });
  assert.equal(fallback.code, 0, fallback.stderr);
  const out = JSON.parse(fallback.stdout) as { file: string; services: Array<{ image: string }> };
  assert.equal(out.file, 'hotswap.yml');
  assert.equal(out.services[0]?.image, 'web:v7');

  const unset = cli(['validate', '-f', '-'], { input: SPEC, env: { TAG: undefined } });
  assert.equal(unset.code, 2);
  assert.equal(
    unset.stderr,
    'hotswap: SPEC_INVALID: <stdin> is not a valid hotswap spec (1 problem):\n' +
      '<stdin>:3:17 services.web.image: variable TAG is not set; set it or write ${TAG:-default}\n',
  );
  rmSync(join(work, 'hotswap.yml'));
});

test('a usage error under --json is a JSON error with exit code 2', () => {
  const r = cli(['--json', 'logs', 'web', '--bogus']);
  assert.equal(r.code, 2);
  assert.deepEqual(JSON.parse(r.stdout), {
    error: { code: 'USAGE', message: "unknown option '--bogus'" },
  });
  const t = cli(['--json', 'up', '--timeout', 'soon']);
  assert.equal(t.code, 2);
  assert.match(
    t.stdout,
    /"code":"USAGE".*--timeout: expected a duration like 90s or 5m, got \\"soon\\"/,
  );
});

test('--json and --home appear in every verb help', () => {
  for (const verb of [
    ['up'],
    ['diff'],
    ['status'],
    ['logs'],
    ['rollout', 'status'],
    ['rollout', 'undo'],
    ['doctor'],
    ['validate'],
  ]) {
    const r = cli([...verb, '--help']);
    assert.equal(r.code, 0, verb.join(' '));
    assert.match(r.stdout, /--json/, verb.join(' '));
    assert.match(r.stdout, /--home <dir>/, verb.join(' '));
  }
});

test('doctor: every check against the real engine, and a home too long for a socket', () => {
  const ok = cli(['doctor', '--json']);
  const report = JSON.parse(ok.stdout) as {
    ok: boolean;
    checks: Array<{ name: string; state: string }>;
  };
  assert.deepEqual(
    report.checks.map((c) => c.name),
    ['node', 'state store', 'docker engine', 'home', 'disk'],
  );
  assert.equal(report.checks.find((c) => c.name === 'docker engine')?.state, 'ok');
  assert.equal(ok.code, report.ok ? 0 : 6);

  const longHome = join(work, 'h'.repeat(110));
  const bad = spawnSync(process.execPath, [BIN, '--home', longHome, 'doctor'], {
    cwd: work,
    encoding: 'utf8',
  });
  assert.equal(bad.status, 6);
  assert.match(
    bad.stdout,
    /FAIL {2}home: .*hotswap\.sock is \d+ characters; a unix socket path holds at most 107\n {6}fix: use a shorter --home or HOTSWAP_HOME/,
  );
});
