// Waiting for a process to be gone, by pid: the daemon waits for the proxy it stopped or killed,
// and `down` waits for the daemon, so that "down" means no process of the home is left.
import { setTimeout as sleep } from 'node:timers/promises';

/** True when no process has this pid (ESRCH). A pid we may not signal (EPERM) is alive. */
export function gone(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return false;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'ESRCH';
  }
}

/** Resolves true once the process is gone, false if it still runs after timeoutMs. */
export async function waitForExit(pid: number, timeoutMs: number): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  while (!gone(pid)) {
    if (Date.now() > deadline) return false;
    await sleep(20);
  }
  return true;
}
