// Tells an instance to read its files again: a signal to its main process, a command run in it,
// or an HTTP request to it. Each is cut at the reload's timeout: a trigger that hangs fails.
import { HotswapError } from '../errors.js';
import type { ReloadSpec } from '../spec/types.js';
import type { ReloadRuntime } from './runtime.js';

export interface TriggerTarget {
  id: string;
  address: string;
}

export async function trigger(
  runtime: ReloadRuntime,
  instance: TriggerTarget,
  how: ReloadSpec['trigger'],
  timeoutMs: number,
): Promise<void> {
  switch (how.type) {
    case 'signal':
      return runtime.signalInstance(instance.id, how.signal);
    case 'exec': {
      const r = await withTimeout(
        runtime.exec(instance.id, how.command, { timeoutMs }),
        timeoutMs,
        `exec ${how.command.join(' ')}`,
      );
      if (r.exitCode !== 0)
        throw new HotswapError(
          'ROLLOUT_FAILED',
          `reload command ${how.command.join(' ')} exited with ${r.exitCode}: ${r.output.trim().slice(-300)}`,
        );
      return;
    }
    case 'http': {
      const url = `http://${instance.address}${how.path}`;
      let res: Response;
      try {
        res = await fetch(url, { method: how.method, signal: AbortSignal.timeout(timeoutMs) });
      } catch (err) {
        const name = (err as Error).name;
        if (name === 'TimeoutError' || name === 'AbortError')
          throw new HotswapError(
            'TIMEOUT',
            `reload request ${how.method} ${how.path} took longer than ${timeoutMs} ms`,
          );
        throw new HotswapError(
          'ROLLOUT_FAILED',
          `reload request ${how.method} ${how.path} failed: ${(err as Error).message}`,
        );
      }
      await res.body?.cancel();
      if (res.status >= 300)
        throw new HotswapError(
          'ROLLOUT_FAILED',
          `reload request ${how.method} ${how.path} answered ${res.status}`,
        );
      return;
    }
  }
}

/** The exec API cannot kill a command that hangs: the wait for it is cut here. */
async function withTimeout<T>(work: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const cut = new Promise<never>((_, reject) => {
    timer = setTimeout(
      () => reject(new HotswapError('TIMEOUT', `reload trigger ${what} ran longer than ${ms} ms`)),
      ms,
    );
  });
  try {
    return await Promise.race([work, cut]);
  } finally {
    clearTimeout(timer);
  }
}
