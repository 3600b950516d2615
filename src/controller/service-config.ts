import type { ServiceConfig, TlsConfig } from '../proxy/types.js';
import type { ServiceSpec } from '../spec/types.js';

/** What the proxy needs to know of a service: its listener and how it routes and drains. */
export function serviceConfig(spec: ServiceSpec): ServiceConfig {
  const acme = spec.tls?.acme ?? null;
  return {
    tls: proxyTls(spec),
    maxBodyBytes: spec.limits.maxBodyBytes,
    maxConnections: spec.limits.maxConnections,
    maxLongMs: spec.limits.maxConnectionDurationMs,
    tcpIdleMs: spec.limits.tcpIdleTimeoutMs,
    // An ACME certificate's files are filled in by the daemon's ACME router (src/tls/).
    ...(acme === null ? {} : { acme: { ...acme, hosts: spec.routing.hosts } }),
    listen: spec.listen,
    mode: spec.mode,
    hosts: spec.routing.hosts,
    ...(spec.routing.pathPrefix === null ? {} : { pathPrefix: spec.routing.pathPrefix }),
    sticky: spec.routing.sticky,
    override: spec.routing.override,
    longConnections: spec.drain.longConnections,
    // issue 16: the proxy answers on each private network's gateway, at the service's own port
    ...privateListeners(spec),
  };
}

/**
 * Where the proxy answers for the service on its networks: each gateway, at the service's port.
 * A tcp service answers by port alone, so it does so only on networks the spec names for it:
 * on the shared default network its port could be any http service's too.
 */
function privateListeners(spec: ServiceSpec): Pick<ServiceConfig, 'private'> {
  const networks = spec.attached?.networks ?? [];
  if (networks.length === 0 || (spec.mode === 'tcp' && spec.networks === undefined)) return {};
  return {
    private: networks.map((n) => ({ listen: `${n.gateway}:${spec.port}`, subnet: n.subnet })),
  };
}

function proxyTls(spec: ServiceSpec): TlsConfig | null {
  const tls = spec.tls;
  if (tls === null) return null;
  const out: TlsConfig = { cert: tls.cert ?? '', key: tls.key ?? '' };
  if (tls.hstsMaxAgeS > 0) out.hstsMaxAge = tls.hstsMaxAgeS;
  if (tls.hstsIncludeSubDomains) out.hstsIncludeSubDomains = true;
  if (tls.redirect !== null) out.redirect = tls.redirect;
  return out;
}

/** The proxy service a blue-green rollout exposes its new revision on. */
export function previewName(service: string): string {
  return `${service}--preview`;
}
