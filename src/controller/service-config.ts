import type { ServiceConfig } from '../proxy/types.js';
import type { ServiceSpec } from '../spec/types.js';

/** What the proxy needs to know of a service: its listener and how it routes and drains. */
export function serviceConfig(spec: ServiceSpec): ServiceConfig {
  return {
    listen: spec.listen,
    mode: spec.mode,
    hosts: spec.routing.hosts,
    ...(spec.routing.pathPrefix === null ? {} : { pathPrefix: spec.routing.pathPrefix }),
    sticky: spec.routing.sticky,
    override: spec.routing.override,
    longConnections: spec.drain.longConnections,
  };
}

/** The proxy service a blue-green rollout exposes its new revision on. */
export function previewName(service: string): string {
  return `${service}--preview`;
}
