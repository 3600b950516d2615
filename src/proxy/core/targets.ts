// One backend instance as the data plane sees it: where it is, how busy it is, its own
// keep-alive connection pool, its long connections and its passive-ejection state. A pool per
// instance lets a drain close exactly that instance's sockets, so no idle keep-alive connection
// is left for the instance to reset at SIGTERM.
import http from 'node:http';
import type { Socket } from 'node:net';
import { DRAIN_REASON, type LongConnection, type LongKind } from './long.js';
import { kUpstreamExchange, lostError, type InFlightOnUpstream } from './lost.js';
import { hash32 } from './hash.js';
import { Counters, Fail, type FailKind, type RevisionCounters } from './stats.js';
import { hostAnswers, PROBE_MS, stallWatch } from './reachability.js';
import type { Watched } from './silence.js';
import { UpstreamPool } from '../http/fast/upstream-pool.js';
import type {
  Backend,
  BackendState,
  DrainResult,
  InstanceStats,
  LongConnections,
} from '../types.js';

type UpstreamRequest = http.ClientRequest & { [kUpstreamExchange]?: InFlightOnUpstream };

const AGENT_OPTIONS: http.AgentOptions = {
  keepAlive: true,
  maxSockets: 256,
  maxFreeSockets: 64,
  // Idle pooled sockets are closed after this long. It is below Node's default server
  // keepAliveTimeout (5 s), so the pool gives up an idle socket before the app does instead of
  // racing the app's close with a new request. Node also honours a `Keep-Alive: timeout=` hint.
  timeout: 4000,
  scheduling: 'lifo',
};

/** Idle fast-path connections close after this: below the app's likely keepAliveTimeout (5 s). */
const POOL_IDLE_MS = 4000;

/** Marks a pooled upstream socket that carries a long response (SSE): an HTTP cut spares it. */
const kLongSocket = Symbol('hotswap.longSocket');
type Marked = Socket & { [kLongSocket]?: boolean };

export function markLong(socket: Socket | null | undefined, long: boolean): void {
  if (socket != null) (socket as Marked)[kLongSocket] = long;
}

/** What a target tells its service about (passive ejection, long-connection counts). */
export interface TargetOwner {
  connectFailed(target: Target): void;
  /** Its host answered no connect while requests waited on it; `moved` of them went elsewhere. */
  hostUnreachable(target: Target, moved: number): void;
  longChanged(kind: LongKind, delta: 1 | -1, cut: boolean): void;
  /** A long connection is cut after this long (0: no limit). */
  readonly maxLongMs: number;
}

export const MAX_DURATION_REASON = 'hotswap: connection reached its maximum duration';

export class Target implements Watched {
  readonly id: string;
  readonly revision: number;
  readonly address: string;
  readonly host: string;
  readonly port: number;
  /** Hash of the id: spreads sticky clients over a revision's instances (rendezvous hashing). */
  readonly seed: number;
  /** Connections of the full path (Node's http client). */
  readonly agent: http.Agent;
  /** Connections of the fast path (raw sockets). */
  readonly pool: UpstreamPool;
  /** Where finished requests on this instance are counted (shared by its revision). */
  readonly counters: RevisionCounters;
  /** This instance's own counters: attempts, failed attempts, final statuses, latency. */
  readonly own = new Counters();
  readonly owner: TargetOwner;
  state: BackendState = 'active';
  inFlight = 0;
  /** Consecutive failed connects (passive ejection). */
  failures = 0;
  ejected = false;
  /** Back from ejection: one trial request at a time until a connect succeeds. */
  probing = false;
  ejections = 0;
  ejectTimer: NodeJS.Timeout | null = null;
  /** Watched: a request finished since the last tick (set by release()). */
  active = false;
  silentMs = 0;
  /** A connect to its host is under way (silent()). */
  private askingHost = false;
  readonly longs = new Set<LongConnection>();
  /** The maximum-duration cut of each long connection, when the service sets one. */
  private readonly longTimers = new Map<LongConnection, NodeJS.Timeout>();
  private drained: Promise<DrainResult> | null = null;
  private wakeHttp: (() => void) | null = null;
  private readonly longWaiters = new Set<() => void>();
  /** While draining: what happens to long connections that start late (SSE), and the counts. */
  private drainLong: LongConnections | null = null;
  private longDeadline = 0;
  private longCounts = { atStart: 0, closedByPeer: 0, cut: 0 };

  constructor(
    backend: Omit<Backend, 'state'>,
    counters: RevisionCounters,
    owner: TargetOwner,
    upstreamTickMs = 1000,
  ) {
    this.id = backend.id;
    this.revision = backend.revision;
    this.address = backend.address;
    const colon = backend.address.lastIndexOf(':');
    this.host = backend.address.slice(0, colon);
    this.port = Number(backend.address.slice(colon + 1));
    this.seed = hash32(backend.id);
    this.counters = counters;
    this.owner = owner;
    this.agent = new http.Agent(AGENT_OPTIONS);
    this.pool = new UpstreamPool(this.host, this.port, POOL_IDLE_MS, upstreamTickMs);
    stallWatch.add(this);
  }

  acquire(): void {
    this.inFlight++;
    this.own.requests++;
  }

  release(): void {
    this.active = true;
    this.inFlight--;
    if (this.inFlight === 0 && this.wakeHttp !== null) this.wakeHttp();
  }

  /** A connect to the instance succeeded: the failure streak (and a probation) ends. */
  connected(): void {
    this.failures = 0;
    this.probing = false;
  }

  /** A failed attempt; connect failures feed passive ejection. */
  attemptFailed(kind: FailKind): void {
    this.own.fail(kind);
    if (kind === Fail.CONNECT) this.owner.connectFailed(this);
  }

  /**
   * Watched by stallWatch: a tick in which requests were in flight and none finished. Its host
   * is asked (one connect at a time); when it does not answer, what may move, moves.
   */
  silent(): void {
    if (this.inFlight === 0 || this.askingHost) return;
    this.askingHost = true;
    void hostAnswers(this.host, this.port).then((answered) => {
      this.askingHost = false;
      if (answered || this.inFlight === 0) return;
      const moved = this.cutMovable(
        `upstream ${this.address} unreachable (no answer to a connect in ${PROBE_MS} ms)`,
      );
      this.owner.hostUnreachable(this, moved);
    });
  }

  openLong(conn: LongConnection): void {
    this.longs.add(conn);
    this.owner.longChanged(conn.kind, 1, false);
    const max = this.owner.maxLongMs;
    if (max > 0) {
      const timer = setTimeout(() => this.cutLong(conn, MAX_DURATION_REASON), max);
      timer.unref();
      this.longTimers.set(conn, timer);
    }
    const policy = this.drainLong;
    if (policy === null) return;
    this.longCounts.atStart++;
    if (policy.policy === 'close' || Date.now() >= this.longDeadline)
      this.cutLong(conn, DRAIN_REASON);
  }

  /** The connection ended by itself (client or instance closed it). */
  closeLong(conn: LongConnection): void {
    if (!this.longs.delete(conn)) return;
    this.clearLongTimer(conn);
    this.owner.longChanged(conn.kind, -1, false);
    if (this.drainLong !== null) this.longCounts.closedByPeer++;
    if (this.longs.size === 0) this.wakeLongWaiters();
  }

  private clearLongTimer(conn: LongConnection): void {
    const timer = this.longTimers.get(conn);
    if (timer === undefined) return;
    clearTimeout(timer);
    this.longTimers.delete(conn);
  }

  private wakeLongWaiters(): void {
    for (const wake of [...this.longWaiters]) wake();
  }

  cutLong(conn: LongConnection, reason: string): void {
    if (!this.longs.delete(conn)) return;
    this.clearLongTimer(conn);
    this.owner.longChanged(conn.kind, -1, true);
    if (this.drainLong !== null) this.longCounts.cut++;
    conn.cut(reason);
    if (this.longs.size === 0) this.wakeLongWaiters();
  }

  cutAllLong(reason: string): void {
    for (const conn of [...this.longs]) this.cutLong(conn, reason);
  }

  /**
   * Resolves when the long connections are gone: cut at once under `close`; under `keep`, left
   * to end by themselves until timeoutMs, then cut.
   */
  settleLong(long: LongConnections, reason: string): Promise<void> {
    if (long.policy === 'close' || long.timeoutMs === 0) this.cutAllLong(reason);
    if (this.longs.size === 0) return Promise.resolve();
    return new Promise<void>((resolve) => {
      const done = (): void => {
        clearTimeout(timer);
        this.longWaiters.delete(done);
        resolve();
      };
      const timer = setTimeout(() => {
        this.cutAllLong(reason);
        done();
      }, long.timeoutMs);
      this.longWaiters.add(done);
    });
  }

  /**
   * Marks the target draining (the caller must rebuild its balancer so it is no longer chosen),
   * waits until no HTTP request is in flight (or timeoutMs passed; the rest are cut) and until
   * its long connections are gone per `long`, then closes every socket of its pool.
   * A second call joins the first drain.
   */
  drain(timeoutMs: number, long: LongConnections): Promise<DrainResult> {
    if (this.drained === null) {
      this.state = 'draining';
      this.drained = this.runDrain(timeoutMs, long);
    }
    return this.drained;
  }

  private async runDrain(timeoutMs: number, long: LongConnections): Promise<DrainResult> {
    const started = Date.now();
    this.drainLong = long;
    this.longDeadline = started + long.timeoutMs;
    this.longCounts = { atStart: this.longs.size, closedByPeer: 0, cut: 0 };
    const [inFlight] = await Promise.all([
      this.waitHttp(timeoutMs),
      this.settleLong(long, DRAIN_REASON),
    ]);
    // Requests still running past the deadline are cut here rather than at the instance's
    // SIGTERM: the drain budget is the promise, and the caller stops the instance next.
    this.agent.destroy();
    this.pool.close();
    stallWatch.delete(this);
    return {
      drained: inFlight === 0,
      inFlight,
      waitedMs: Date.now() - started,
      long: { ...this.longCounts },
    };
  }

  /** Resolves with the HTTP requests still in flight at the deadline (0 when none were left). */
  private async waitHttp(timeoutMs: number): Promise<number> {
    if (this.inFlight > 0) {
      await new Promise<void>((resolve) => {
        const done = (): void => {
          clearTimeout(timer);
          this.wakeHttp = null;
          resolve();
        };
        const timer = setTimeout(done, timeoutMs);
        this.wakeHttp = done;
      });
    }
    // What may move goes to another instance rather than failing with the cut (a slow GET).
    const inFlight = this.inFlight;
    this.cutMovable(
      `upstream ${this.address} drained: no answer within the drain's ${timeoutMs} ms`,
    );
    this.cutHttp();
    return inFlight;
  }

  /** Closes the pool's sockets except those carrying a long response. */
  private cutHttp(): void {
    for (const group of [this.agent.sockets, this.agent.freeSockets]) {
      for (const list of Object.values(group)) {
        for (const socket of [...(list ?? [])] as Marked[]) {
          if (socket[kLongSocket] !== true) socket.destroy();
        }
      }
    }
    this.pool.destroyAll(true);
  }

  /**
   * The instance was found unreachable: exchanges waiting on it that may move are cut with
   * LOST_CODE (their engine retries them elsewhere); the rest keep waiting. Returns how many.
   */
  cutMovable(reason: string): number {
    const err = lostError(reason);
    let cut = this.pool.cutMovable(err);
    for (const list of Object.values(this.agent.sockets)) {
      for (const socket of [...(list ?? [])]) {
        // Node's http client keeps the request a socket carries there.
        const req = (socket as { _httpMessage?: UpstreamRequest })._httpMessage;
        if (req?.[kUpstreamExchange]?.movableOnLoss() === true) {
          req.destroy(err);
          cut++;
        }
      }
    }
    return cut;
  }

  /** Closes everything now (service removed or proxy closing); a pending drain ends at once. */
  destroy(reason: string): void {
    if (this.ejectTimer !== null) clearTimeout(this.ejectTimer);
    if (this.wakeHttp !== null) this.wakeHttp();
    this.cutAllLong(reason);
    this.agent.destroy();
    this.pool.close();
    stallWatch.delete(this);
  }

  toBackend(): Backend {
    return { id: this.id, revision: this.revision, address: this.address, state: this.state };
  }

  stats(): InstanceStats {
    const own = this.own;
    return {
      revision: this.revision,
      state: this.state,
      requests: own.requests,
      errors: own.errors,
      errorsByKind: own.errorsByKind(),
      inFlight: this.inFlight,
      statuses: own.statusCounts(),
      latencyMs: own.histogram(),
      longOpen: this.longs.size,
      ejected: this.ejected,
      ejections: this.ejections,
    };
  }
}
