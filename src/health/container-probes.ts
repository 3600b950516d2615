// Probes that run through the engine rather than the network: a command inside the container
// (exec), and the image's own HEALTHCHECK status (docker). Both never throw.
import type { ProbeResult, ProbeTarget } from './probe.js';

/** Output kept in a probe's detail: enough to see why, not a log. */
const DETAIL_CHARS = 200;

export async function execProbe(
  target: ProbeTarget,
  command: string[],
  timeoutMs: number,
): Promise<ProbeResult> {
  const shown = command.join(' ');
  if (!target.runtime.exec) return { ok: false, detail: `exec ${shown}: runtime cannot exec` };
  try {
    const r = await target.runtime.exec(target.instanceId, command, { timeoutMs });
    const out = r.output.trim().slice(-DETAIL_CHARS);
    return {
      ok: r.exitCode === 0,
      detail: `exec ${shown} → exit ${r.exitCode}${out ? `: ${out}` : ''}`,
    };
  } catch (err) {
    return { ok: false, detail: `exec ${shown}: ${(err as Error).message}` };
  }
}

/**
 * Passes only on "healthy". An image without a HEALTHCHECK never passes: that is a spec mistake
 * the detail names, rather than a silent pass.
 */
export async function dockerProbe(target: ProbeTarget): Promise<ProbeResult> {
  try {
    const info = await target.runtime.inspectInstance(target.instanceId);
    if (!info) return { ok: false, detail: 'docker health: container is gone' };
    const status = info.health ?? 'none';
    if (status === 'none')
      return { ok: false, detail: 'docker health: the image declares no HEALTHCHECK' };
    return { ok: status === 'healthy', detail: `docker health: ${status}` };
  } catch (err) {
    return { ok: false, detail: `docker health: ${(err as Error).message}` };
  }
}
