// What the API needs to check callers and record what they did, built once by the daemon.
import { userInfo } from 'node:os';
import type { Store } from '../store/index.js';
import { AuditLog } from './audit-log.js';
import { HeadSigner } from './checkpoint.js';
import { Tokens } from './tokens.js';
import { ImagePolicies } from './images.js';
import type { ContainerPolicy } from './container-policy.js';

export interface Security {
  tokens: Tokens;
  audit: AuditLog;
  /** Who calls over the unix socket (mode 0600, so the daemon's own user): `local:<user>`. */
  localActor: string;
  containerPolicy: ContainerPolicy;
  images: ImagePolicies;
}

/** `home` null: no signed head of the audit chain (unit tests). */
export function openSecurity(
  store: Store,
  home: string | null,
  containerPolicy: ContainerPolicy = { allowedHostPaths: [] },
): Security {
  return {
    containerPolicy,
    images: new ImagePolicies(store),
    tokens: new Tokens(store),
    audit: new AuditLog(store, home === null ? null : new HeadSigner(home)),
    localActor: `local:${userInfo().username}`,
  };
}
