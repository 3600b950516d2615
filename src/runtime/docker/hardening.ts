// A service's hardening fields (issue 14) as Docker's container-create settings.
import type { HardeningSpec } from '../../spec/types.js';
import type { ContainerCreateBody } from './containers.js';

export function applyHardening(body: ContainerCreateBody, h: HardeningSpec | undefined): void {
  if (!h) return;
  const host = (body.HostConfig ??= {});
  if (h.user !== undefined) body.User = h.user;
  if (h.readOnly !== undefined) host.ReadonlyRootfs = h.readOnly;
  if (h.capDrop !== undefined) host.CapDrop = h.capDrop;
  if (h.capAdd !== undefined) host.CapAdd = h.capAdd;
  if (h.noNewPrivileges) host.SecurityOpt = ['no-new-privileges:true'];
  if (h.pidsLimit !== undefined) host.PidsLimit = h.pidsLimit;
  if (h.tmpfs !== undefined) host.Tmpfs = h.tmpfs;
}
