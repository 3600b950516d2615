// The log file of one process, kept under a size cap. Lines are appended synchronously (a log
// line is rare and small, and a line written just before a crash must be on disk). Past the cap
// the file is copied to `<file>.1` and truncated in place rather than renamed: the process's
// stderr (where Node writes an uncaught exception's stack) is the same file, opened with
// O_APPEND by whoever spawned it, and keeps writing at the new end.
import { closeSync, copyFileSync, fstatSync, ftruncateSync, openSync, writeSync } from 'node:fs';

/** Default cap of one log file; the rotated copy doubles what a process may keep on disk. */
export const DEFAULT_LOG_MAX_BYTES = 10 * 1024 * 1024;

export class CappedFile {
  private fd: number;
  private size: number;

  constructor(
    readonly path: string,
    private readonly maxBytes = DEFAULT_LOG_MAX_BYTES,
  ) {
    this.fd = openSync(path, 'a', 0o600);
    this.size = fstatSync(this.fd).size;
  }

  write(text: string): void {
    const bytes = Buffer.byteLength(text);
    try {
      if (this.size + bytes > this.maxBytes && this.size > 0) this.rotate();
      writeSync(this.fd, text);
      this.size += bytes;
    } catch {
      // A full disk (ENOSPC) loses this line; it must not take the process down with it.
    }
  }

  /** Whether an open file descriptor (stderr) is this very file. */
  isSameFile(fd: number): boolean {
    try {
      const a = fstatSync(fd);
      const b = fstatSync(this.fd);
      return a.dev === b.dev && a.ino === b.ino;
    } catch {
      return false;
    }
  }

  close(): void {
    closeSync(this.fd);
  }

  private rotate(): void {
    // Another writer (stderr) may have grown the file: its real size is what is copied.
    copyFileSync(this.path, `${this.path}.1`);
    ftruncateSync(this.fd, 0);
    this.size = 0;
  }
}
