// How a daemon spawned by the CLI tells it, at once, whether it started: one message over the
// IPC channel of the spawn ("started", or "failed" with the error), and the child's exit when it
// dies before saying anything. The CLI no longer polls a socket for 20 s to learn that the
// daemon died in its first 100 ms; it shows the reason the daemon gave.
import type { ChildProcess } from 'node:child_process';
import { closeSync, openSync, readSync, statSync } from 'node:fs';
import { HotswapError, errorFromJSON, toHotswapError } from '../errors.js';

/** details.reason of the CONFLICT a second daemon's start fails with (see home-lock.ts). */
export const LOCK_HELD = 'home-lock-held';

type StartMessage =
  | { type: 'hotswap-daemon-started'; pid: number }
  | { type: 'hotswap-daemon-failed'; error: ReturnType<HotswapError['toJSON']> };

/** Set by the CLI in the daemon's environment: it waits on the IPC channel for the report. */
export const START_REPORT_ENV = 'HOTSWAP_START_REPORT';

/** True when this process was spawned by a CLI that waits for its start report. */
export function spawnedByCli(): boolean {
  cliWaits ??= process.env[START_REPORT_ENV] === '1' && typeof process.send === 'function';
  delete process.env[START_REPORT_ENV]; // not for the proxy the daemon spawns
  return cliWaits;
}
let cliWaits: boolean | null = null;

/** Daemon side: the daemon serves; the channel is closed so the CLI may exit. */
export function reportStarted(): void {
  if (!spawnedByCli() || !process.send) return;
  const msg: StartMessage = { type: 'hotswap-daemon-started', pid: process.pid };
  process.send(msg, () => process.disconnect?.());
}

/** Daemon side: why the start failed; resolves once the message is out. */
export function reportStartFailure(err: unknown): Promise<void> {
  const send = process.send?.bind(process);
  if (!spawnedByCli() || !send) return Promise.resolve();
  const msg: StartMessage = { type: 'hotswap-daemon-failed', error: toHotswapError(err).toJSON() };
  return new Promise((resolve) => {
    const ok = send(msg, () => resolve());
    if (!ok) resolve();
  });
}

/** A daemon that reported its failure exits right after; this long at most is waited for. */
const EXIT_AFTER_FAILURE_MS = 2_000;

export type StartOutcome = 'started' | 'another-daemon';

/**
 * CLI side: settles with the child's report. 'another-daemon' means it lost the home's lock to a
 * daemon starting at the same time (the caller waits for that one). Rejects with the daemon's
 * own error, or with the tail of its log when it exited without a word.
 */
export function waitForStart(
  child: ChildProcess,
  opts: { timeoutMs: number; logFile: string; logOffset: number },
): Promise<StartOutcome> {
  let timer: NodeJS.Timeout | undefined;
  return new Promise<StartOutcome>((resolve, reject) => {
    timer = setTimeout(
      () =>
        reject(
          new HotswapError(
            'DAEMON_UNAVAILABLE',
            `the daemon did not report its start within ${opts.timeoutMs} ms; see ${opts.logFile}`,
          ),
        ),
      opts.timeoutMs,
    );
    // The daemon's own reason, kept until it has exited: the CLI returns with no daemon left.
    let failure: HotswapError | null = null;
    child.on('message', (m: StartMessage) => {
      if (m?.type === 'hotswap-daemon-started') resolve('started');
      if (m?.type !== 'hotswap-daemon-failed') return;
      const err = errorFromJSON(m.error);
      if ((err.details as { reason?: string } | undefined)?.reason === LOCK_HELD)
        return resolve('another-daemon');
      const reason = new HotswapError(err.code, `the daemon could not start: ${err.message}`, {
        details: err.details,
      });
      failure = reason;
      clearTimeout(timer);
      timer = setTimeout(() => reject(reason), EXIT_AFTER_FAILURE_MS);
    });
    child.once('error', (err) =>
      reject(new HotswapError('DAEMON_UNAVAILABLE', `cannot start the daemon: ${err.message}`)),
    );
    child.once('exit', (code, signal) => {
      if (failure) return reject(failure);
      const tail = readTail(opts.logFile, opts.logOffset);
      reject(
        new HotswapError(
          'DAEMON_UNAVAILABLE',
          `the daemon exited at start (${signal ?? `exit code ${code}`})` +
            (tail ? `:\n${tail}` : `; see ${opts.logFile}`),
        ),
      );
    });
  }).finally(() => {
    clearTimeout(timer);
    child.removeAllListeners('message').removeAllListeners('exit');
    if (child.connected) child.disconnect();
    child.unref();
  });
}

/** The last lines the daemon wrote to its log since `offset` (at most 2 kB). */
function readTail(file: string, offset: number): string {
  try {
    const size = statSync(file).size;
    const start = Math.max(offset, size - 2048);
    const buf = Buffer.alloc(size - start);
    const fd = openSync(file, 'r');
    try {
      readSync(fd, buf, 0, buf.length, start);
    } finally {
      closeSync(fd);
    }
    return buf.toString('utf8').trim();
  } catch {
    return '';
  }
}
