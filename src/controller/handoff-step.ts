// The rollout's side of state hand-off (issue 16): before new instances join the proxy, each
// imports the state of an old one. Pairs follow the order old instances leave in (pickToStop),
// so in a rolling update the k-th new instance takes over from the k-th old one to be stopped.
import { toHotswapError } from '../errors.js';
import { captureState, handOff, reloadRuntime, restoreState } from '../reload/index.js';
import type { Runtime } from '../runtime/types.js';
import type { ServiceSpec } from '../spec/types.js';
import { pickToStop, type LiveInstance } from './live-group.js';

type Journal = (event: string, message: string, data: unknown) => void;

/** The state of an old instance read before it stopped (strategy: recreate), for its successor. */
export interface CapturedState {
  from: LiveInstance;
  data: Uint8Array;
}

/**
 * Hands state to each fresh instance. With onFail: fail, a failed hand-off retires the fresh
 * instances (they never served) and throws, which fails and undoes the rollout; with continue,
 * the failure and its reason are journaled and the instance starts without the state.
 */
export async function handOffToFresh(
  deps: { runtime: Runtime; retire: (id: string) => Promise<void> },
  spec: ServiceSpec,
  old: LiveInstance[],
  fresh: LiveInstance[],
  journal: Journal,
  captured: CapturedState[] = [],
): Promise<void> {
  const how = spec.handoff;
  if (!how || fresh.length === 0) return;
  // recreate: the old instances are gone; their states were captured before they stopped.
  const sources: Array<{ from: LiveInstance; data?: Uint8Array }> =
    old.length > 0 ? pickToStop(old, old.length).map((from) => ({ from })) : captured.splice(0);
  if (sources.length === 0) return;
  const rt = () => reloadRuntime(deps.runtime);
  for (const [k, to] of fresh.entries()) {
    const { from, data } = sources[k % sources.length]!;
    const pair = `${from.id.slice(0, 12)} (r${from.revision}) → ${to.id.slice(0, 12)} (r${to.revision})`;
    try {
      const r = data ? await restoreState(rt, how, data, to) : await handOff(rt, how, from, to);
      journal('handoff.done', `state handed off ${pair}: ${r.bytes} bytes in ${r.ms} ms`, {
        from: from.id,
        to: to.id,
        ...r,
      });
    } catch (err) {
      const reason = toHotswapError(err).message;
      journal('handoff.failed', `hand-off ${pair} failed: ${reason} (onFail: ${how.onFail})`, {
        from: from.id,
        to: to.id,
        reason,
        onFail: how.onFail,
      });
      if (how.onFail === 'continue') continue;
      await Promise.all(fresh.map((f) => deps.retire(f.id).catch(() => undefined)));
      throw err;
    }
  }
}

/**
 * strategy: recreate (issue 16): reads the state of old instances that drained and are about to
 * stop, into the daemon's memory (at most maxBytes each). A failure is journaled; with onFail:
 * fail it throws, and the caller puts the instances, still running, back into the balancer.
 */
export async function captureBeforeStop(
  runtime: Runtime,
  spec: ServiceSpec,
  victims: LiveInstance[],
  journal: Journal,
): Promise<CapturedState[]> {
  const how = spec.handoff;
  if (!how || spec.strategy.type !== 'recreate') return [];
  const out: CapturedState[] = [];
  for (const from of victims) {
    try {
      const data = await captureState(() => reloadRuntime(runtime), how, from);
      out.push({ from, data });
      journal(
        'handoff.captured',
        `state of ${from.id.slice(0, 12)} read: ${data.byteLength} bytes`,
        {
          from: from.id,
          bytes: data.byteLength,
        },
      );
    } catch (err) {
      const reason = toHotswapError(err).message;
      journal(
        'handoff.failed',
        `reading the state of ${from.id.slice(0, 12)} failed: ${reason} (onFail: ${how.onFail})`,
        {
          from: from.id,
          reason,
          onFail: how.onFail,
        },
      );
      if (how.onFail === 'fail') throw err;
    }
  }
  return out;
}
