// The Docker Swarm backend (issue 17).
export { SwarmApi } from './api.js';
export type {
  PortConfig,
  ServiceSpec as SwarmServiceSpec,
  SwarmNode,
  SwarmService,
  SwarmTask,
} from './api.js';
export { assertManager } from './manager-check.js';
export { pinnedImage, repositoryOf } from './images.js';
export { instanceServiceSpec, nameSafe } from './service-spec.js';
export { isDown, nodeValue, spreadConstraints, usableNodes } from './spread.js';
export { SwarmRuntime } from './runtime.js';
export type { Reach, SwarmRuntimeOptions } from './runtime.js';
export { latestTask, taskAddress, taskReason, taskState, toInstance } from './tasks.js';
export {
  LABEL_ROLE,
  ensureProxyService,
  findProxyService,
  proxyEndpoints,
  proxyServiceName,
  proxyServiceSpec,
  removeProxyService,
} from './proxy-service.js';
export type { ProxyServiceOptions, ProxyTaskEndpoint } from './proxy-service.js';
