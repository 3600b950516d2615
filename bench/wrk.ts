// Runs wrk (closed loop: -t threads, -c connections, each with one request in flight) for a
// bounded time and parses its text output, including the --latency percentiles.
import { spawn } from 'node:child_process';

export interface WrkResult {
  rps: number;
  requests: number;
  /** Latency percentiles from --latency, ms. */
  p50: number;
  p75: number;
  p90: number;
  p99: number;
  avg: number;
  max: number;
  socketErrors: { connect: number; read: number; write: number; timeout: number };
  non2xx: number;
}

export interface WrkOptions {
  url: string;
  threads: number;
  connections: number;
  durationSec: number;
  /** Extra request headers, e.g. "Connection: close" (a new connection per request). */
  headers?: string[];
}

const UNIT_MS: Record<string, number> = { us: 0.001, ms: 1, s: 1000, m: 60_000, h: 3_600_000 };

function toMs(value: string, unit: string): number {
  const factor = UNIT_MS[unit];
  if (factor === undefined) throw new Error(`wrk: unknown time unit "${unit}"`);
  return Number(value) * factor;
}

export function parseWrk(text: string): WrkResult {
  const num = (re: RegExp): number | undefined => {
    const m = re.exec(text);
    return m?.[1] === undefined ? undefined : Number(m[1]);
  };
  const time = (re: RegExp): number => {
    const m = re.exec(text);
    if (m?.[1] === undefined || m[2] === undefined) return NaN;
    return toMs(m[1], m[2]);
  };
  const rps = num(/^Requests\/sec:\s+([\d.]+)/m);
  if (rps === undefined) throw new Error(`wrk printed no Requests/sec:\n${text}`);
  const errors = /Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)/.exec(text);
  return {
    rps,
    requests: num(/^\s*(\d+) requests in /m) ?? 0,
    p50: time(/^\s*50%\s+([\d.]+)(us|ms|s|m|h)\s*$/m),
    p75: time(/^\s*75%\s+([\d.]+)(us|ms|s|m|h)\s*$/m),
    p90: time(/^\s*90%\s+([\d.]+)(us|ms|s|m|h)\s*$/m),
    p99: time(/^\s*99%\s+([\d.]+)(us|ms|s|m|h)\s*$/m),
    avg: time(/^\s*Latency\s+([\d.]+)(us|ms|s|m|h)/m),
    max: time(/^\s*Latency\s+\S+\s+\S+\s+([\d.]+)(us|ms|s|m|h)/m),
    socketErrors: {
      connect: Number(errors?.[1] ?? 0),
      read: Number(errors?.[2] ?? 0),
      write: Number(errors?.[3] ?? 0),
      timeout: Number(errors?.[4] ?? 0),
    },
    non2xx: num(/Non-2xx or 3xx responses:\s+(\d+)/) ?? 0,
  };
}

/** Runs wrk; killed if it runs 15 s past its duration. `track` registers the pid for cleanup. */
export function runWrk(opts: WrkOptions, track: (pid: number) => () => void): Promise<WrkResult> {
  const args = [
    `-t${opts.threads}`,
    `-c${opts.connections}`,
    `-d${opts.durationSec}s`,
    '--timeout',
    '5s',
    '--latency',
    ...(opts.headers ?? []).flatMap((h) => ['-H', h]),
    opts.url,
  ];
  return new Promise((resolve, reject) => {
    const p = spawn('wrk', args, { stdio: ['ignore', 'pipe', 'pipe'] });
    const untrack = p.pid === undefined ? () => undefined : track(p.pid);
    const killer = setTimeout(() => p.kill('SIGKILL'), (opts.durationSec + 15) * 1000);
    let out = '';
    p.stdout.setEncoding('utf8').on('data', (s: string) => (out += s));
    p.stderr.setEncoding('utf8').on('data', (s: string) => (out += s));
    p.on('error', (err) => {
      clearTimeout(killer);
      untrack();
      reject(err);
    });
    p.on('close', (code, signal) => {
      clearTimeout(killer);
      untrack();
      if (code !== 0) {
        reject(new Error(`wrk ${args.join(' ')} exited with ${code ?? signal}:\n${out}`));
        return;
      }
      try {
        resolve(parseWrk(out));
      } catch (err) {
        reject(err instanceof Error ? err : new Error(String(err)));
      }
    });
  });
}
