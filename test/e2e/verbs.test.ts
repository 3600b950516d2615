// The verbs a script drives, end to end on the real engine: diff and up --dry-run, status of one
// service, logs (--since, --timestamps, -f with --timeout → exit 7), restart through the
// strategy, rollout status --watch exiting 3 on a failed rollout, rollout undo, and what a
// person sees of a rollout's progress in a terminal (a pseudo-terminal through `script`).
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { homePaths } from '../../src/daemon/paths.js';
import { cleanupScope, ensureFixtures, requireEngine } from '../helpers/docker.js';
import { freePort, getText, hotswap, REPO_ROOT } from '../helpers/cli.js';

describe('verbs that script well', () => {
  const home = mkdtempSync(join(tmpdir(), 'hotswap-verbs-'));
  const dir = mkdtempSync(join(tmpdir(), 'hotswap-verbs-spec-'));
  const specFile = join(dir, 'hotswap.yaml');
  let port = 0;

  function writeSpec(image: string, replicas = 2): void {
    writeFileSync(
      specFile,
      `services:
  web:
    image: ${image}
    replicas: ${replicas}
    port: 8080
    listen: 127.0.0.1:${port}
    env: { GREETING: hello }
    health: { http: /healthz, interval: 200ms, deadline: 4s }
    strategy: { type: rolling, maxSurge: 1, maxUnavailable: 0 }
    drain: { timeout: 2s }
    stopGracePeriod: 2s
`,
    );
  }
  const cli = (...args: string[]) => hotswap(home, args, { cwd: dir });

  before(async () => {
    await requireEngine();
    await ensureFixtures();
    port = await freePort();
  });

  after(async () => {
    await hotswap(home, ['down']);
    await cleanupScope(homePaths(home).scope);
  });

  test('a rollout in a terminal shows its progress, then the result table', () => {
    writeSpec('hotswap-fixture:v1');
    const command = [process.execPath, join(REPO_ROOT, 'bin', 'hotswap.js'), '--home', home, 'up']
      .map((a) => `'${a}'`)
      .join(' ');
    // A pty starts 0 columns wide: give it a size, as a terminal window would.
    const r = spawnSync('script', ['-qec', `stty cols 120 rows 40; ${command}`, '/dev/null'], {
      cwd: dir,
      encoding: 'utf8',
      env: { ...process.env, COLUMNS: '120', TERM: 'xterm' },
      timeout: 120_000,
    });
    assert.equal(r.status, 0, r.stdout + r.stderr);
    // eslint-disable-next-line no-control-regex
    const seen = r.stdout.replace(/\x1b\[[0-9;?]*[A-Za-z]/g, '');
    assert.match(seen, /Rolling out/);
    assert.match(seen, /web: .*r1/);
    assert.match(seen, /SERVICE +REVISION +OUTCOME/);
    assert.match(seen, /web +r1 +succeeded/);
  });

  test('diff and up --dry-run say what would change and change nothing', async () => {
    writeSpec('hotswap-fixture:v2', 3);
    const diff = await cli('diff');
    assert.equal(diff.code, 0, diff.stderr);
    assert.equal(
      diff.stdout,
      'web: new revision replaces r1 (rolling)\n  image: hotswap-fixture:v1 → hotswap-fixture:v2\n  replicas: 2 → 3\n',
    );
    const dry = await cli('up', '--dry-run', '--json');
    const plan = (JSON.parse(dry.stdout) as { plans: Array<Record<string, unknown>> }).plans[0];
    assert.deepEqual(
      {
        action: plan?.['action'],
        newRevision: plan?.['newRevision'],
        strategy: plan?.['strategy'],
      },
      { action: 'rollout', newRevision: true, strategy: 'rolling' },
    );
    assert.equal((await getText(`http://127.0.0.1:${port}/`)).version, 'v1', 'nothing changed');
    writeSpec('hotswap-fixture:v1', 2);
    assert.equal((await cli('diff')).stdout, 'web: unchanged\n');
  });

  test('status <service> details instances, health and the last rollout', async () => {
    const r = await cli('status', 'web');
    assert.equal(r.code, 0, r.stderr);
    assert.match(
      r.stdout,
      /^web {2}listen 127\.0\.0\.1:\d+ {2}stable r1 {2}replicas 2 {2}weights r1=\d+\n {2}image hotswap-fixture:v1\n/,
    );
    assert.match(r.stdout, /INSTANCE +REVISION +STATE +ADDRESS +SERVING +HEALTH +CREATED/);
    assert.equal((r.stdout.match(/ r1 +running +127\.0\.0\.1:\d+ +yes /g) ?? []).length, 2);
    assert.match(r.stdout, /last rollout #1: r- → r1 succeeded at .* \(rolling\)/);
    const missing = await cli('status', 'nope');
    assert.equal(missing.code, 4);
    assert.match(missing.stderr, /NOT_FOUND: no service "nope" \(known: web\)/);
  });

  test('logs --timestamps and --since, and logs -f until --timeout (exit 7)', async () => {
    const stamped = await cli('logs', 'web', '--timestamps');
    assert.equal(stamped.code, 0, stamped.stderr);
    assert.match(stamped.stdout, /r1 \| \d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d+Z .*listening on/);
    const future = await cli(
      'logs',
      'web',
      '--since',
      new Date(Date.now() + 3_600_000).toISOString(),
    );
    assert.equal(future.stdout, '');
    const follow = await cli('logs', 'web', '-f', '--timeout', '2s');
    assert.equal(follow.code, 7, follow.stderr);
    assert.match(follow.stdout, /r1 \| .*listening on/);
    assert.match(follow.stderr, /TIMEOUT: logs -f web did not finish within 2s/);
  });

  test('restart: new instances of the same content under a new revision, through the strategy', async () => {
    const before = await getText(`http://127.0.0.1:${port}/`);
    const r = await cli('restart', 'web');
    assert.equal(r.code, 0, r.stderr + r.stdout);
    assert.match(r.stdout, /web +r2 +succeeded/);
    assert.equal((await getText(`http://127.0.0.1:${port}/`)).version, before.version);
    assert.equal((await cli('diff')).stdout, 'web: unchanged\n');
  });

  test('rollout status --watch exits 3 after a failed rollout; rollout undo goes back', async () => {
    writeSpec('hotswap-fixture:bad');
    const failed = await cli('up');
    assert.equal(failed.code, 3, failed.stdout + failed.stderr);
    const watch = await cli('rollout', 'status', 'web', '--watch');
    assert.equal(watch.code, 3, watch.stdout + watch.stderr);
    assert.match(watch.stderr, /ROLLOUT_FAILED: rollout #\d+ of web (failed|rolled-back)/);
    const undo = await cli('rollout', 'undo', 'web', '--to', '1');
    assert.equal(undo.code, 0, undo.stdout + undo.stderr);
    assert.match(undo.stdout, /web +r1 +succeeded/);
  });
});
