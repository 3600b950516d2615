import type { ServiceConfig, TlsConfig } from '../proxy/types.js';
import type { ServiceSpec } from '../spec/types.js';

/** Where a service's certificate is: the spec's files, or the ACME manager's in the home. */
export type CertificateFiles = (spec: ServiceSpec) => { cert: string; key: string } | null;

/** The spec's own files (ACME services have none until the ACME manager provides them). */
export const specCertificateFiles: CertificateFiles = (spec) =>
  spec.tls?.cert != null && spec.tls.key !== null
    ? { cert: spec.tls.cert, key: spec.tls.key }
    : null;

/** What the proxy needs to know of a service: its listener and how it routes and drains. */
export function serviceConfig(
  spec: ServiceSpec,
  files: CertificateFiles = specCertificateFiles,
): ServiceConfig {
  return {
    tls: proxyTls(spec, files),
    listen: spec.listen,
    mode: spec.mode,
    hosts: spec.routing.hosts,
    ...(spec.routing.pathPrefix === null ? {} : { pathPrefix: spec.routing.pathPrefix }),
    sticky: spec.routing.sticky,
    override: spec.routing.override,
    longConnections: spec.drain.longConnections,
  };
}

function proxyTls(spec: ServiceSpec, files: CertificateFiles): TlsConfig | null {
  const tls = spec.tls;
  const where = files(spec);
  if (tls === null || where === null) return null;
  const out: TlsConfig = { ...where };
  if (tls.hstsMaxAgeS > 0) out.hstsMaxAge = tls.hstsMaxAgeS;
  if (tls.hstsIncludeSubDomains) out.hstsIncludeSubDomains = true;
  if (tls.redirect !== null) out.redirect = tls.redirect;
  return out;
}

/** The proxy service a blue-green rollout exposes its new revision on. */
export function previewName(service: string): string {
  return `${service}--preview`;
}
