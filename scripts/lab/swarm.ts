// The lab's swarm: node1 initialises it with a short dispatcher heartbeat (a cut node is seen
// Down within seconds), the others join (the first `managers` as managers, so losing any one
// node keeps quorum with 3), every node gets the label lab=node<N>. Overlay subnets come from
// 172.24.0.0/14, away from the lab's own /24 and the nodes' bridges.

import { HotswapError } from '../../src/errors.js';
import type { LabConfig, LabNode } from './config.js';
import { run, waitFor } from './sh.js';
import type { RunOptions, RunResult } from './sh.js';

export const SWARM_ADDR_POOL = '172.24.0.0/14';

/** `docker -H <node> ...`, output captured. */
export function dockerOn(node: LabNode, args: string[], opts: RunOptions = {}): RunResult {
  return run('docker', ['-H', node.dockerHost, ...args], { timeoutMs: 60_000, ...opts });
}

interface SwarmInfo {
  NodeID: string;
  LocalNodeState: string;
  ControlAvailable: boolean;
  Cluster?: { ID: string } | null;
}

export function swarmInfo(node: LabNode): SwarmInfo {
  const out = dockerOn(node, ['info', '--format', '{{json .Swarm}}']).stdout;
  return JSON.parse(out) as SwarmInfo;
}

interface NodeRow {
  ID: string;
  Hostname: string;
  Status: string;
  ManagerStatus: string;
}

export function nodeRows(via: LabNode): NodeRow[] {
  const out = dockerOn(via, ['node', 'ls', '--format', '{{json .}}'], { timeoutMs: 15_000 }).stdout;
  return out
    .split('\n')
    .filter(Boolean)
    .map((l) => JSON.parse(l) as NodeRow);
}

function init(config: LabConfig, first: LabNode): void {
  dockerOn(first, [
    'swarm',
    'init',
    `--advertise-addr=${first.address}`,
    `--listen-addr=${first.address}:2377`,
    `--dispatcher-heartbeat=${config.heartbeat}`,
    `--default-addr-pool=${SWARM_ADDR_POOL}`,
    '--default-addr-pool-mask-length=24',
  ]);
}

function join(node: LabNode, first: LabNode, token: string): void {
  dockerOn(node, [
    'swarm',
    'join',
    `--token=${token}`,
    `--advertise-addr=${node.address}`,
    `--listen-addr=${node.address}:2377`,
    `${first.address}:2377`,
  ]);
}

/** Forms the swarm where needed; returns what it changed. */
export async function swarmUp(config: LabConfig): Promise<string[]> {
  const changes: string[] = [];
  const first = config.nodes[0];
  if (!first) throw new HotswapError('USAGE', 'lab: no nodes');
  let firstInfo = swarmInfo(first);
  if (firstInfo.LocalNodeState !== 'active' || !firstInfo.ControlAvailable) {
    if (firstInfo.LocalNodeState !== 'inactive') dockerOn(first, ['swarm', 'leave', '--force']);
    init(config, first);
    changes.push(`swarm init on ${first.name}`);
    firstInfo = swarmInfo(first);
  }
  const clusterId = firstInfo.Cluster?.ID;
  const token = (role: string) =>
    dockerOn(first, ['swarm', 'join-token', '-q', role]).stdout.trim();
  for (const node of config.nodes.slice(1)) {
    const info = swarmInfo(node);
    const member = info.LocalNodeState === 'active';
    // A worker has no Cluster in its info: membership is checked on the manager's list below.
    const known = nodeRows(first).some((r) => r.ID === info.NodeID && r.Status === 'Ready');
    const sameCluster = info.Cluster ? info.Cluster.ID === clusterId : known;
    if (member && sameCluster) continue;
    if (info.LocalNodeState !== 'inactive') dockerOn(node, ['swarm', 'leave', '--force']);
    const role = node.index <= config.managers ? 'manager' : 'worker';
    join(node, first, token(role));
    changes.push(`${node.name} joined as ${role}`);
  }
  const ids = new Map(config.nodes.map((n) => [swarmInfo(n).NodeID, n]));
  await waitFor(
    `${config.nodes.length} nodes Ready`,
    () => {
      const rows = nodeRows(first).filter((r) => ids.has(r.ID) && r.Status === 'Ready');
      return rows.length === config.nodes.length ? true : undefined;
    },
    60_000,
    300,
  );
  // Entries of earlier incarnations of the nodes (a rejoin makes a new node ID).
  for (const row of nodeRows(first)) {
    if (!ids.has(row.ID)) {
      dockerOn(first, ['node', 'demote', row.ID], { allowFail: true });
      dockerOn(first, ['node', 'rm', '--force', row.ID], { allowFail: true });
      changes.push(`removed stale node ${row.ID.slice(0, 12)} (${row.Hostname})`);
    }
  }
  for (const [id, node] of ids) {
    dockerOn(first, ['node', 'update', '--label-add', `lab=${node.name}`, id]);
  }
  return changes;
}

/** The managers' view of the nodes: hostname -> Status (Ready/Down), for tests and checks. */
export function nodeStatuses(via: LabNode): Map<string, string> {
  return new Map(nodeRows(via).map((r) => [r.Hostname, r.Status]));
}
