// Actual state of one service, read from the two places that hold it: the proxy's route table
// (what serves) and Docker (which containers exist and run). Never from the controller's memory.
import { probe, type ProbeTarget } from '../health/index.js';
import type { Backend, RouteTable, ServiceRoute } from '../proxy/types.js';
import type { Instance } from '../runtime/types.js';
import type { ServiceSpec } from '../spec/types.js';
import type { LiveInstance } from './live-group.js';

export interface ServiceWorld {
  route: ServiceRoute | undefined;
  /** Every container of the service, whatever its state. */
  containers: Instance[];
  /** Active backends whose container runs. */
  serving: LiveInstance[];
  /** Active backends whose container is gone or not running. */
  dead: Backend[];
  /** Backends the proxy is draining: it forgets them when the drain ends. */
  draining: Set<string>;
}

export function observeService(
  name: string,
  table: RouteTable,
  containers: Instance[],
): ServiceWorld {
  const route = table.services[name];
  const mine = containers.filter((c) => c.service === name);
  const running = new Set(mine.filter((c) => c.state === 'running').map((c) => c.id));
  const backends = route?.backends ?? [];
  const active = backends.filter((b) => b.state === 'active');
  return {
    route,
    containers: mine,
    serving: active
      .filter((b) => running.has(b.id))
      .map((b) => ({ id: b.id, revision: b.revision, address: b.address })),
    dead: active.filter((b) => !running.has(b.id)),
    draining: new Set(backends.filter((b) => b.state === 'draining').map((b) => b.id)),
  };
}

/** One health check of a container that runs, the way a rollout gates it. */
export async function answersHealth(
  spec: ServiceSpec,
  instance: Instance,
  runtime: ProbeTarget['runtime'],
): Promise<boolean> {
  if (instance.state !== 'running' || instance.address === null) return false;
  const target = { instanceId: instance.id, address: instance.address, runtime };
  return (await probe(spec.health.check, target, spec.health.timeoutMs)).ok;
}

/** Same split of traffic: only proportions matter, and a zero weight routes like a missing one. */
export function sameWeights(a: Record<string, number>, b: Record<string, number>): boolean {
  const shares = (w: Record<string, number>): Map<string, number> => {
    const total = Object.values(w).reduce((x, y) => x + Math.max(y, 0), 0);
    return new Map(Object.entries(w).flatMap(([k, v]) => (v > 0 ? [[k, v / total]] : [])));
  };
  const [x, y] = [shares(a), shares(b)];
  if (x.size !== y.size) return false;
  return [...x].every(([k, v]) => Math.abs((y.get(k) ?? -1) - v) < 1e-9);
}
