// Counters that canary analysis and impact reports read, per revision and per instance. They are
// cumulative for the life of the proxy (readers take deltas; a self-upgrade carries them over to
// the successor) and a revision's survive its instances, so a drained revision's numbers are
// still there when the report is written.
//
// Hot path: record() does a binary search over the histogram bounds and a few typed-array
// stores; the sliding window is a fixed ring of (time, latency, bad) plus per-second counts.
import { performance } from 'node:perf_hooks';
import type { ErrorsByKind, LatencyHistogram, RevisionStats } from '../types.js';

/** Upper bounds (ms) of the latency buckets: 0.25 ms · √2^i up to ~131 s; the last bucket is open-ended. */
export const LATENCY_BOUNDS_MS: readonly number[] = Array.from({ length: 39 }, (_, i) =>
  Number((0.25 * Math.SQRT2 ** i).toPrecision(4)),
);
const BOUNDS = Float64Array.from(LATENCY_BOUNDS_MS);
const NB = BOUNDS.length;

/** How a request or attempt failed; NONE for success (an upstream 5xx is not a proxy failure). */
export const Fail = { NONE: 0, CONNECT: 1, TIMEOUT: 2, RESET: 3, OTHER: 4 } as const;
export type FailKind = (typeof Fail)[keyof typeof Fail];

/** Error codes the proxy sets on the errors of its own timers. */
export const TIMEOUT_CODE = 'HOTSWAP_UPSTREAM_TIMEOUT';
export const CONNECT_TIMEOUT_CODE = 'HOTSWAP_CONNECT_TIMEOUT';

/** Kind of a failed attempt: before the connection was up it is a connect failure. */
export function failKind(err: NodeJS.ErrnoException, connected: boolean): FailKind {
  if (!connected || err.code === CONNECT_TIMEOUT_CODE) return Fail.CONNECT;
  switch (err.code) {
    case TIMEOUT_CODE:
      return Fail.TIMEOUT;
    case 'ECONNRESET':
    case 'EPIPE':
    case 'ECONNABORTED':
      return Fail.RESET;
    default:
      return Fail.OTHER;
  }
}

// Indexed by Math.floor(status / 100), so the hot path does no string building.
const STATUS_KEYS = ['0xx', '1xx', '2xx', '3xx', '4xx', '5xx'];

/** Raw samples kept per revision for the window: the newest RING_SIZE requests. */
export const RING_SIZE = 5000;
/**
 * The ring starts this small and doubles as requests come, up to RING_SIZE: a revision that has
 * served a few requests holds a few kB, not the full ring (50 services: about 5 MiB less).
 */
const FIRST_RING = 256;
/** Per-second request/error counts, for windows longer than the ring holds. */
const SECONDS = 3600;

function bucketOf(ms: number): number {
  let lo = 0;
  let hi = NB;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (ms <= BOUNDS[mid]!) hi = mid;
    else lo = mid + 1;
  }
  return lo;
}

/** Serializable form, handed to a successor proxy at a self-upgrade. Times are epoch ms. */
export interface CountersDump {
  bounds: number[];
  requests: number;
  errors: number;
  kinds: number[];
  statuses: number[];
  hist: number[];
  sum: number;
  ring?: { at: number[]; lat: number[]; bad: number[] };
  seconds?: { at: number[]; req: number[]; err: number[] };
}

/** Statuses, failures by kind and latency of one revision or one instance. */
export class Counters {
  requests = 0;
  errors = 0;
  protected readonly kinds = new Float64Array(5);
  protected readonly statuses = new Float64Array(6);
  protected readonly hist = new Float64Array(NB + 1);
  protected latencySumMs = 0;

  fail(kind: FailKind): void {
    this.errors++;
    this.kinds[kind]!++;
  }

  /** One finished request; status 0 means no response header was sent. */
  finish(status: number, latencyMs: number): void {
    const cls = (status / 100) | 0;
    if (cls > 0 && cls < 6) this.statuses[cls]!++;
    this.hist[bucketOf(latencyMs)]!++;
    this.latencySumMs += latencyMs;
  }

  errorsByKind(): ErrorsByKind {
    const k = this.kinds;
    return { connect: k[1]!, timeout: k[2]!, reset: k[3]!, other: k[4]! };
  }

  statusCounts(): Record<string, number> {
    const statuses: Record<string, number> = {};
    for (let cls = 1; cls < 6; cls++) {
      if (this.statuses[cls]! > 0) statuses[STATUS_KEYS[cls]!] = this.statuses[cls]!;
    }
    return statuses;
  }

  histogram(): LatencyHistogram {
    return {
      bounds: [...LATENCY_BOUNDS_MS],
      counts: Array.from(this.hist),
      sum: Math.round(this.latencySumMs * 1000) / 1000,
    };
  }

  /** Back to zero (a predecessor after its handover counts only what happens afterwards). */
  reset(): void {
    this.requests = 0;
    this.errors = 0;
    this.kinds.fill(0);
    this.statuses.fill(0);
    this.hist.fill(0);
    this.latencySumMs = 0;
  }

  dump(): CountersDump {
    return {
      bounds: [...LATENCY_BOUNDS_MS],
      requests: this.requests,
      errors: this.errors,
      kinds: Array.from(this.kinds),
      statuses: Array.from(this.statuses),
      hist: Array.from(this.hist),
      sum: this.latencySumMs,
    };
  }

  /** Adds counts dumped by another process (possibly another version: buckets are re-binned). */
  merge(d: CountersDump): void {
    this.requests += num(d.requests);
    this.errors += num(d.errors);
    for (let i = 0; i < 5; i++) this.kinds[i]! += num(d.kinds?.[i]);
    for (let i = 0; i < 6; i++) this.statuses[i]! += num(d.statuses?.[i]);
    const bounds = Array.isArray(d.bounds) ? d.bounds : [];
    const hist = Array.isArray(d.hist) ? d.hist : [];
    for (let i = 0; i < hist.length; i++) {
      const upper = i < bounds.length ? num(bounds[i]) : Infinity;
      this.hist[upper === Infinity ? NB : bucketOf(upper)]! += num(hist[i]);
    }
    this.latencySumMs += num(d.sum);
  }
}

function num(v: unknown): number {
  return typeof v === 'number' && Number.isFinite(v) ? v : 0;
}

export interface WindowStats {
  windowRequests: number;
  windowErrors: number;
  samples: number[];
}

/** A revision's counters plus the sliding window the canary judge reads. */
export class RevisionCounters extends Counters {
  // Allocated with the first request (revisions that never serve cost nothing), the ring grown
  // as requests come: ~45 kB at first, ~110 kB once full.
  private ringAt = new Float64Array(0);
  private ringLat = new Float32Array(0);
  private ringBad = new Uint8Array(0);
  /** Next slot to write. */
  private head = 0;
  private size = 0;
  private secOf = new Int32Array(0);
  private secReq = new Uint32Array(0);
  private secErr = new Uint32Array(0);

  /**
   * A bigger ring. Below RING_SIZE it has never dropped a sample, so its entries are [0, size) in
   * time order (when full, head has just come back to 0): they are copied as they are.
   */
  private grow(to = Math.min(RING_SIZE, Math.max(FIRST_RING, this.ringAt.length * 2))): void {
    if (this.secOf.length === 0) {
      this.secOf = new Int32Array(SECONDS).fill(-1);
      this.secReq = new Uint32Array(SECONDS);
      this.secErr = new Uint32Array(SECONDS);
    }
    if (to <= this.ringAt.length) return;
    const at = new Float64Array(to);
    const lat = new Float32Array(to);
    const bad = new Uint8Array(to);
    at.set(this.ringAt.subarray(0, this.size));
    lat.set(this.ringLat.subarray(0, this.size));
    bad.set(this.ringBad.subarray(0, this.size));
    this.ringAt = at;
    this.ringLat = lat;
    this.ringBad = bad;
    this.head = this.size;
  }

  /**
   * One finished client request: status 0 when no response header was sent, `kind` how the proxy
   * failed it (NONE when it did not). `now` is performance.now() at the end.
   */
  record(status: number, latencyMs: number, kind: FailKind, now: number): void {
    this.requests++;
    if (kind !== Fail.NONE) this.fail(kind);
    this.finish(status, latencyMs);
    const bad = kind !== Fail.NONE || status >= 500 ? 1 : 0;
    this.push(now, latencyMs, bad);
  }

  /** A TCP connection that ended: counted, but no status, latency or window sample. */
  recordConnection(kind: FailKind): void {
    this.requests++;
    if (kind !== Fail.NONE) this.fail(kind);
  }

  private push(now: number, latencyMs: number, bad: number): void {
    if (this.size === this.ringAt.length && this.size < RING_SIZE) this.grow();
    const h = this.head;
    this.ringAt[h] = now;
    this.ringLat[h] = latencyMs;
    this.ringBad[h] = bad;
    this.head = h + 1 === this.ringAt.length ? 0 : h + 1;
    if (this.size < this.ringAt.length) this.size++;
    this.count(now, bad);
  }

  private count(now: number, bad: number): void {
    const sec = (now / 1000) | 0;
    const slot = sec % SECONDS;
    if (this.secOf[slot] !== sec) {
      this.secOf[slot] = sec;
      this.secReq[slot] = 0;
      this.secErr[slot] = 0;
    }
    this.secReq[slot]!++;
    if (bad) this.secErr[slot]!++;
  }

  window(windowMs: number, now = performance.now()): WindowStats {
    const start = now - windowMs;
    const samples: number[] = [];
    let errors = 0;
    let covered = this.size < RING_SIZE;
    const cap = this.ringAt.length;
    let i = this.head;
    for (let n = 0; n < this.size; n++) {
      i = i === 0 ? cap - 1 : i - 1;
      if (this.ringAt[i]! < start) {
        covered = true;
        break;
      }
      samples.push(Math.round(this.ringLat[i]! * 1000) / 1000);
      errors += this.ringBad[i]!;
    }
    if (covered) return { windowRequests: samples.length, windowErrors: errors, samples };
    // More requests in the window than the ring holds: count them per second.
    let req = 0;
    let err = 0;
    const last = (now / 1000) | 0;
    const first = Math.max(((start / 1000) | 0) + 1, last - SECONDS + 1);
    for (let s = first; s <= last; s++) {
      const slot = s % SECONDS;
      if (this.secOf[slot] === s) {
        req += this.secReq[slot]!;
        err += this.secErr[slot]!;
      }
    }
    // The oldest (partial) second is estimated from the ring-less remainder, never below the ring.
    return {
      windowRequests: Math.max(req, samples.length),
      windowErrors: Math.max(err, errors),
      samples,
    };
  }

  snapshot(inFlight: number, windowMs?: number): RevisionStats {
    const out: RevisionStats = {
      requests: this.requests,
      statuses: this.statusCounts(),
      errors: this.errors,
      errorsByKind: this.errorsByKind(),
      inFlight,
      latencyMs: this.histogram(),
    };
    if (windowMs !== undefined) {
      const w = this.window(windowMs);
      out.windowMs = windowMs;
      out.windowRequests = w.windowRequests;
      out.windowErrors = w.windowErrors;
      out.samples = w.samples;
    }
    return out;
  }

  override reset(): void {
    super.reset();
    this.head = 0;
    this.size = 0;
    this.secOf.fill(-1);
  }

  override dump(): CountersDump {
    const d = super.dump();
    const origin = performance.timeOrigin;
    const at: number[] = [];
    const lat: number[] = [];
    const bad: number[] = [];
    const cap = this.ringAt.length;
    let i = this.head - this.size;
    if (i < 0) i += cap;
    for (let n = 0; n < this.size; n++) {
      at.push(origin + this.ringAt[i]!);
      lat.push(this.ringLat[i]!);
      bad.push(this.ringBad[i]!);
      i = i + 1 === cap ? 0 : i + 1;
    }
    d.ring = { at, lat, bad };
    const secs = { at: [] as number[], req: [] as number[], err: [] as number[] };
    for (let slot = 0; slot < this.secOf.length; slot++) {
      if (this.secOf[slot]! < 0) continue;
      secs.at.push(origin + this.secOf[slot]! * 1000);
      secs.req.push(this.secReq[slot]!);
      secs.err.push(this.secErr[slot]!);
    }
    d.seconds = secs;
    return d;
  }

  override merge(d: CountersDump): void {
    super.merge(d);
    this.grow(RING_SIZE); // merged rings may hold up to RING_SIZE entries
    const origin = performance.timeOrigin;
    const nowSec = (performance.now() / 1000) | 0;
    const secs = d.seconds;
    if (secs !== undefined && Array.isArray(secs.at)) {
      for (let k = 0; k < secs.at.length; k++) {
        const sec = Math.floor((num(secs.at[k]) - origin) / 1000);
        if (sec < 0 || sec > nowSec || sec <= nowSec - SECONDS) continue;
        const slot = sec % SECONDS;
        if (this.secOf[slot] !== sec) {
          this.secOf[slot] = sec;
          this.secReq[slot] = 0;
          this.secErr[slot] = 0;
        }
        this.secReq[slot]! += num(secs.req[k]);
        this.secErr[slot]! += num(secs.err[k]);
      }
    }
    const ring = d.ring;
    if (ring === undefined || !Array.isArray(ring.at) || ring.at.length === 0) return;
    // Both rings are in time order; merge them and keep the newest RING_SIZE entries.
    const entries: [number, number, number][] = [];
    for (let k = 0; k < ring.at.length; k++) {
      entries.push([num(ring.at[k]) - origin, num(ring.lat[k]), num(ring.bad[k]) ? 1 : 0]);
    }
    let i = this.head - this.size;
    if (i < 0) i += RING_SIZE;
    for (let n = 0; n < this.size; n++) {
      entries.push([this.ringAt[i]!, this.ringLat[i]!, this.ringBad[i]!]);
      i = i + 1 === RING_SIZE ? 0 : i + 1;
    }
    entries.sort((a, b) => a[0] - b[0]);
    const keep = entries.slice(-RING_SIZE);
    this.head = 0;
    this.size = 0;
    for (const [at, lat, bad] of keep) {
      this.ringAt[this.head] = at;
      this.ringLat[this.head] = lat;
      this.ringBad[this.head] = bad;
      this.head = this.head + 1 === RING_SIZE ? 0 : this.head + 1;
      this.size++;
    }
  }
}
