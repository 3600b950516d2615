// A small tmpfs to hold a hotswap home, so a test can fill it (ENOSPC) and free it again.
// Mounting needs root. destroy() unmounts it and removes the mount point.
import { spawnSync } from 'node:child_process';
import { closeSync, mkdtempSync, openSync, rmSync, writeSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export class SmallDisk {
  private readonly onExit = (): void => this.destroy();

  private constructor(readonly dir: string) {
    process.once('exit', this.onExit); // a run that ends early still unmounts it
  }

  static mount(sizeMb = 64): SmallDisk {
    const dir = mkdtempSync(join(tmpdir(), 'hotswap-smalldisk-'));
    const res = spawnSync('mount', [
      '-t',
      'tmpfs',
      '-o',
      `size=${sizeMb}m,mode=0700`,
      'tmpfs',
      dir,
    ]);
    if (res.status !== 0) {
      rmSync(dir, { recursive: true, force: true });
      throw new Error(`mount tmpfs on ${dir}: ${String(res.stderr)} (needs root)`);
    }
    return new SmallDisk(dir);
  }

  get home(): string {
    return join(this.dir, 'home');
  }

  private get filler(): string {
    return join(this.dir, 'filler');
  }

  /** Writes until the file system is full; returns how many bytes went in. */
  fill(): number {
    const fd = openSync(this.filler, 'a');
    const chunk = Buffer.alloc(1 << 20, 1);
    let total = 0;
    try {
      for (;;) total += writeSync(fd, chunk);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'ENOSPC') throw err;
      // The last blocks: smaller writes until not even one byte fits.
      for (let size = 4096; size >= 1; size = Math.floor(size / 2)) {
        try {
          for (;;) total += writeSync(fd, chunk.subarray(0, size));
        } catch {
          // full at this size; try smaller
        }
      }
    } finally {
      closeSync(fd);
    }
    return total;
  }

  free(): void {
    rmSync(this.filler, { force: true });
  }

  destroy(): void {
    process.removeListener('exit', this.onExit);
    spawnSync('umount', ['-l', this.dir]);
    rmSync(this.dir, { recursive: true, force: true });
  }
}
