// Private networks and service discovery (issue 16). Before services are deployed, their networks
// are made to exist on the engine (refused when the name is taken by a network hotswap did not
// create), and each service learns where its peers answer: every service sharing one of its
// networks, by name, at that network's gateway — the address where hotswap's proxy answers for
// them. So a call from one service to another goes through the proxy, and stays up while the
// callee is updated, exactly as traffic from outside does.
import type { Runtime } from '../runtime/types.js';
import { networksOf, peersOf } from '../spec/index.js';
import type { ResolvedNetwork, ServiceSpec } from '../spec/types.js';
import type { Store } from '../store/index.js';

/**
 * The services with `peers` filled in: the services of the whole spec being applied and those
 * already in the store (a spec may be applied one service at a time) that share a network.
 */
export function withPeers(
  store: Store,
  services: ServiceSpec[],
  specServices: ServiceSpec[],
): ServiceSpec[] {
  const known = new Map(store.services.list().map((s) => [s.name, s.spec]));
  for (const s of specServices) known.set(s.name, s);
  const all = [...known.values()];
  return services.map((service) => {
    const out: ServiceSpec = { ...service };
    delete out.peers;
    const peers = peersOf(service, all);
    if (peers.length > 0) out.peers = peers;
    return out;
  });
}

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
    // Its own name too: a service may call itself through the proxy.
    const hosts = [service.name, ...(service.peers ?? [])].flatMap((name) => {
      const peer = name === service.name ? service : known.get(name);
      const onPeer = new Set(peer ? networksOf(peer).map((n) => n.name) : []);
      const shared = networks.find((n) => onPeer.has(n.name));
      return shared ? [`${name}:${shared.gateway}`] : [];
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

/**
 * Before instances start (a rollout's or self-healing's): the service's networks exist. One
 * removed behind hotswap's back (`docker network prune` while no container used it) is created
 * again; if it came back at another gateway, the names its peers resolve are stale until the
 * next `up`, and that is said.
 */
export async function ensureAttached(
  runtime: Runtime,
  spec: ServiceSpec,
  journal: (event: string, message: string, data: unknown) => void,
): Promise<void> {
  if (!runtime.ensureNetwork) return;
  for (const net of spec.attached?.networks ?? []) {
    const now = await runtime.ensureNetwork(net.name, net.internal);
    if (now.gateway !== net.gateway)
      journal(
        'network.moved',
        `network ${net.name} is at ${now.gateway} now (was ${net.gateway}): run \`hotswap up\` so that names on it lead to the proxy again`,
        { network: net.name, gateway: now.gateway, was: net.gateway },
      );
  }
}
