import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { homePaths } from './paths.js';

const LOCK_MODULE = new URL('./home-lock.js', import.meta.url).href;
const PATHS_MODULE = new URL('./paths.js', import.meta.url).href;

/** A separate process that tries the home's lock, says what it got, and holds it until killed. */
function contender(home: string): { said: Promise<string>; kill: () => void } {
  const script = `
    const { lockHome } = await import(${JSON.stringify(LOCK_MODULE)});
    const { homePaths } = await import(${JSON.stringify(PATHS_MODULE)});
    try { lockHome(homePaths(${JSON.stringify(home)})); console.log('locked'); }
    catch (e) { console.log(e.code + ' ' + e.details.reason); process.exit(5); }
    setInterval(() => {}, 1000);`;
  const child = spawn(process.execPath, ['--input-type=module', '-e', script], {
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  const said = new Promise<string>((resolve) =>
    child.stdout.once('data', (d: Buffer) => resolve(d.toString().trim())),
  );
  return { said, kill: () => child.kill('SIGKILL') };
}

test('of processes racing for a home, exactly one gets the lock; SIGKILL releases it', async () => {
  const home = mkdtempSync(join(tmpdir(), 'hotswap-lock-'));
  const racers = [1, 2, 3, 4].map(() => contender(home));
  const said = await Promise.all(racers.map((r) => r.said));
  assert.equal(said.filter((s) => s === 'locked').length, 1, said.join(', '));
  assert.equal(said.filter((s) => s === 'CONFLICT home-lock-held').length, 3, said.join(', '));
  // The holder dies without cleaning up: no stale lock is left behind.
  racers.forEach((r) => r.kill());
  await new Promise((r) => setTimeout(r, 200));
  const next = contender(home);
  assert.equal(await next.said, 'locked');
  next.kill();
  assert.ok(homePaths(home).lockFile.endsWith('daemon.lock'));
});
