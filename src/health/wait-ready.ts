import { setTimeout as sleep } from 'node:timers/promises';
import { HotswapError } from '../errors.js';
import type { HealthSpec } from '../spec/types.js';
import { probe, type ProbeResult, type ProbeTarget } from './probe.js';

export interface WaitReadyOptions {
  runtime: ProbeTarget['runtime'];
  instanceId: string;
  address: string;
  health: HealthSpec;
  signal?: AbortSignal;
  onProbe?: (result: ProbeResult, consecutive: number) => void;
}

interface Phase {
  name: 'startup' | 'readiness';
  intervalMs: number;
  healthyThreshold: number;
  deadlineMs: number;
}

/**
 * Resolves once the instance passed healthyThreshold probes in a row (zero-downtime rule 1).
 * With a startup phase, that phase must pass first within its own deadline; the readiness
 * deadline starts when it ends, so a slow starter does not need a lax readiness deadline.
 * Rejects with HEALTH_DEADLINE when a deadline passes first, or INSTANCE_EXITED as soon as the
 * container is seen dead — no point waiting out the deadline for a crashed process.
 */
export async function waitReady(opts: WaitReadyOptions): Promise<void> {
  const { health } = opts;
  if (health.startup) await passPhase(opts, { name: 'startup', ...health.startup });
  await passPhase(opts, {
    name: 'readiness',
    intervalMs: health.intervalMs,
    healthyThreshold: health.healthyThreshold,
    deadlineMs: health.deadlineMs,
  });
}

async function passPhase(opts: WaitReadyOptions, phase: Phase): Promise<void> {
  const { health } = opts;
  const target = { instanceId: opts.instanceId, address: opts.address, runtime: opts.runtime };
  const deadline = Date.now() + phase.deadlineMs;
  let consecutive = 0;
  let last: ProbeResult = { ok: false, detail: 'not probed yet' };
  while (Date.now() < deadline) {
    opts.signal?.throwIfAborted();
    last = await probe(health.check, target, health.timeoutMs);
    consecutive = last.ok ? consecutive + 1 : 0;
    opts.onProbe?.(last, consecutive);
    if (consecutive >= phase.healthyThreshold) return;
    if (!last.ok) await assertAlive(opts);
    await sleep(Math.min(phase.intervalMs, Math.max(0, deadline - Date.now())), undefined, {
      signal: opts.signal,
    });
  }
  const what = phase.name === 'startup' ? 'did not start (startup phase)' : 'not healthy';
  throw new HotswapError(
    'HEALTH_DEADLINE',
    `instance ${opts.instanceId.slice(0, 12)} ${what} within ${phase.deadlineMs} ms (last probe: ${last.detail})`,
    { details: { instance: opts.instanceId, phase: phase.name, lastProbe: last.detail } },
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
