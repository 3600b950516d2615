// The lab's network: a hub netns holding a bridge, one netns per node plugged into it, and a
// veth from the root netns into the hub. The bridge is not in the root netns on purpose: with
// br_netfilter active there, bridged frames would cross the host's FORWARD chain, which the host
// dockerd set to DROP; in the hub netns only that netns's empty rules apply. Root-to-node traffic
// is then plain INPUT/OUTPUT on the host. Nodes have no default route: nothing leaves the lab.

import { existsSync, readdirSync, rmdirSync, writeFileSync, unlinkSync } from 'node:fs';
import type { LabConfig } from './config.js';
import { run, succeeds } from './sh.js';

const NETNS_DIR = '/run/netns';
/** Shared by every lab on the machine: set when a lab created /run/netns, so the last down removes it. */
const NETNS_DIR_MARKER = '/run/hotswap-lab.netns-dir-created';

export function netnsExists(name: string): boolean {
  return existsSync(`${NETNS_DIR}/${name}`);
}

function linkExists(name: string, netns?: string): boolean {
  return succeeds('ip', [...(netns ? ['-n', netns] : []), 'link', 'show', name]);
}

function ip(args: string[], netns?: string): void {
  run('ip', [...(netns ? ['-n', netns] : []), ...args]);
}

function addNetns(name: string): void {
  if (netnsExists(name)) return;
  if (!existsSync(NETNS_DIR)) writeFileSync(NETNS_DIR_MARKER, `${process.pid}\n`);
  ip(['netns', 'add', name]);
  ip(['link', 'set', 'lo', 'up'], name);
}

/** Builds what is missing of the lab network; returns what it had to create. */
export function networkUp(config: LabConfig): string[] {
  const made: string[] = [];
  const hub = config.hubNetns;
  if (!netnsExists(hub)) made.push(`netns ${hub}`);
  addNetns(hub);
  if (!linkExists(config.bridge, hub)) {
    ip(['link', 'add', config.bridge, 'type', 'bridge'], hub);
    ip(['addr', 'add', `${config.hubAddress}/24`, 'dev', config.bridge], hub);
    made.push(`bridge ${config.bridge}`);
  }
  ip(['link', 'set', config.bridge, 'up'], hub);

  if (!linkExists(config.rootLink)) {
    ip(['link', 'add', config.rootLink, 'type', 'veth', 'peer', 'name', config.rootPeer]);
    ip(['link', 'set', config.rootPeer, 'netns', hub]);
    ip(['addr', 'add', `${config.rootAddress}/24`, 'dev', config.rootLink]);
    made.push(`veth ${config.rootLink}`);
  }
  ip(['link', 'set', config.rootPeer, 'master', config.bridge, 'up'], hub);
  ip(['link', 'set', config.rootLink, 'up']);

  for (const node of config.nodes) {
    if (!netnsExists(node.netns)) made.push(`netns ${node.netns}`);
    addNetns(node.netns);
    if (!linkExists('eth0', node.netns)) {
      // Stale hub side from a half-made run: drop it, the pair is made again.
      if (linkExists(node.hubLink, hub)) ip(['link', 'del', node.hubLink], hub);
      const tmp = `${config.prefix}-n${node.index}e`;
      ip(['link', 'add', node.hubLink, 'type', 'veth', 'peer', 'name', tmp]);
      ip(['link', 'set', node.hubLink, 'netns', hub]);
      ip(['link', 'set', tmp, 'netns', node.netns]);
      ip(['link', 'set', tmp, 'name', 'eth0'], node.netns);
      ip(['addr', 'add', `${node.address}/24`, 'dev', 'eth0'], node.netns);
    }
    ip(['link', 'set', 'eth0', 'up'], node.netns);
    ip(['link', 'set', node.hubLink, 'master', config.bridge, 'up'], hub);
  }
  return made;
}

/** Removes the lab's netns (which takes the bridge and veths with them) and the root veth. */
export function networkDown(config: LabConfig): string[] {
  const removed: string[] = [];
  if (linkExists(config.rootLink)) {
    ip(['link', 'del', config.rootLink]);
    removed.push(`veth ${config.rootLink}`);
  }
  for (const name of [...config.nodes.map((n) => n.netns), config.hubNetns]) {
    if (netnsExists(name)) {
      ip(['netns', 'del', name]);
      removed.push(`netns ${name}`);
    }
  }
  // /run/netns goes only if a lab made it and no netns (ours or anyone's) is left in it.
  if (
    existsSync(NETNS_DIR_MARKER) &&
    existsSync(NETNS_DIR) &&
    readdirSync(NETNS_DIR).length === 0
  ) {
    run('umount', [NETNS_DIR], { allowFail: true });
    run('umount', [NETNS_DIR], { allowFail: true }); // `ip netns add` bind-mounts it onto itself
    rmdirSync(NETNS_DIR);
    unlinkSync(NETNS_DIR_MARKER);
    removed.push(NETNS_DIR);
  }
  return removed;
}

/** Cuts node n's link at the hub: to the others it looks like a dead node (its tasks go on running). */
export function setNodeLink(config: LabConfig, hubLink: string, up: boolean): void {
  ip(['link', 'set', hubLink, up ? 'up' : 'down'], config.hubNetns);
}
