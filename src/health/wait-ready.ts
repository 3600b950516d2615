import { setTimeout as sleep } from 'node:timers/promises';
import { HotswapError } from '../errors.js';
import type { Runtime } from '../runtime/types.js';
import type { HealthSpec } from '../spec/types.js';
import { probe, type ProbeResult } from './probe.js';

export interface WaitReadyOptions {
  runtime: Pick<Runtime, 'inspectInstance'>;
  instanceId: string;
  address: string;
  health: HealthSpec;
  signal?: AbortSignal;
  onProbe?: (result: ProbeResult, consecutive: number) => void;
}

/**
 * Resolves once the instance passed healthyThreshold probes in a row (zero-downtime rule 1).
 * Rejects with HEALTH_DEADLINE when the deadline passes first, or INSTANCE_EXITED as soon as the
 * container is seen dead — no point waiting out the deadline for a crashed process.
 */
export async function waitReady(opts: WaitReadyOptions): Promise<void> {
  const { health } = opts;
  const deadline = Date.now() + health.deadlineMs;
  let consecutive = 0;
  let last: ProbeResult = { ok: false, detail: 'not probed yet' };
  while (Date.now() < deadline) {
    opts.signal?.throwIfAborted();
    last = await probe(health.check, opts.address, health.timeoutMs);
    consecutive = last.ok ? consecutive + 1 : 0;
    opts.onProbe?.(last, consecutive);
    if (consecutive >= health.healthyThreshold) return;
    if (!last.ok) await assertAlive(opts);
    await sleep(Math.min(health.intervalMs, Math.max(0, deadline - Date.now())), undefined, {
      signal: opts.signal,
    });
  }
  throw new HotswapError(
    'HEALTH_DEADLINE',
    `instance ${opts.instanceId.slice(0, 12)} not healthy within ${health.deadlineMs} ms (last probe: ${last.detail})`,
    { details: { instance: opts.instanceId, lastProbe: last.detail } },
  );
}

async function assertAlive(opts: WaitReadyOptions): Promise<void> {
  const info = await opts.runtime.inspectInstance(opts.instanceId);
  if (info && info.state !== 'exited' && info.state !== 'dead') return;
  const code = info?.exitCode ?? null;
  throw new HotswapError(
    'INSTANCE_EXITED',
    `instance ${opts.instanceId.slice(0, 12)} exited${code === null ? '' : ` with code ${code}`} before becoming healthy`,
    { details: { instance: opts.instanceId, exitCode: code } },
  );
}
