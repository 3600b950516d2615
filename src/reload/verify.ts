// Checks that an instance took its new files: an HTTP answer with the expected status (and body
// text), or the service's own health probe. Polled until it passes or the timeout ends, since a
// process reloads a little after it was told to.
import { setTimeout as sleep } from 'node:timers/promises';
import { HotswapError } from '../errors.js';
import { probe, type ProbeTarget } from '../health/index.js';
import type { HealthSpec, ReloadSpec } from '../spec/types.js';

const POLL_MS = 100;

export async function verify(
  target: ProbeTarget,
  how: ReloadSpec['verify'],
  health: HealthSpec,
  timeoutMs: number,
): Promise<void> {
  if (how === null) return;
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const left = Math.max(1, deadline - Date.now());
    const last = await once(target, how, health, Math.min(left, 2000));
    if (last === '') return;
    if (Date.now() + POLL_MS > deadline)
      throw new HotswapError('ROLLOUT_FAILED', `reload verify failed for ${timeoutMs} ms: ${last}`);
    await sleep(POLL_MS);
  }
}

/** '' when the check passes, else what was wrong. */
async function once(
  target: ProbeTarget,
  how: NonNullable<ReloadSpec['verify']>,
  health: HealthSpec,
  timeoutMs: number,
): Promise<string> {
  if (how.type === 'probe') {
    const r = await probe(health.check, target, timeoutMs);
    return r.ok ? '' : `health probe: ${r.detail}`;
  }
  try {
    const res = await fetch(`http://${target.address}${how.path}`, {
      signal: AbortSignal.timeout(timeoutMs),
    });
    const body = await res.text();
    const statusOk = how.status === null ? res.status < 300 : res.status === how.status;
    if (!statusOk) return `GET ${how.path} answered ${res.status}`;
    if (how.body !== null && !body.includes(how.body))
      return `GET ${how.path} answered without "${how.body}"`;
    return '';
  } catch (err) {
    return `GET ${how.path}: ${(err as Error).message}`;
  }
}
