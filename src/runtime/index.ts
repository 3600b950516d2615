// Public API of the runtime layer: the Runtime contract and its Docker Engine backend.
export type {
  ImageInfo,
  Instance,
  InstanceFile,
  InstanceHealth,
  InstanceRequest,
  InstanceState,
  InstanceUsage,
  LogRequest,
  PullPolicy,
  Runtime,
} from './types.js';
export * from './docker/index.js';
export * from './swarm/index.js';
