#!/usr/bin/env node
// Runs the compiled test files with node's test runner and fails when no test ran:
// node 20 exits 0 on an empty run, which would hide a broken glob or build.
// Unit tests run in parallel; tests that drive the real Docker engine run one file at a time.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, readdirSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const root = new URL('..', import.meta.url).pathname;
const unitOnly = process.argv.includes('--unit');

function findTests(dir) {
  let out = [];
  let entries;
  try {
    entries = readdirSync(dir);
  } catch {
    return out;
  }
  for (const name of entries) {
    const full = join(dir, name);
    if (statSync(full).isDirectory()) out = out.concat(findTests(full));
    else if (name.endsWith('.test.js')) out.push(full);
  }
  return out.sort();
}

function runGroup(label, files, extraArgs) {
  if (files.length === 0) return { tests: 0, pass: 0, fail: 0 };
  console.log(`\n== ${label}: ${files.length} file(s)`);
  const tap = join(mkdtempSync(join(tmpdir(), 'hotswap-tests-')), 'report.tap');
  const args = [
    '--enable-source-maps',
    '--test',
    '--test-reporter=spec',
    '--test-reporter-destination=stdout',
    '--test-reporter=tap',
    `--test-reporter-destination=${tap}`,
    ...extraArgs,
    ...files,
  ];
  const res = spawnSync(process.execPath, args, { stdio: 'inherit', cwd: root });
  const text = readFileSync(tap, 'utf8');
  const count = (key) => sumKey(text, key);
  const result = {
    tests: count('tests'),
    pass: count('pass'),
    fail: count('fail'),
    code: res.status,
  };
  if (res.status !== 0 && result.fail === 0) result.fail = 1; // crashed runner counts as a failure
  return result;
}

function sumKey(text, key) {
  const m = new RegExp(`^# ${key} (\\d+)$`, 'm').exec(text);
  return m ? Number(m[1]) : 0;
}

const dist = join(root, 'dist');
const unit = findTests(join(dist, 'src'));
const docker = unitOnly
  ? []
  : [...findTests(join(dist, 'test', 'integration')), ...findTests(join(dist, 'test', 'e2e'))];

const results = [
  runGroup('unit', unit, ['--test-timeout=300000']),
  runGroup('docker', docker, ['--test-concurrency=1', '--test-timeout=600000']),
];
const total = results.reduce(
  (a, r) => ({ tests: a.tests + r.tests, pass: a.pass + r.pass, fail: a.fail + r.fail }),
  { tests: 0, pass: 0, fail: 0 },
);
console.log(`\ntests: ${total.pass} passed, ${total.fail} failed`);
if (total.tests === 0) {
  console.error('no tests were found or run: failing on purpose');
  process.exit(1);
}
process.exit(total.fail > 0 ? 1 : 0);
