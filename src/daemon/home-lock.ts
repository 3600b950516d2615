// One daemon per home, enforced by the kernel: the daemon holds an exclusive SQLite lock (a POSIX
// record lock) on <home>/daemon.lock for its whole life. Two daemons starting at once cannot both
// get it, and a daemon that dies (even by SIGKILL) releases it with its process: no stale lock
// file to clean, no "does a socket answer" window in which two starters both see nothing.
import { readFileSync } from 'node:fs';
import Database from 'better-sqlite3';
import { HotswapError } from '../errors.js';
import type { HomePaths } from './paths.js';
import { LOCK_HELD } from './start-channel.js';

let held: Database.Database | null = null;

/**
 * Takes the home's lock or throws CONFLICT (details.reason = LOCK_HELD) at once. The lock stays
 * held until the process exits; calling it again in the same process is a no-op.
 */
export function lockHome(paths: HomePaths): void {
  if (held) return;
  const db = new Database(paths.lockFile, { timeout: 0 });
  try {
    db.pragma('journal_mode = MEMORY'); // nothing is ever written: no -journal file beside it
    db.exec('BEGIN EXCLUSIVE');
  } catch (err) {
    db.close();
    if ((err as { code?: string }).code !== 'SQLITE_BUSY') throw err;
    const pid = readPid(paths.daemonPid);
    throw new HotswapError(
      'CONFLICT',
      `another hotswap daemon${pid ? ` (pid ${pid})` : ''} holds the lock on ${paths.home}`,
      { details: { reason: LOCK_HELD, lockFile: paths.lockFile } },
    );
  }
  held = db;
}

function readPid(file: string): number | null {
  try {
    const pid = Number(readFileSync(file, 'utf8').trim());
    return Number.isInteger(pid) && pid > 0 ? pid : null;
  } catch {
    return null;
  }
}
