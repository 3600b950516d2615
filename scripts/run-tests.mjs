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
// --swarm: only the Swarm group (the lab is brought up and down as for the whole run).
const swarmOnly = process.argv.includes('--swarm');

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

// The Swarm tests (issue 17) run on the 3-node lab (scripts/lab). It is brought up here when it
// is not up yet, and then taken down again after the group; a lab that was up stays up.
function runSwarmGroup(files) {
  if (files.length === 0) return { tests: 0, pass: 0, fail: 0 };
  const lab = (script) =>
    spawnSync(process.execPath, [join(dist, 'scripts', 'lab', script)], {
      stdio: 'inherit',
      cwd: root,
    });
  const wasUp =
    spawnSync(process.execPath, [join(dist, 'scripts', 'lab', 'status.js')], { cwd: root })
      .status === 0;
  if (!wasUp && lab('up.js').status !== 0) {
    console.error('lab up failed: the Swarm tests count as failed');
    lab('down.js');
    return { tests: files.length, pass: 0, fail: files.length };
  }
  try {
    return runGroup('swarm', files, ['--test-concurrency=1', '--test-timeout=600000']);
  } finally {
    if (!wasUp) lab('down.js');
  }
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

const results = swarmOnly
  ? []
  : [
      runGroup('unit', unit, ['--test-timeout=300000']),
      runGroup('docker', docker, ['--test-concurrency=1', '--test-timeout=600000']),
    ];
if (!unitOnly) results.push(runSwarmGroup(findTests(join(dist, 'test', 'swarm'))));
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
