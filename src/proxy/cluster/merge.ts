// Numbers and tables of several proxies seen as one (issue 17: a proxy on every Swarm node).
// Counters add up; latency histograms add bucket by bucket (every proxy uses the same bounds);
// the route table is what *every* proxy has, so a proxy that missed a call shows up as a
// difference the reconcile loop repairs (it pushes again what is missing, to all of them).
import type {
  DrainResult,
  ErrorsByKind,
  InstanceStats,
  LatencyHistogram,
  RevisionStats,
  RouteTable,
  ServiceRoute,
  ServiceStats,
} from '../types.js';

const MAX_SAMPLES = 5000;

function addKinds(a: ErrorsByKind, b: ErrorsByKind): ErrorsByKind {
  return {
    connect: a.connect + b.connect,
    timeout: a.timeout + b.timeout,
    reset: a.reset + b.reset,
    other: a.other + b.other,
  };
}

function addCounts(a: Record<string, number>, b: Record<string, number>): Record<string, number> {
  const out = { ...a };
  for (const [k, v] of Object.entries(b)) out[k] = (out[k] ?? 0) + v;
  return out;
}

export function addHistograms(a: LatencyHistogram, b: LatencyHistogram): LatencyHistogram {
  return {
    bounds: a.bounds.length >= b.bounds.length ? a.bounds : b.bounds,
    counts: Array.from(
      { length: Math.max(a.counts.length, b.counts.length) },
      (_, i) => (a.counts[i] ?? 0) + (b.counts[i] ?? 0),
    ),
    sum: a.sum + b.sum,
  };
}

function addOptional(a: number | undefined, b: number | undefined): number | undefined {
  return a === undefined && b === undefined ? undefined : (a ?? 0) + (b ?? 0);
}

function addRevision(a: RevisionStats, b: RevisionStats): RevisionStats {
  const out: RevisionStats = {
    requests: a.requests + b.requests,
    statuses: addCounts(a.statuses, b.statuses),
    errors: a.errors + b.errors,
    errorsByKind: addKinds(a.errorsByKind, b.errorsByKind),
    inFlight: a.inFlight + b.inFlight,
    latencyMs: addHistograms(a.latencyMs, b.latencyMs),
  };
  const windowMs = a.windowMs ?? b.windowMs;
  if (windowMs !== undefined) {
    out.windowMs = windowMs;
    out.windowRequests = addOptional(a.windowRequests, b.windowRequests);
    out.windowErrors = addOptional(a.windowErrors, b.windowErrors);
    // Newest first in each; interleaving by time is not possible, so keep both within the cap.
    out.samples = [...(a.samples ?? []), ...(b.samples ?? [])].slice(0, MAX_SAMPLES);
  }
  return out;
}

function addInstance(a: InstanceStats, b: InstanceStats): InstanceStats {
  return {
    revision: a.revision,
    state: a.state === 'draining' || b.state === 'draining' ? 'draining' : 'active',
    requests: a.requests + b.requests,
    errors: a.errors + b.errors,
    errorsByKind: addKinds(a.errorsByKind, b.errorsByKind),
    inFlight: a.inFlight + b.inFlight,
    statuses: addCounts(a.statuses, b.statuses),
    latencyMs: addHistograms(a.latencyMs, b.latencyMs),
    longOpen: a.longOpen + b.longOpen,
    ejected: a.ejected || b.ejected,
    ejections: a.ejections + b.ejections,
  };
}

function mergeRecords<T>(
  a: Record<string, T>,
  b: Record<string, T>,
  add: (x: T, y: T) => T,
): Record<string, T> {
  const out = { ...a };
  for (const [k, v] of Object.entries(b)) out[k] = k in out ? add(out[k]!, v) : v;
  return out;
}

/** The stats of one service over all proxies. */
export function mergeStats(all: readonly ServiceStats[]): ServiceStats {
  return all.reduce((a, b) => ({
    revisions: mergeRecords(a.revisions, b.revisions, addRevision),
    instances: mergeRecords(a.instances, b.instances, addInstance),
    unavailable: a.unavailable + b.unavailable,
    long: {
      open: a.long.open + b.long.open,
      opened: a.long.opened + b.long.opened,
      cut: a.long.cut + b.long.cut,
      byKind: addCounts(a.long.byKind, b.long.byKind) as ServiceStats['long']['byKind'],
    },
  }));
}

/** One drain on every proxy: drained only if every proxy drained. */
export function mergeDrains(all: readonly DrainResult[]): DrainResult {
  return all.reduce((a, b) => ({
    drained: a.drained && b.drained,
    inFlight: a.inFlight + b.inFlight,
    waitedMs: Math.max(a.waitedMs, b.waitedMs),
    long: {
      atStart: a.long.atStart + b.long.atStart,
      closedByPeer: a.long.closedByPeer + b.long.closedByPeer,
      cut: a.long.cut + b.long.cut,
    },
  }));
}

const sameJson = (a: unknown, b: unknown): boolean => JSON.stringify(a) === JSON.stringify(b);

function commonRoute(routes: readonly ServiceRoute[]): ServiceRoute {
  const [first, ...rest] = routes as [ServiceRoute, ...ServiceRoute[]];
  const key = (b: { id: string; state: string; address: string }) =>
    `${b.id} ${b.state} ${b.address}`;
  const everywhere = first.backends.filter((b) =>
    rest.every((r) => r.backends.some((x) => key(x) === key(b))),
  );
  const config = (r: ServiceRoute): string => JSON.stringify({ ...r, backends: [], weights: {} });
  const sameConfig = rest.every((r) => config(r) === config(first));
  const sameWeights = rest.every((r) => sameJson(r.weights, first.weights));
  return {
    ...first,
    // A config that differs somewhere is reported with no listener: it is pushed again.
    ...(sameConfig ? {} : { listen: '' }),
    backends: everywhere,
    weights: sameWeights ? first.weights : {},
  };
}

/** What every proxy has: services, backends and weights they all agree on. */
export function commonTable(tables: readonly RouteTable[]): RouteTable {
  if (tables.length === 0) return { version: 1, services: {} };
  const names = Object.keys(tables[0]!.services).filter((n) =>
    tables.every((t) => n in t.services),
  );
  return {
    version: 1,
    services: Object.fromEntries(
      names.map((n) => [n, commonRoute(tables.map((t) => t.services[n]!))]),
    ),
  };
}
