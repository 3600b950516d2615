// The install path a new user takes: `npm pack` gives a package that `npm install -g` turns into a
// working `hotswap` on PATH, with no repository around it. Installs into a temporary prefix.
import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { REPO_ROOT } from '../helpers/cli.js';

const pkg = JSON.parse(readFileSync(join(REPO_ROOT, 'package.json'), 'utf8')) as {
  name: string;
  version: string;
  bin: Record<string, string>;
  scripts: Record<string, string>;
};
const work = mkdtempSync(join(tmpdir(), 'hotswap-install-'));
const prefix = join(work, 'prefix');
const bin = join(prefix, 'bin', 'hotswap');
let files: string[] = [];

before(() => {
  // `npm test` has built dist/ already; a real `npm pack` builds through the prepack script.
  const out = execFileSync(
    'npm',
    ['pack', '--ignore-scripts', '--json', '--pack-destination', work],
    {
      cwd: REPO_ROOT,
      encoding: 'utf8',
    },
  );
  const [packed] = JSON.parse(out) as Array<{ filename: string; files: Array<{ path: string }> }>;
  assert.ok(packed);
  files = packed.files.map((f) => f.path);
  execFileSync(
    'npm',
    [
      'install',
      '-g',
      '--prefix',
      prefix,
      '--prefer-offline',
      '--no-audit',
      '--no-fund',
      join(work, packed.filename),
    ],
    { cwd: work, stdio: 'inherit', timeout: 300_000 },
  );
});

after(() => rmSync(work, { recursive: true, force: true }));

const run = (args: string[]) =>
  spawnSync(bin, args, {
    cwd: work,
    encoding: 'utf8',
    env: { ...process.env, HOTSWAP_HOME: join(work, 'home') },
  });

test('the package keeps the bin name, builds on pack and ships only what runs', () => {
  assert.equal(pkg.name, 'hotswap-deploy');
  assert.deepEqual(Object.keys(pkg.bin), ['hotswap']);
  assert.match(pkg.scripts['prepack'] ?? '', /build/);
  assert.ok(files.includes('dist/src/cli/main.js'), 'compiled CLI in the tarball');
  assert.ok(files.includes('bin/hotswap.js'));
  assert.deepEqual(
    files.filter((f) => /\.test\.js$|^src\/|^test\//.test(f)),
    [],
  );
});

test('hotswap --version and validate work from the installed package', () => {
  const version = run(['--version']);
  assert.equal(version.status, 0, version.stderr);
  assert.equal(version.stdout.trim(), pkg.version);

  writeFileSync(
    join(work, 'hotswap.yaml'),
    'services:\n  web:\n    image: "nginx:${NGINX_TAG:-1.27}"\n    port: 80\n    listen: 127.0.0.1:8080\n',
  );
  const ok = run(['validate']);
  assert.equal(ok.status, 0, ok.stderr);
  assert.equal(ok.stdout.trim(), 'hotswap.yaml: ok (web)');

  writeFileSync(
    join(work, 'bad.yaml'),
    'services:\n  web:\n    image: web\n    port: 80\n    listen: 127.0.0.1:8080\n    environment: {}\n',
  );
  const bad = run(['validate', '-f', 'bad.yaml']);
  assert.equal(bad.status, 2);
  assert.match(
    bad.stderr,
    /bad\.yaml:6:5 services\.web\.environment: unknown field "environment": hotswap calls it "env"/,
  );
});
