import assert from 'node:assert/strict';
import { test } from 'node:test';
import { runHook } from './preflight.js';

const node = (code: string): string[] => [process.execPath, '-e', code];

test('a hook sees the image in its env; its exit code decides', async () => {
  const ok = await runHook(
    {
      run: node('console.log(process.env.HOTSWAP_IMAGE_DIGEST)'),
      timeoutMs: 5000,
      onFail: 'block',
    },
    { HOTSWAP_IMAGE_DIGEST: 'sha256:abc' },
  );
  assert.deepEqual([ok.ok, ok.code, ok.output.trim(), ok.why], [true, 0, 'sha256:abc', 'exit 0']);
  const bad = await runHook(
    { run: node('console.error("CVE-1"); process.exit(3)'), timeoutMs: 5000, onFail: 'block' },
    {},
  );
  assert.deepEqual([bad.ok, bad.code, bad.output.trim()], [false, 3, 'CVE-1']);
});

test('a hook past its timeout is killed; a missing command is a failure, not a crash', async () => {
  const slow = await runHook(
    { run: node('setTimeout(() => {}, 10000)'), timeoutMs: 200, onFail: 'warn' },
    {},
  );
  assert.equal(slow.ok, false);
  assert.match(slow.why, /timed out after 200 ms/);
  assert.ok(slow.ms < 3000, `${slow.ms} ms`);
  const missing = await runHook(
    { run: ['/no/such/scanner'], timeoutMs: 1000, onFail: 'block' },
    {},
  );
  assert.equal(missing.ok, false);
  assert.match(missing.why, /could not start: .*ENOENT/);
});

test('only the last 4 KiB of output is kept', async () => {
  const r = await runHook(
    {
      run: node('process.stdout.write("x".repeat(100000) + "END")'),
      timeoutMs: 5000,
      onFail: 'warn',
    },
    {},
  );
  assert.equal(r.output.length, 4096);
  assert.ok(r.output.endsWith('END'));
});
