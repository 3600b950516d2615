// Spreading the instances of a revision over nodes. Each instance is its own Swarm service, and
// Swarm spreads the tasks of one service, not of several; so the backend asks Swarm's scheduler
// to avoid the nodes (or label values) that already hold more instances of the revision than
// the least loaded one, with `!=` constraints. These are soft: when nothing else can run the
// instance, they are dropped (runtime.ts) and the hard constraints alone decide.
import type { SwarmNode } from './api.js';

/** The value of a node attribute: node.id, node.hostname or node.labels.<name>. */
export function nodeValue(node: SwarmNode, attribute: string): string | null {
  if (attribute === 'node.id') return node.ID;
  if (attribute === 'node.hostname') return node.Description?.Hostname ?? null;
  const label = /^node\.labels\.(.+)$/.exec(attribute)?.[1];
  return label === undefined ? null : (node.Spec.Labels?.[label] ?? null);
}

/** A node the managers lost (not `unknown`, which every node is for a while after an election). */
export function isDown(node: SwarmNode): boolean {
  return node.Status.State === 'down' || node.Status.State === 'disconnected';
}

/** Nodes that can take new tasks now. */
export function usableNodes(nodes: readonly SwarmNode[]): SwarmNode[] {
  return nodes.filter(
    (n) => n.Status.State === 'ready' && (n.Spec.Availability ?? 'active') === 'active',
  );
}

/**
 * `attribute!=value` for each value whose count of the revision's instances is above the least
 * loaded value's; [] when all are even. `placedOn` holds the node id of each live instance.
 */
export function spreadConstraints(
  nodes: readonly SwarmNode[],
  placedOn: readonly string[],
  attribute: string,
): string[] {
  const usable = usableNodes(nodes);
  const valueOf = new Map(nodes.map((n) => [n.ID, nodeValue(n, attribute)]));
  const counts = new Map<string, number>();
  for (const n of usable) {
    const v = valueOf.get(n.ID);
    if (v !== null && v !== undefined) counts.set(v, 0);
  }
  for (const id of placedOn) {
    const v = valueOf.get(id);
    if (v !== null && v !== undefined && counts.has(v)) counts.set(v, counts.get(v)! + 1);
  }
  if (counts.size < 2) return [];
  const least = Math.min(...counts.values());
  return [...counts]
    .filter(([, c]) => c > least)
    .map(([v]) => `${attribute}!=${v}`)
    .sort();
}
