// The route table on disk, so a restarted proxy serves the same routes before the controller
// says anything. Writes are atomic (temp file in the same folder, fsync, rename, fsync folder):
// a crash leaves either the old table or the new one, never half of one.
import { mkdirSync, readFileSync, renameSync } from 'node:fs';
import { open, rename } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import type { RouteTable } from '../types.js';
import { routeTable } from './validate.js';

export function emptyTable(): RouteTable {
  return { version: 1, services: {} };
}

export class RouteStore {
  private writing: Promise<void> | null = null;
  /** The newest table not yet written; saves that arrive during a write collapse into one. */
  private pending: RouteTable | null = null;
  private waiters: { resolve: () => void; reject: (err: unknown) => void }[] = [];

  constructor(
    readonly path: string,
    private readonly log: (line: string) => void,
  ) {}

  /** The stored table; a missing file is an empty table, a corrupt one is set aside and logged. */
  load(): RouteTable {
    let text: string;
    try {
      text = readFileSync(this.path, 'utf8');
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return emptyTable();
      throw err;
    }
    try {
      return routeTable(JSON.parse(text));
    } catch (err) {
      const aside = `${this.path}.corrupt-${Date.now()}`;
      try {
        renameSync(this.path, aside);
      } catch {
        // Keeping the bad file in place is fine: the next save replaces it.
      }
      this.log(
        `route table ${this.path} is unreadable (${(err as Error).message}); moved to ${aside}, starting empty`,
      );
      return emptyTable();
    }
  }

  /** Resolves once `table` (or a newer one) is durable on disk. */
  save(table: RouteTable): Promise<void> {
    this.pending = table;
    const done = new Promise<void>((resolve, reject) => this.waiters.push({ resolve, reject }));
    if (this.writing === null) this.writing = this.flush();
    return done;
  }

  private async flush(): Promise<void> {
    while (this.pending !== null) {
      const table = this.pending;
      const waiters = this.waiters;
      this.pending = null;
      this.waiters = [];
      try {
        await this.write(table);
        for (const w of waiters) w.resolve();
      } catch (err) {
        for (const w of waiters) w.reject(err);
      }
    }
    this.writing = null;
  }

  private async write(table: RouteTable): Promise<void> {
    const dir = dirname(this.path);
    mkdirSync(dir, { recursive: true });
    const temp = join(dir, `.${basename(this.path)}.${process.pid}.tmp`);
    const file = await open(temp, 'w', 0o600);
    try {
      await file.writeFile(`${JSON.stringify(table, null, 2)}\n`);
      await file.sync();
    } finally {
      await file.close();
    }
    await rename(temp, this.path);
    // The rename is only durable once the folder entry is on disk too.
    const folder = await open(dir, 'r');
    try {
      await folder.sync();
    } finally {
      await folder.close();
    }
  }
}
