// The lab's names, addresses and paths, all derived from two settings so that two labs can run
// side by side on one machine (each helper or CI job its own prefix and subnet):
//   HOTSWAP_LAB_PREFIX  names of netns, links and cgroups (default "hsl", at most 8 of [A-Za-z0-9])
//   HOTSWAP_LAB_SUBNET  first three octets of the lab's /24 (default "10.77.0")
//   HOTSWAP_LAB_DIR     state folder (default /tmp/hotswap-lab-<prefix>)
//   HOTSWAP_LAB_NODES   node count (default 3); HOTSWAP_LAB_MANAGERS (default = nodes)
//   HOTSWAP_LAB_HEARTBEAT  swarm dispatcher heartbeat (default 2s: a cut node is Down in 3-6 s)
// Layout: netns <p>-hub holds the bridge and the registry (.2); the root netns reaches the lab
// through veth <p>-root (.1); node n lives in netns <p>-n<n> with eth0 at .(10+n), no default route.

import { HotswapError } from '../../src/errors.js';

export interface LabNode {
  /** 1-based. */
  index: number;
  /** Hostname inside the node (own UTS namespace) and swarm node label lab=<name>. */
  name: string;
  netns: string;
  address: string;
  /** The hub side of the node's veth: `ip -n <hub> link set <hubLink> down` cuts the node off. */
  hubLink: string;
  dir: string;
  socketPath: string;
  /** For DOCKER_HOST / `docker -H`. */
  dockerHost: string;
  pidFile: string;
  logFile: string;
  /** Cgroup parent of the node's containers (one per hierarchy under /sys/fs/cgroup/<ctrl>/). */
  cgroupParent: string;
}

export interface LabConfig {
  prefix: string;
  subnet: string;
  dir: string;
  hubNetns: string;
  bridge: string;
  /** The root netns side of the link into the hub, and its peer in the hub. */
  rootLink: string;
  rootPeer: string;
  rootAddress: string;
  hubAddress: string;
  /** host:port of the lab registry (plain HTTP; every lab dockerd trusts the lab subnet). */
  registry: string;
  heartbeat: string;
  managers: number;
  nodes: LabNode[];
}

const REGISTRY_PORT = 5000;

function intFromEnv(env: NodeJS.ProcessEnv, key: string, dflt: number, max: number): number {
  const raw = env[key];
  if (raw === undefined || raw === '') return dflt;
  const n = Number(raw);
  if (!Number.isInteger(n) || n < 1 || n > max) {
    throw new HotswapError('USAGE', `${key}=${raw}: expected an integer from 1 to ${max}`);
  }
  return n;
}

export function labConfig(env: NodeJS.ProcessEnv = process.env): LabConfig {
  const prefix = env['HOTSWAP_LAB_PREFIX'] || 'hsl';
  if (!/^[A-Za-z][A-Za-z0-9]{0,7}$/.test(prefix)) {
    // Links are named <prefix>-root and <prefix>-n<N>p: Linux allows 15 characters.
    throw new HotswapError(
      'USAGE',
      `HOTSWAP_LAB_PREFIX=${prefix}: 1-8 letters/digits, first a letter`,
    );
  }
  const subnet = env['HOTSWAP_LAB_SUBNET'] || '10.77.0';
  const octets = subnet.split('.');
  if (octets.length !== 3 || octets.some((o) => !/^\d{1,3}$/.test(o) || Number(o) > 255)) {
    throw new HotswapError(
      'USAGE',
      `HOTSWAP_LAB_SUBNET=${subnet}: expected three octets, e.g. 10.77.0`,
    );
  }
  const count = intFromEnv(env, 'HOTSWAP_LAB_NODES', 3, 9);
  const managers = intFromEnv(env, 'HOTSWAP_LAB_MANAGERS', count, count);
  const dir = env['HOTSWAP_LAB_DIR'] || `/tmp/hotswap-lab-${prefix}`;
  const nodes: LabNode[] = [];
  for (let i = 1; i <= count; i++) {
    const nodeDir = `${dir}/node${i}`;
    const socketPath = `${nodeDir}/docker.sock`;
    nodes.push({
      index: i,
      name: `node${i}`,
      netns: `${prefix}-n${i}`,
      address: `${subnet}.${10 + i}`,
      hubLink: `${prefix}-n${i}p`,
      dir: nodeDir,
      socketPath,
      dockerHost: `unix://${socketPath}`,
      pidFile: `${nodeDir}/dockerd.pid`,
      logFile: `${nodeDir}/dockerd.log`,
      cgroupParent: `${prefix}-node${i}`,
    });
  }
  const hubAddress = `${subnet}.2`;
  return {
    prefix,
    subnet,
    dir,
    hubNetns: `${prefix}-hub`,
    bridge: `${prefix}-br`,
    rootLink: `${prefix}-root`,
    rootPeer: `${prefix}-rootp`,
    rootAddress: `${subnet}.1`,
    hubAddress,
    registry: `${hubAddress}:${REGISTRY_PORT}`,
    heartbeat: env['HOTSWAP_LAB_HEARTBEAT'] || '2s',
    managers,
    nodes,
  };
}

/** The node with that 1-based index, or a USAGE error naming the valid range. */
export function labNode(config: LabConfig, index: number): LabNode {
  const node = config.nodes[index - 1];
  if (!node) {
    throw new HotswapError(
      'USAGE',
      `lab node ${index}: the lab has nodes 1..${config.nodes.length}`,
    );
  }
  return node;
}
