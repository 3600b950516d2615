// An instance request as a Swarm service: one replica, on the home's overlay network with DNS
// round robin (no VIP: the lab's kernel has no IPVS), hotswap.* labels, its limits and placement.
// Restart policy none: like the Docker backend, the controller replaces an instance that exits.
import { HotswapError } from '../../errors.js';
import type { InstanceRequest } from '../types.js';
import {
  LABEL_MANAGED,
  LABEL_PORT,
  LABEL_REVISION,
  LABEL_SCOPE,
  LABEL_SERVICE,
} from '../docker/labels.js';
import type { ServiceSpec } from './api.js';

/** Characters Swarm accepts in a service name (at most 63). */
export function nameSafe(s: string): string {
  return s.replace(/[^a-zA-Z0-9-]+/g, '-').replace(/^[^a-zA-Z0-9]+/, '') || 'x';
}

export function instanceServiceSpec(
  req: InstanceRequest,
  opts: { scope: string; name: string; networkId: string; constraints: string[] },
): ServiceSpec {
  refuseUnsupported(req);
  const labels = {
    [LABEL_MANAGED]: 'true',
    [LABEL_SCOPE]: opts.scope,
    [LABEL_SERVICE]: req.service,
    [LABEL_REVISION]: String(req.revision),
    [LABEL_PORT]: String(req.port),
  };
  const h = req.hardening;
  const r = req.resources;
  return {
    Name: opts.name,
    Labels: labels,
    TaskTemplate: {
      ContainerSpec: {
        Image: req.image,
        Labels: labels,
        Env: Object.entries(req.env).map(([k, v]) => `${k}=${v}`),
        ...(req.command ? { Args: req.command } : {}),
        StopGracePeriod: Math.max(0, req.stopGracePeriodMs) * 1e6,
        Mounts: req.volumes.map((v) => ({
          Type: v.source.startsWith('/') ? 'bind' : 'volume',
          Source: v.source,
          Target: v.target,
          ReadOnly: v.readOnly,
        })),
        ...(h?.user ? { User: h.user } : {}),
        ...(h?.readOnly ? { ReadOnly: true } : {}),
        ...(h?.capAdd?.length ? { CapabilityAdd: h.capAdd } : {}),
        ...(h?.capDrop?.length ? { CapabilityDrop: h.capDrop } : {}),
      },
      Resources: {
        Limits: {
          ...(r?.cpus !== undefined ? { NanoCPUs: Math.round(r.cpus * 1e9) } : {}),
          ...(r?.memory !== undefined ? { MemoryBytes: r.memory } : {}),
          ...((r?.pids ?? h?.pidsLimit) !== undefined ? { Pids: r?.pids ?? h?.pidsLimit } : {}),
        },
      },
      RestartPolicy: { Condition: 'none' },
      Placement: { Constraints: opts.constraints },
      Networks: [{ Target: opts.networkId }],
    },
    Mode: { Replicated: { Replicas: 1 } },
    EndpointSpec: { Mode: 'dnsrr' },
  };
}

/** Reload files are copied into a container on its engine, which a Swarm manager cannot do. */
function refuseUnsupported(req: InstanceRequest): void {
  if (req.files?.length) {
    throw new HotswapError(
      'UNSUPPORTED',
      `${req.service}: reload files are not supported on the Swarm backend`,
    );
  }
}
