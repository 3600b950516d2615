// The rollout's side of state hand-off (issue 16): before new instances join the proxy, each
// imports the state of an old one. Pairs follow the order old instances leave in (pickToStop),
// so in a rolling update the k-th new instance takes over from the k-th old one to be stopped.
import { toHotswapError } from '../errors.js';
import { handOff, reloadRuntime } from '../reload/index.js';
import type { Runtime } from '../runtime/types.js';
import type { ServiceSpec } from '../spec/types.js';
import { pickToStop, type LiveInstance } from './live-group.js';

type Journal = (event: string, message: string, data: unknown) => void;

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
): Promise<void> {
  const how = spec.handoff;
  if (!how || old.length === 0 || fresh.length === 0) return;
  const order = pickToStop(old, old.length);
  for (const [k, to] of fresh.entries()) {
    const from = order[k % order.length]!;
    const pair = `${from.id.slice(0, 12)} (r${from.revision}) → ${to.id.slice(0, 12)} (r${to.revision})`;
    try {
      const r = await handOff(() => reloadRuntime(deps.runtime), how, from, to);
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
