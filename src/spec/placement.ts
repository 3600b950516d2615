// Where a service's instances may run on a cluster (the Swarm backend, issue 17): Swarm placement
// constraints, passed to Swarm as written, and the node attribute instances are spread over.
// On a single Docker host both are ignored. Kept apart from schema.ts / normalize.ts.
import { z } from 'zod';
import type { PlacementSpec } from './types.js';

const expecting = (phrase: string) => ({ error: phrase });

/** Swarm's constraint syntax: `node.<attribute> == value` or `!=`. */
const CONSTRAINT = /^\s*(node|engine)\.[A-Za-z0-9_.-]+\s*(==|!=)\s*\S.*$/;
/** What spread accepts: the node itself, or one of its labels. */
const SPREAD = /^(node|node\.id|node\.hostname|node\.labels\.[A-Za-z0-9_.-]+)$/;

/** Spread into the service schema. */
export const placementField = {
  placement: z
    .strictObject(
      {
        constraints: z
          .array(
            z
              .string(expecting('a constraint like "node.labels.zone==a"'))
              .regex(CONSTRAINT, 'a constraint like "node.labels.zone==a" or "node.role!=manager"'),
            expecting('a list of constraints like "node.labels.zone==a"'),
          )
          .default([])
          .meta({ description: 'Swarm placement constraints; every one must hold on the node.' }),
        spread: z
          .string(expecting('"node" or "node.labels.<name>"'))
          .regex(SPREAD, '"node", "node.hostname" or "node.labels.<name>"')
          .default('node')
          .meta({
            description: "Instances of a revision are spread over this node attribute's values.",
          }),
      },
      expecting('a mapping with "constraints" and/or "spread"'),
    )
    .optional()
    .meta({ description: 'Cluster placement (Swarm backend); ignored on a single host.' }),
};

/** Left out when unset, so revisions of specs without placement keep their config hash. */
export function normalizePlacement(
  raw: { constraints: string[]; spread: string } | undefined,
): Pick<{ placement?: PlacementSpec }, 'placement'> {
  if (!raw) return {};
  const spread = raw.spread === 'node' ? 'node.id' : raw.spread;
  return { placement: { constraints: raw.constraints.map((c) => c.trim()), spread } };
}
