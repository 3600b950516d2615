// Public API of the proxy (the data plane): run it as a process, drive it as a Router.
export type * from './types.js';
export { runProxy } from './main.js';
export type { ProxyOptions, RunningProxy } from './main.js';
export { ProxyClient } from './control/control-client.js';
export { PROXY_NODE_FLAGS } from './node-flags.js';
export type { ProxyClientOptions, ProxyHealth } from './control/control-client.js';
export { ClusterRouter, commonTable, mergeDrains, mergeStats } from './cluster/index.js';
export type { ClusterHealth, ProxyEndpoint } from './cluster/index.js';
