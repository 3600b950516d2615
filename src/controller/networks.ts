// Private networks and service discovery (issue 16). Before services are deployed, their networks
// are made to exist on the engine (refused when the name is taken by a network hotswap did not
// create), and each service learns where its peers answer: every service sharing one of its
// networks, by name, at that network's gateway — the address where hotswap's proxy answers for
// them. So a call from one service to another goes through the proxy, and stays up while the
// callee is updated, exactly as traffic from outside does.
import type { Runtime } from '../runtime/types.js';
import { networksOf } from '../spec/index.js';
import type { ResolvedNetwork, ServiceSpec } from '../spec/types.js';
import type { Store } from '../store/index.js';

/**
 * The services with `attached` filled in. `peers` are the services of the whole spec being
 * applied; those already in the store count too (a spec may be applied one service at a time).
 */
export async function attachNetworks(
  runtime: Runtime,
  store: Store,
  services: ServiceSpec[],
  peers: ServiceSpec[],
): Promise<ServiceSpec[]> {
  const ensure = runtime.ensureNetwork?.bind(runtime);
  if (!ensure) return services;
  const resolved = new Map<string, ResolvedNetwork>();
  for (const net of services.flatMap(networksOf)) {
    if (resolved.has(net.name)) continue;
    const engine = await ensure(net.name, net.internal);
    resolved.set(net.name, { ...net, ...engine });
  }
  const known = new Map(store.services.list().map((s) => [s.name, s.spec]));
  for (const p of peers) known.set(p.name, p);
  return services.map((service) => {
    const networks = networksOf(service).map((n) => resolved.get(n.name)!);
    const hosts = [...known.values()].flatMap((peer) => {
      const onPeer = new Set(networksOf(peer).map((n) => n.name));
      const shared = networks.find((n) => onPeer.has(n.name));
      return shared ? [`${peer.name}:${shared.gateway}`] : [];
    });
    return { ...service, attached: { networks, hosts } };
  });
}

/** After a `down`: this home's networks that no remaining service is on and no container uses. */
export async function removeUnusedNetworks(runtime: Runtime, store: Store): Promise<string[]> {
  if (!runtime.removeUnusedNetworks) return [];
  const keep = new Set(
    store.services
      .list()
      .flatMap((s) => s.spec.attached?.networks ?? [])
      .map((n) => n.dockerName),
  );
  return runtime.removeUnusedNetworks(keep);
}
