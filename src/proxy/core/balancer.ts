// Chooses a backend for each request of one service, in two steps:
//  1. a revision, by smooth weighted round robin (nginx's algorithm), so a 1:3 split is exact over
//     every 4 picks and interleaved, not bursty;
//  2. inside that revision, the active backend with the fewest requests in flight (round robin
//     among ties), so a slow instance gets less new work.
// Sticky picks (pickHashed) map a client's hash onto the cumulative weights of the revisions in
// ascending revision order, so raising a canary's weight only moves clients onto it, never off;
// inside the revision, rendezvous hashing keeps a client on one instance while the set allows.
// The groups are rebuilt whenever backends, weights or ejections change, so pick() only walks
// small arrays. Ejected targets are left out; a target on probation takes one request at a time.
import { fmix32 } from './hash.js';
import type { Target } from './targets.js';

/** Sticky hashes are mapped onto [0, STICKY_SPACE) before the weights split that range. */
export const STICKY_SPACE = 10_000;

interface Group {
  revision: number;
  weight: number;
  /** Smooth WRR running weight. */
  current: number;
  /** Active targets of this revision. */
  targets: Target[];
  /** Where the next fewest-in-flight scan starts, which rotates ties. */
  next: number;
}

function newGroup(revision: number, weight: number): Group {
  return { revision, weight, current: 0, targets: [], next: 0 };
}

export class Balancer {
  /** Revisions with weight > 0 and at least one active target, by revision number. */
  private weighted: Group[] = [];
  private totalWeight = 0;
  /** Every active target, for when no weighted revision can serve and for retries. */
  private all: Group = newGroup(0, 0);
  private byRevision = new Map<number, Group>();
  /** Revision of every known target, draining ones included, so a retry finds its revision. */
  private revisionOf = new Map<string, number>();

  rebuild(targets: Iterable<Target>, weights: Record<string, number>): void {
    const byRevision = new Map<number, Group>();
    const all = newGroup(0, 0);
    const revisionOf = new Map<string, number>();
    const list = [...targets];
    // Ejection never takes away the last backends that could serve: when every active one is
    // ejected, they all stay in.
    const ejectedOk = !list.some((t) => t.state === 'active' && !t.ejected);
    for (const t of list) {
      revisionOf.set(t.id, t.revision);
      if (t.state !== 'active' || (t.ejected && !ejectedOk)) continue;
      let group = byRevision.get(t.revision);
      if (group === undefined) {
        group = newGroup(t.revision, weights[String(t.revision)] ?? 0);
        byRevision.set(t.revision, group);
      }
      group.targets.push(t);
      all.targets.push(t);
    }
    const weighted = [...byRevision.values()]
      .filter((g) => g.weight > 0)
      .sort((a, b) => a.revision - b.revision);
    this.weighted = weighted;
    this.totalWeight = weighted.reduce((sum, g) => sum + g.weight, 0);
    this.all = all;
    this.byRevision = byRevision;
    this.revisionOf = revisionOf;
  }

  /**
   * A target for a new request, or undefined when no backend is active. With `exclude` (a retry),
   * prefers another active target of the excluded targets' revision, else any other active one.
   */
  pick(exclude?: Set<string>): Target | undefined {
    if (exclude !== undefined && exclude.size > 0) return this.pickExcluding(exclude);
    const groups = this.weighted;
    if (groups.length === 0) return fewestInFlight(this.all, undefined);
    let best = groups[0]!;
    if (groups.length > 1) {
      best.current += best.weight;
      for (let i = 1; i < groups.length; i++) {
        const g = groups[i]!;
        g.current += g.weight;
        if (g.current > best.current) best = g;
      }
      best.current -= this.totalWeight;
    }
    // Undefined only when the revision's one backend is on probation with its trial in flight.
    return fewestInFlight(best, undefined) ?? fewestInFlight(this.all, undefined);
  }

  /** A target of this revision (whatever its weight), or undefined when it has none active. */
  pickRevision(revision: number): Target | undefined {
    const group = this.byRevision.get(revision);
    return group === undefined ? undefined : fewestInFlight(group, undefined);
  }

  /** The sticky choice for a 32-bit client hash. */
  pickHashed(hash: number): Target | undefined {
    const groups = this.weighted;
    if (groups.length === 0) return rendezvous(this.all, hash);
    if (groups.length === 1) return rendezvous(groups[0]!, hash) ?? rendezvous(this.all, hash);
    const x = (hash % STICKY_SPACE) * this.totalWeight;
    let cumulative = 0;
    for (let i = 0; i < groups.length; i++) {
      const g = groups[i]!;
      cumulative += g.weight;
      if (x < cumulative * STICKY_SPACE) return rendezvous(g, hash) ?? rendezvous(this.all, hash);
    }
    return rendezvous(groups[groups.length - 1]!, hash) ?? rendezvous(this.all, hash);
  }

  private pickExcluding(exclude: Set<string>): Target | undefined {
    for (const id of exclude) {
      const revision = this.revisionOf.get(id);
      const group = revision === undefined ? undefined : this.byRevision.get(revision);
      const t = group === undefined ? undefined : fewestInFlight(group, exclude);
      if (t !== undefined) return t;
    }
    return fewestInFlight(this.all, exclude);
  }
}

function fewestInFlight(group: Group, exclude: Set<string> | undefined): Target | undefined {
  const targets = group.targets;
  const n = targets.length;
  if (n === 0) return undefined;
  let bestIndex = -1;
  let bestLoad = Infinity;
  for (let i = 0; i < n; i++) {
    let index = group.next + i;
    if (index >= n) index -= n;
    const t = targets[index]!;
    if (
      t.inFlight < bestLoad &&
      !(t.probing && t.inFlight > 0) &&
      (exclude === undefined || !exclude.has(t.id))
    ) {
      bestIndex = index;
      bestLoad = t.inFlight;
    }
  }
  if (bestIndex < 0) return undefined;
  group.next = bestIndex + 1 < n ? bestIndex + 1 : 0;
  return targets[bestIndex];
}

/** Highest-random-weight choice: the same hash keeps the same instance while it stays in the group. */
function rendezvous(group: Group, hash: number): Target | undefined {
  const targets = group.targets;
  if (targets.length === 1) {
    const only = targets[0]!;
    return only.probing && only.inFlight > 0 ? undefined : only;
  }
  let best: Target | undefined;
  let bestScore = -1;
  for (let i = 0; i < targets.length; i++) {
    const t = targets[i]!;
    if (t.probing && t.inFlight > 0) continue;
    const score = fmix32(t.seed ^ hash);
    if (score > bestScore) {
      best = t;
      bestScore = score;
    }
  }
  return best;
}
