import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { closeSync, mkdtempSync, openSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { LOCK_HELD, waitForStart } from './start-channel.js';

/** A child with the daemon's stdio (log file, IPC) running `code`; the log holds an old line. */
function child(code: string) {
  const log = join(mkdtempSync(join(tmpdir(), 'hotswap-start-')), 'daemon.log');
  writeFileSync(log, 'an older daemon said this\n');
  const fd = openSync(log, 'a');
  const proc = spawn(process.execPath, ['-e', code], { stdio: ['ignore', fd, fd, 'ipc'] });
  closeSync(fd);
  return { proc, opts: { timeoutMs: 5_000, logFile: log, logOffset: 26 } };
}

test('started: resolves on the report', async () => {
  const c = child(
    `process.send({ type: 'hotswap-daemon-started', pid: process.pid }, () => process.disconnect());`,
  );
  assert.equal(await waitForStart(c.proc, c.opts), 'started');
});

test("failed: the daemon's own error, once it has exited", async () => {
  const c = child(
    `process.send({ type: 'hotswap-daemon-failed', error: { code: 'DOCKER_UNAVAILABLE', message: 'no engine' } }, () => setTimeout(() => process.exit(6), 100));`,
  );
  await assert.rejects(waitForStart(c.proc, c.opts), (err: Error & { code: string }) => {
    assert.equal(err.code, 'DOCKER_UNAVAILABLE');
    assert.equal(err.message, 'the daemon could not start: no engine');
    assert.notEqual(c.proc.exitCode, null, 'the child has exited');
    return true;
  });
});

test('lost the lock to another daemon: "another-daemon"', async () => {
  const c = child(
    `process.send({ type: 'hotswap-daemon-failed', error: { code: 'CONFLICT', message: 'held', details: { reason: '${LOCK_HELD}' } } }, () => process.exit(5));`,
  );
  assert.equal(await waitForStart(c.proc, c.opts), 'another-daemon');
});

test('exited without a word: the exit code and what it wrote to the log since the spawn', async () => {
  const c = child(`process.stderr.write('Error: boom at start\\n'); process.exit(9);`);
  const t0 = Date.now();
  await assert.rejects(waitForStart(c.proc, c.opts), {
    code: 'DAEMON_UNAVAILABLE',
    message: 'the daemon exited at start (exit code 9):\nError: boom at start',
  });
  assert.ok(Date.now() - t0 < 2_000);
});
