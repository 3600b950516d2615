// The Swarm lab's API for tests and benchmarks (test/helpers/lab.ts re-exports it with notes).
export { labConfig, labNode } from './config.js';
export type { LabConfig, LabNode } from './config.js';
export { labDown, labUp } from './lab.js';
export type { LabRunOptions } from './lab.js';
export { labImages, pushLabImages } from './images.js';
export type { LabImages } from './images.js';
export { pushImage, pushImages, repoAndTag } from './push.js';
export type { PushedImage } from './push.js';
export { cutNode, killManager, nodeStatus, restartNode, restoreNode } from './nodes.js';
export { engineAnswers } from './dockerd.js';
export { startLabLoad } from './load.js';
export type { LabLoad, LabLoadOptions } from './load.js';
export { registryAnswers } from './registry.js';
export { dockerOn, nodeRows, nodeStatuses, swarmInfo, SWARM_ADDR_POOL } from './swarm.js';
export {
  anyManager,
  createHostService,
  removeScopedServices,
  runningWith,
  serviceTasks,
  updateState,
  waitRunning,
} from './services.js';
export type { HostServiceOptions, TaskRow } from './services.js';
