// A fixed-rate, open-loop load generator: requests are sent on schedule whether or not earlier
// ones have finished, and latency counts from the scheduled time, so queueing shows up in it.
// Used by the demo, the end-to-end tests and benchmarks. Bounded in count and time by design.
import http from 'node:http';

export interface LoadOptions {
  /** Loopback URL, e.g. http://127.0.0.1:8080/ */
  url: string;
  ratePerSec: number;
  /** 'mixed' alternates keep-alive and new-connection requests. */
  connections: 'keep-alive' | 'new' | 'mixed';
  /** Share (0..1) of requests sent on kept-alive connections, spread evenly; overrides `connections`. */
  keepAliveShare?: number;
  timeoutMs?: number;
  /** Hard stop, whatever the caller does. */
  maxDurationMs?: number;
  maxRequests?: number;
  /**
   * Non-loopback hosts the caller vouches for: addresses in network namespaces it made itself
   * (the Swarm lab's node addresses, test/helpers/lab.ts). Anything else is refused.
   */
  allowHosts?: readonly string[];
}

export interface Sample {
  /** Scheduled send time, ms since start. */
  at: number;
  latencyMs: number;
  ok: boolean;
  status: number | null;
  error: string | null;
  version: string | null;
  keepAlive: boolean;
}

const TICK_MS = 1;

export class LoadGenerator {
  readonly samples: Sample[] = [];
  private readonly agent = new http.Agent({ keepAlive: true, maxSockets: 64 });
  private readonly target: URL;
  private timer: NodeJS.Timeout | null = null;
  private startedAt = 0;
  private scheduled = 0;
  private inFlight = 0;
  private idle: (() => void) | null = null;

  constructor(private readonly opts: LoadOptions) {
    this.target = new URL(opts.url);
    const allowed = ['127.0.0.1', 'localhost', '[::1]', ...(opts.allowHosts ?? [])];
    if (!allowed.includes(this.target.hostname)) {
      throw new Error(`load is only sent to loopback, not ${this.target.hostname}`);
    }
  }

  /** Milliseconds since start: use it to mark phase boundaries. */
  now(): number {
    return performance.now() - this.startedAt;
  }

  start(): void {
    this.startedAt = performance.now();
    this.timer = setInterval(() => this.tick(), TICK_MS);
  }

  async stop(): Promise<Sample[]> {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
    if (this.inFlight > 0) await new Promise<void>((r) => (this.idle = r));
    this.agent.destroy();
    return this.samples;
  }

  private tick(): void {
    const elapsed = this.now();
    const maxMs = this.opts.maxDurationMs ?? 300_000;
    const maxReq = this.opts.maxRequests ?? 200_000;
    if (elapsed > maxMs || this.scheduled >= maxReq) {
      void this.stop();
      return;
    }
    // Request k is due at k / rate seconds, so at time t requests 0..floor(t·rate) are due.
    const due = Math.floor((elapsed * this.opts.ratePerSec) / 1000) + 1;
    while (this.scheduled < due && this.scheduled < maxReq) {
      const at = (this.scheduled * 1000) / this.opts.ratePerSec;
      this.send(at, this.useKeepAlive(this.scheduled));
      this.scheduled++;
    }
  }

  private useKeepAlive(n: number): boolean {
    const share = this.opts.keepAliveShare;
    if (share !== undefined) return Math.floor((n + 1) * share) > Math.floor(n * share);
    if (this.opts.connections === 'mixed') return n % 2 === 0;
    return this.opts.connections === 'keep-alive';
  }

  private send(at: number, keepAlive: boolean): void {
    this.inFlight++;
    const done = (s: Omit<Sample, 'at' | 'latencyMs' | 'keepAlive'>): void => {
      this.samples.push({ at, latencyMs: this.now() - at, keepAlive, ...s });
      if (--this.inFlight === 0 && this.idle) this.idle();
    };
    const req = http.request(
      {
        host: this.target.hostname.replace(/^\[|\]$/g, ''),
        port: this.target.port,
        path: this.target.pathname + this.target.search,
        agent: keepAlive ? this.agent : false,
        headers: keepAlive ? {} : { connection: 'close' },
        timeout: this.opts.timeoutMs ?? 5000,
      },
      (res) => {
        const status = res.statusCode ?? 0;
        const version = (res.headers['x-version'] as string | undefined) ?? null;
        res.on('error', (err) =>
          done({ ok: false, status, error: `body: ${err.message}`, version }),
        );
        res.on('end', () =>
          done({ ok: status >= 200 && status < 300, status, error: null, version }),
        );
        res.resume();
      },
    );
    req.on('timeout', () => req.destroy(new Error('timeout')));
    req.on('error', (err) =>
      done({
        ok: false,
        status: null,
        error: (err as NodeJS.ErrnoException).code ?? err.message,
        version: null,
      }),
    );
    req.end();
  }
}
