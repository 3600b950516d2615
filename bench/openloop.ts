// A small open-loop HTTP/1.1 load generator for the fixed-rate latency figure.
//
// Why not wrk: it is closed-loop (a new request only when one finished), so it cannot hold a fixed
// rate. Why not src/assess's LoadGenerator: it goes through node's http client (a ClientRequest,
// an IncomingMessage and an Agent pool per request) and only wakes up every 1 ms, which costs
// about as much CPU per request as the proxy under test does; on this 2-core machine that CPU
// comes out of the proxy's share. This one writes a pre-encoded GET on raw keep-alive sockets
// and parses just enough of the response (status, Content-Length or chunked, Connection), so a
// request costs a few microseconds here.
//
// Open loop: request k is due at t0 + k/rate whatever happened to earlier ones; it goes out on
// an idle keep-alive connection (a new one is opened when none is idle, up to maxConns), and its
// latency counts from the due time, so waiting inside the generator counts as well (no
// coordinated omission). Sends are paced by a 1 ms timer and also after every response, so
// under load they are not bunched into 1 ms bursts. The generator's own delay (due → written)
// is reported as sendLag, and its CPU time as cpuPercent, so its overhead can be stated.
//
// Run as a child process (one per --procs), it writes raw samples (Float32, ms) to a file and
// one JSON line of counters on stdout; runOpenLoop() in the parent spawns and merges them.
import { spawn } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import tls from 'node:tls';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { fileURLToPath, pathToFileURL } from 'node:url';

export interface OpenLoopOptions {
  host: string;
  port: number;
  path?: string;
  ratePerSec: number;
  durationMs: number;
  /** Samples due in the first warmupMs are sent but not counted. */
  warmupMs: number;
  maxConns: number;
  /** Connections opened before the first request. */
  initialConns: number;
  timeoutMs: number;
  /** Speak TLS to the port (certificates are not verified: a benchmark's own). */
  tls?: boolean;
}

interface ChildOptions extends OpenLoopOptions {
  /** Phase offset of this process's schedule, in fractions of its interval (0..1). */
  phase: number;
  samplesFile: string;
}

interface ChildReport {
  due: number;
  sent: number;
  ok: number;
  non2xx: number;
  errors: number;
  timeouts: number;
  counted: number;
  connsOpened: number;
  maxBusy: number;
  cpuMs: number;
  wallMs: number;
}

export interface Percentiles {
  p50: number;
  p90: number;
  p99: number;
  p999: number;
  max: number;
}

export interface OpenLoopResult {
  targetRate: number;
  /** Completed (counted) requests per second over the measured window. */
  achievedRate: number;
  procs: number;
  sent: number;
  ok: number;
  non2xx: number;
  errors: number;
  timeouts: number;
  /** Latency from the due time to the last response byte, ms. */
  latency: Percentiles;
  /** Latency from the moment the request was written, ms. */
  serviceTime: Percentiles;
  /** Due time → written: the generator's own delay, ms. */
  sendLag: Percentiles;
  connsOpened: number;
  /** Generator CPU, percent of one core, summed over its processes. */
  cpuPercent: number;
  /** Every counted latency (ms), for pooling runs; not part of the JSON report. */
  samples?: Float32Array;
}

export function percentiles(values: Float32Array | Float64Array | number[]): Percentiles {
  const sorted = Float64Array.from(values).sort();
  const at = (q: number): number => {
    if (sorted.length === 0) return NaN;
    const i = Math.min(sorted.length - 1, Math.max(0, Math.ceil(q * sorted.length) - 1));
    return sorted[i]!;
  };
  return { p50: at(0.5), p90: at(0.9), p99: at(0.99), p999: at(0.999), max: at(1) };
}

// ---------------------------------------------------------------- parent side

/** Runs `procs` generator processes, each with rate/procs, and merges their samples. */
export async function runOpenLoop(
  opts: OpenLoopOptions,
  procs: number,
  workDir: string,
  track: (pid: number) => () => void,
): Promise<OpenLoopResult> {
  const script = fileURLToPath(import.meta.url);
  const children = Array.from({ length: procs }, (_, i) => {
    const child: ChildOptions = {
      ...opts,
      ratePerSec: opts.ratePerSec / procs,
      maxConns: Math.max(1, Math.ceil(opts.maxConns / procs)),
      initialConns: Math.max(1, Math.ceil(opts.initialConns / procs)),
      phase: i / procs,
      samplesFile: join(workDir, `openloop-${process.pid}-${Date.now()}-${i}.f32`),
    };
    return child;
  });
  const reports = await Promise.all(
    children.map(
      (child) =>
        new Promise<ChildReport>((resolve, reject) => {
          const p = spawn(process.execPath, [script, JSON.stringify(child)], {
            stdio: ['ignore', 'pipe', 'inherit'],
          });
          const untrack = p.pid === undefined ? () => undefined : track(p.pid);
          // Bounded whatever happens: duration + the in-flight timeout + slack.
          const killer = setTimeout(
            () => p.kill('SIGKILL'),
            child.durationMs + child.timeoutMs + 10_000,
          );
          let out = '';
          p.stdout.setEncoding('utf8').on('data', (s: string) => (out += s));
          p.on('error', reject);
          p.on('close', (code) => {
            clearTimeout(killer);
            untrack();
            if (code !== 0) {
              reject(new Error(`open-loop generator exited with ${code}`));
              return;
            }
            try {
              resolve(JSON.parse(out.trim()) as ChildReport);
            } catch {
              reject(new Error(`open-loop generator printed no report: ${out.slice(0, 200)}`));
            }
          });
        }),
    ),
  );
  const read = (file: string): Float32Array => {
    const buf = readFileSync(file);
    return new Float32Array(buf.buffer, buf.byteOffset, buf.byteLength / 4);
  };
  const lat: number[] = [];
  const svc: number[] = [];
  const lag: number[] = [];
  for (const child of children) {
    const raw = read(child.samplesFile);
    // Layout: [latency…][serviceTime…][sendLag…], each of equal length.
    const n = raw.length / 3;
    for (let i = 0; i < n; i++) {
      lat.push(raw[i]!);
      svc.push(raw[n + i]!);
      lag.push(raw[2 * n + i]!);
    }
  }
  const sum = (key: keyof ChildReport): number => reports.reduce((a, r) => a + r[key], 0);
  const measuredSec = (opts.durationMs - opts.warmupMs) / 1000;
  return {
    targetRate: opts.ratePerSec,
    achievedRate: Math.round(sum('counted') / measuredSec),
    procs,
    sent: sum('sent'),
    ok: sum('ok'),
    non2xx: sum('non2xx'),
    errors: sum('errors'),
    timeouts: sum('timeouts'),
    latency: percentiles(lat),
    serviceTime: percentiles(svc),
    sendLag: percentiles(lag),
    connsOpened: sum('connsOpened'),
    cpuPercent: Math.round((100 * sum('cpuMs')) / Math.max(...reports.map((r) => r.wallMs))),
    samples: Float32Array.from(lat),
  };
}

// ---------------------------------------------------------------- child side

const CRLFCRLF = Buffer.from('\r\n\r\n');

class Conn {
  readonly socket: net.Socket;
  connected = false;
  busy = false;
  dead = false;
  /** Index of the request in flight. */
  req = -1;
  sentAt = 0;
  buf: Buffer | null = null;

  constructor(socket: net.Socket) {
    this.socket = socket;
  }
}

/** Response length if the buffer holds a whole response, else -1; throws on garbage. */
function completeLength(buf: Buffer): { length: number; status: number; close: boolean } | null {
  const headEnd = buf.indexOf(CRLFCRLF);
  if (headEnd < 0) return null;
  const head = buf.toString('latin1', 0, headEnd);
  const status = Number(head.slice(9, 12));
  if (!head.startsWith('HTTP/1.') || !(status >= 100)) throw new Error('bad status line');
  let contentLength = -1;
  let chunked = false;
  let close = head.startsWith('HTTP/1.0');
  for (const line of head.split('\r\n')) {
    const colon = line.indexOf(':');
    if (colon < 0) continue;
    const name = line.slice(0, colon).trim().toLowerCase();
    const value = line
      .slice(colon + 1)
      .trim()
      .toLowerCase();
    if (name === 'content-length') contentLength = Number(value);
    else if (name === 'transfer-encoding') chunked = value.includes('chunked');
    else if (name === 'connection') close = value.includes('close');
  }
  const bodyStart = headEnd + 4;
  if (chunked) {
    let at = bodyStart;
    for (;;) {
      const lineEnd = buf.indexOf('\r\n', at, 'latin1');
      if (lineEnd < 0) return null;
      const size = parseInt(buf.toString('latin1', at, lineEnd), 16);
      if (Number.isNaN(size)) throw new Error('bad chunk size');
      if (size === 0) {
        // Trailers (none expected) end with an empty line.
        const end = buf.indexOf(CRLFCRLF, lineEnd);
        return end < 0 ? null : { length: end + 4, status, close };
      }
      at = lineEnd + 2 + size + 2;
      if (at > buf.length) return null;
    }
  }
  if (contentLength < 0) contentLength = 0;
  const total = bodyStart + contentLength;
  return buf.length >= total ? { length: total, status, close } : null;
}

function runChild(o: ChildOptions): void {
  const intervalMs = 1000 / o.ratePerSec;
  const total = Math.floor((o.durationMs * o.ratePerSec) / 1000);
  const request = Buffer.from(
    `GET ${o.path ?? '/'} HTTP/1.1\r\nHost: ${o.host}:${o.port}\r\nUser-Agent: hotswap-bench\r\n\r\n`,
    'latin1',
  );
  const dueAt = (k: number): number => (k + o.phase) * intervalMs;
  const latency = new Float32Array(total);
  const service = new Float32Array(total);
  const lag = new Float32Array(total);
  const done = new Uint8Array(total); // 0 pending, 1 ok, 2 non-2xx, 3 error
  const report: ChildReport = {
    due: total,
    sent: 0,
    ok: 0,
    non2xx: 0,
    errors: 0,
    timeouts: 0,
    counted: 0,
    connsOpened: 0,
    maxBusy: 0,
    cpuMs: 0,
    wallMs: 0,
  };
  const conns = new Set<Conn>();
  const idle: Conn[] = [];
  let opening = 0;
  let busy = 0;
  let next = 0; // next request index to send
  let finished = 0;
  let stopping = false;
  const cpu0 = process.cpuUsage();
  const t0 = performance.now() + 50; // first request 50 ms after the initial connections open
  const now = (): number => performance.now() - t0;

  const finish = (c: Conn, kind: 1 | 2 | 3): void => {
    const k = c.req;
    if (k < 0 || done[k] !== 0) return;
    const t = now();
    done[k] = kind;
    latency[k] = t - dueAt(k);
    service[k] = t - c.sentAt;
    finished++;
    busy--;
    c.busy = false;
    c.req = -1;
    if (kind === 1) report.ok++;
    else if (kind === 2) report.non2xx++;
    else report.errors++;
  };

  const open = (): void => {
    opening++;
    report.connsOpened++;
    const socket =
      o.tls === true
        ? tls.connect({ host: o.host, port: o.port, rejectUnauthorized: false }).setNoDelay(true)
        : net.connect({ host: o.host, port: o.port, noDelay: true });
    const c = new Conn(socket);
    conns.add(c);
    socket.on(o.tls === true ? 'secureConnect' : 'connect', () => {
      opening--;
      c.connected = true;
      idle.push(c);
      pump();
    });
    socket.on('data', (chunk: Buffer) => {
      if (!c.busy) return; // stray bytes: ignore
      c.buf = c.buf === null ? chunk : Buffer.concat([c.buf, chunk]);
      let parsed: ReturnType<typeof completeLength>;
      try {
        parsed = completeLength(c.buf);
      } catch {
        finish(c, 3);
        socket.destroy();
        return;
      }
      if (parsed === null) return;
      c.buf = null;
      finish(c, parsed.status >= 200 && parsed.status < 300 ? 1 : 2);
      if (parsed.close) {
        socket.destroy();
      } else {
        idle.push(c);
      }
      pump();
    });
    const gone = (): void => {
      if (c.dead) return;
      c.dead = true;
      if (!c.connected) opening--;
      conns.delete(c);
      const i = idle.indexOf(c);
      if (i >= 0) idle.splice(i, 1);
      if (c.busy) finish(c, 3);
      pump();
    };
    socket.on('error', gone);
    socket.on('close', gone);
  };

  const pump = (): void => {
    if (stopping) return;
    const t = now();
    const due = Math.min(total, Math.floor(t / intervalMs - o.phase) + 1);
    while (next < due) {
      let c = idle.pop();
      while (c !== undefined && (c.dead || c.busy)) c = idle.pop();
      if (c === undefined) {
        // Everyone busy: open one more connection (if allowed); the request waits meanwhile,
        // and its latency keeps counting from its due time.
        if (conns.size < o.maxConns && opening === 0) open();
        break;
      }
      c.busy = true;
      c.req = next;
      c.sentAt = now();
      lag[next] = c.sentAt - dueAt(next);
      busy++;
      if (busy > report.maxBusy) report.maxBusy = busy;
      report.sent++;
      next++;
      c.socket.write(request);
    }
    if (next >= total && finished >= total) end();
  };

  // In-flight requests older than timeoutMs are errors; their connection is dropped.
  const sweep = setInterval(() => {
    const t = now();
    for (const c of conns) {
      if (c.busy && t - c.sentAt > o.timeoutMs) {
        report.timeouts++;
        finish(c, 3);
        c.socket.destroy();
      }
    }
  }, 100);

  const tick = (): void => {
    pump();
    if (!stopping) timer = setTimeout(tick, 1);
  };
  let timer: NodeJS.Timeout = setTimeout(tick, 1);
  // Hard bound: whatever is still in flight after duration + timeout is not waited for.
  const hardStop = setTimeout(() => end(), o.durationMs + o.timeoutMs + 500);

  let ended = false;
  function end(): void {
    if (ended) return;
    ended = true;
    stopping = true;
    clearTimeout(timer);
    clearTimeout(hardStop);
    clearInterval(sweep);
    for (const c of conns) c.socket.destroy();
    const cpu = process.cpuUsage(cpu0);
    report.cpuMs = (cpu.user + cpu.system) / 1000;
    report.wallMs = now();
    // Count only requests due after the warm-up that were sent; unsent ones are errors.
    const lat: number[] = [];
    const svc: number[] = [];
    const lg: number[] = [];
    for (let k = 0; k < total; k++) {
      if (dueAt(k) < o.warmupMs) continue;
      if (done[k] === 1) {
        lat.push(latency[k]!);
        svc.push(service[k]!);
        lg.push(lag[k]!);
        report.counted++;
      } else if (done[k] === 0) {
        report.errors++;
      }
    }
    const out = new Float32Array(lat.length * 3);
    out.set(lat, 0);
    out.set(svc, lat.length);
    out.set(lg, 2 * lat.length);
    writeFileSync(o.samplesFile, Buffer.from(out.buffer));
    process.stdout.write(`${JSON.stringify(report)}\n`);
    process.exit(0);
  }

  for (let i = 0; i < o.initialConns; i++) open();
}

if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const arg = process.argv[2];
  if (arg === undefined) {
    process.stderr.write('openloop.js is started by bench/proxy.js with its options as JSON\n');
    process.exit(2);
  }
  runChild(JSON.parse(arg) as ChildOptions);
}
