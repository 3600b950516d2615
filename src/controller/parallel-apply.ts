// How `up` of many services runs them side by side: independent services roll in parallel, at
// most `limit` at a time; services that share a proxy address are rolled one after another.
import type { ServiceSpec } from '../spec/types.js';

/** Services an `up` rolls at once unless told otherwise (`up --parallel N`). */
export const DEFAULT_APPLY_PARALLEL = 8;
/** The most an `up` may ask for: beyond it the engine, not hotswap, is the limit. */
export const MAX_APPLY_PARALLEL = 64;

/** Every proxy address a service binds: its listener, a blue-green preview, a TLS redirect. */
function addressesOf(svc: ServiceSpec): string[] {
  const out = [svc.listen];
  if (svc.strategy.type === 'blue-green' && svc.strategy.previewListen)
    out.push(svc.strategy.previewListen);
  if (svc.tls?.redirect) out.push(svc.tls.redirect);
  return out;
}

/**
 * The services split into chains, each rolled in order: two services that share an address (SNI
 * or host routing on one listener, one redirect listener) land in one chain, so that a listener
 * is never set up by two rollouts at once. Chains keep the spec's order, and so do their members.
 */
export function applyChains(services: readonly ServiceSpec[]): ServiceSpec[][] {
  const order = new Map(services.map((s, i) => [s, i]));
  const chains: ServiceSpec[][] = [];
  const chainOf = new Map<string, ServiceSpec[]>();
  for (const svc of services) {
    const joined = [
      ...new Set(
        addressesOf(svc)
          .map((a) => chainOf.get(a))
          .filter(isChain),
      ),
    ];
    const chain = joined[0] ?? [];
    if (joined.length === 0) chains.push(chain);
    // A service bridging two chains merges them; the merged chain keeps the spec's order.
    for (const other of joined.slice(1)) {
      chain.push(...other);
      chains.splice(chains.indexOf(other), 1);
    }
    chain.push(svc);
    chain.sort((a, b) => order.get(a)! - order.get(b)!);
    for (const s of chain) for (const a of addressesOf(s)) chainOf.set(a, chain);
  }
  return chains;
}

function isChain(c: ServiceSpec[] | undefined): c is ServiceSpec[] {
  return c !== undefined;
}

/**
 * Runs `fn` over `items` with at most `limit` calls in flight; the results come in the items'
 * order. After a call throws no new one starts; those already running finish (a rollout is never
 * left half-done), then the first error is thrown.
 */
export async function runBounded<T, R>(
  items: readonly T[],
  limit: number,
  fn: (item: T, index: number) => Promise<R>,
): Promise<R[]> {
  const results = new Array<R>(items.length);
  let next = 0;
  let failure: { error: unknown } | null = null;
  const worker = async (): Promise<void> => {
    while (failure === null && next < items.length) {
      const i = next++;
      try {
        results[i] = await fn(items[i]!, i);
      } catch (error) {
        failure ??= { error };
      }
    }
  };
  const workers = Math.max(1, Math.min(Math.floor(limit), items.length));
  await Promise.all(Array.from({ length: workers }, worker));
  if (failure !== null) throw (failure as { error: unknown }).error;
  return results;
}
