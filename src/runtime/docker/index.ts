export {
  DockerClient,
  DEFAULT_SOCKET_PATH,
  MAX_API_VERSION,
  MIN_API_VERSION,
  compareApiVersions,
  resolveSocketPath,
} from './client.js';
export type {
  BufferedResponse,
  DockerClientOptions,
  DockerVersion,
  RequestOptions,
  StreamResponse,
} from './client.js';
export { connectOptions, describeEndpoint, endpointOrigin, resolveEndpoint } from './endpoint.js';
export type { DockerEndpoint, DockerTls, EndpointEnv } from './endpoint.js';
export { ContainersApi } from './containers.js';
export type {
  ContainerCreateBody,
  ContainerInspect,
  ContainerStats,
  ContainerStatus,
  ContainerSummary,
  HealthState,
  HostConfig,
  LogOptions,
  Mount,
  PathStat,
  PortBinding,
  Resources,
} from './containers.js';
export { EventsApi } from './events.js';
export type { DockerEvent, EventsOptions } from './events.js';
export { ExecApi } from './exec.js';
export type { ExecInspect, ExecResult, RunOptions } from './exec.js';
export { ImagesApi } from './images.js';
export type { BuildOptions, ImageInspect, ImageSummary, PullEvent, PullOptions } from './images.js';
export {
  dockerConfigPath,
  registryAuth,
  registryAuthHeader,
  usesCredentialHelper,
  type RegistryAuth,
} from './credentials.js';
export {
  LABEL_MANAGED,
  LABEL_PORT,
  LABEL_REVISION,
  LABEL_SCOPE,
  LABEL_SERVICE,
  labelFilters,
} from './labels.js';
export type { LabelSelector } from './labels.js';
export { DockerRuntime } from './runtime.js';
export type { DockerRuntimeOptions } from './runtime.js';
export { Demuxer, collectOutput, demuxBuffer, demuxStream, framesToOutput } from './stream.js';
export type { Frame, Output, StreamName } from './stream.js';
export { packTar, tarChunks, unpackTar } from './tar.js';
export type { TarEntry, TarEntryType, TarFile } from './tar.js';
export { cpuPercent, toUsage } from './usage.js';
export { detectCheckpointSupport, runCriuCheck } from './checkpoint-support.js';
export type { CheckpointSupport, CriuCheck } from './checkpoint-support.js';
export { LABEL_NETWORK, Networks, dockerNetworkName } from './networks.js';
export type { EngineNetwork } from './networks.js';
