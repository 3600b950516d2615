// Fault injection on lab nodes: cut a node's link (the node goes dark for the others while its
// containers keep running), put it back, crash a manager's dockerd, restart it.

import { labConfig, labNode } from './config.js';
import type { LabConfig } from './config.js';
import { engineAnswers, killDockerd, startDockerd, writeWrapper } from './dockerd.js';
import { setNodeLink } from './network.js';
import { nodeStatuses } from './swarm.js';

/** Node n's link at the hub goes down: unreachable from the other nodes and from the host. */
export function cutNode(n: number, config: LabConfig = labConfig()): void {
  setNodeLink(config, labNode(config, n).hubLink, false);
}

export function restoreNode(n: number, config: LabConfig = labConfig()): void {
  setNodeLink(config, labNode(config, n).hubLink, true);
}

/**
 * SIGKILL of node n's dockerd: a lost manager (raft loses a member; quorum holds with 3). Its
 * containers go on running and serving. Returns the pid killed, or null if none ran.
 */
export function killManager(n: number, config: LabConfig = labConfig()): number | null {
  return killDockerd(labNode(config, n));
}

/** Starts node n's dockerd again (after killManager); resolves once its engine answers. */
export async function restartNode(n: number, config: LabConfig = labConfig()): Promise<void> {
  const node = labNode(config, n);
  if (engineAnswers(node)) return;
  await startDockerd(config, node, writeWrapper(config));
}

/** Swarm's view of node n (Ready, Down, Unknown), read through another node's manager. */
export function nodeStatus(n: number, config: LabConfig = labConfig()): string | undefined {
  const via = config.nodes.find((x) => x.index !== n && engineAnswers(x)) ?? labNode(config, n);
  return nodeStatuses(via).get(labNode(config, n).name);
}
