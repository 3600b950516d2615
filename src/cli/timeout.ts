// --timeout on the verbs that wait (up, rollback, restart, down, rollout status --watch, logs -f):
// a script gets exit code 7 instead of waiting for ever. The operation itself goes on in the
// daemon; only the waiting ends.
import type { Command } from 'commander';
import { HotswapError } from '../errors.js';
import { formatDuration, parseDuration } from '../spec/index.js';

export function addTimeoutOption(cmd: Command): Command {
  return cmd.option(
    '--timeout <duration>',
    'stop waiting after this long, e.g. 90s or 5m (exit code 7)',
    parseTimeout,
  );
}

function parseTimeout(value: string): number {
  const ms = parseDuration(value);
  if (typeof ms === 'string' || ms === 0) {
    const why = typeof ms === 'string' ? ms : 'zero';
    throw new HotswapError(
      'USAGE',
      `--timeout: expected a duration like 90s or 5m, got "${value}" (${why})`,
    );
  }
  return ms;
}

/** Runs fn; TIMEOUT when it has not finished after ms (no limit when ms is undefined). */
export async function withTimeout<T>(
  ms: number | undefined,
  what: string,
  fn: () => Promise<T>,
): Promise<T> {
  if (ms === undefined) return fn();
  let timer: NodeJS.Timeout | undefined;
  const expired = new Promise<never>((_, reject) => {
    timer = setTimeout(() => {
      const message = `${what} did not finish within ${formatDuration(ms)}; it goes on in the daemon (see hotswap status)`;
      reject(new HotswapError('TIMEOUT', message, { details: { timeoutMs: ms } }));
    }, ms);
  });
  try {
    return await Promise.race([fn(), expired]);
  } finally {
    clearTimeout(timer);
  }
}
