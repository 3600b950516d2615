// Several proxies driven as one (a proxy on every Swarm node, issue 17).
export { ClusterRouter } from './cluster-router.js';
export type { ClusterHealth, ProxyEndpoint } from './cluster-router.js';
export { addHistograms, commonTable, mergeDrains, mergeStats } from './merge.js';
