export { AuditLog } from './audit-log.js';
export { chainNext, entryHash, GENESIS, verifyChain, type VerifyResult } from './audit-chain.js';
export { assertSafeHome } from './home-safety.js';
export { isRole, roleAllows, ROLES, type Permission, type Role } from './roles.js';
export { findRule, matchRule, ROUTE_RULES, roleTable, type RouteRule } from './rules.js';
export { openSecurity, type Security } from './security.js';
export { Tokens, type TokenInfo, type TokenRequest } from './tokens.js';
export { loadConfig, type DaemonConfig, type RemoteApiConfig } from './config.js';
export type { RuntimeConfig, SwarmRuntimeConfig } from './runtime-config.js';
export { listenRemote, type RemoteListener } from './remote-listener.js';
export { selfSignedCertificate } from './x509.js';
export { daysLikeMs } from './expiry.js';
export {
  checkContainerPolicy,
  checkRemoteEnvFiles,
  type ContainerPolicy,
} from './container-policy.js';
export { readSecretEnv } from './secrets.js';
export { redactEnv, redactUrl, REDACTED } from './redact.js';
export { ImagePolicies, REFUSED_EVENT } from './images.js';
export { parseImagePolicy, type ImagePolicy } from './image-policy.js';
export {
  signatureTag,
  simpleSigningPayload,
  SIGNATURE_ANNOTATION,
  SIMPLE_SIGNING_TYPE,
} from './cosign.js';
export { preflightServices, runHook } from './preflight.js';
