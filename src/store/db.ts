// Opens the SQLite store (WAL) and brings its schema up to date.
import Database from 'better-sqlite3';
import { HotswapError } from '../errors.js';
import { MIGRATIONS } from './migrations.js';

export type Db = Database.Database;

/**
 * A file that is not a hotswap store, is damaged, or was written by a newer hotswap is refused
 * with a message saying so: the daemon does not start on it (the proxy keeps serving).
 */
export function openDb(file: string): Db {
  let db: Db | null = null;
  try {
    db = new Database(file);
    db.pragma('journal_mode = WAL');
    db.pragma('synchronous = NORMAL');
    db.pragma('foreign_keys = ON');
    db.pragma('busy_timeout = 5000');
    // 512 KiB of page cache instead of SQLite's 2 MiB: the daemon reads little, and the OS caches
    // the file anyway; what the daemon holds at rest counts (bench:control-plane).
    db.pragma('cache_size = -512');
    const version = db.pragma('user_version', { simple: true }) as number;
    if (version > MIGRATIONS.length) {
      throw new HotswapError(
        'CONFLICT',
        `${file} has schema version ${version}, newer than this hotswap knows (${MIGRATIONS.length}): ` +
          'it was written by a newer hotswap; run that version, or move the file away to start afresh',
      );
    }
    const check = db.pragma('quick_check', { simple: true }) as string;
    if (check !== 'ok') throw new Error(check);
    migrate(db);
    return db;
  } catch (err) {
    db?.close();
    if (err instanceof HotswapError) throw err;
    throw new HotswapError(
      'INTERNAL',
      `${file} is not a readable hotswap store (${(err as Error).message}); the daemon will not ` +
        'start on it. Restore it from a backup, or move it away to start with an empty store',
      { cause: err },
    );
  }
}

function migrate(db: Db): void {
  const current = db.pragma('user_version', { simple: true }) as number;
  for (let v = current; v < MIGRATIONS.length; v++) {
    db.transaction(() => {
      db.exec(MIGRATIONS[v]!);
      db.pragma(`user_version = ${v + 1}`);
    })();
  }
}

export function now(): string {
  return new Date().toISOString();
}
