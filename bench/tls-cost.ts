// CPU per new TLS connection: hotswap's proxy against nginx (1 worker), the same certificate, both
// relaying to the fixture app on loopback (bench/tls.ts's setup). wrk with `Connection: close`
// (a full handshake per request); per run, the CPU time each proxy process spent divided by the
// connections wrk completed. On this shared 2-core machine the connections per second swing by
// 3× between runs a minute apart; the CPU per connection moves much less, and set against
// nginx's in the same round it says where the proxy stands.
//
//   node dist/bench/tls-cost.js [--rounds 3] [--duration 5] [--warmup 4] [--connections 50]
//        [--keep-alive] [--only hotswap|nginx] [--base DIR] [--profile DIR] [--perf DIR]
//        [--proxy-flags "..."] [--keep]
//
// --base DIR    a second hotswap proxy from another build (DIR/dist/bench/run-proxy.js), in the
//               same rounds: an A/B of two builds under the same machine load.
// --profile DIR node --cpu-prof for the proxy (bench/cpuprofile.ts summarises the file).
// --perf DIR    `perf record -e cpu-clock -g` of each proxy during its first round (the proxy runs
//               with --perf-basic-prof, so JIT frames have names).
// --proxy-flags more node flags for the proxy (e.g. "--trace-deopt"); --keep keeps the temp dir
//               (the proxy's log).
//
// Before the rounds: what each side negotiates (protocol, cipher, key exchange group, session
// tickets sent), to check that the comparison is like for like, then a warm-up per proxy.
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import { join } from 'node:path';
import { connect as tlsConnect } from 'node:tls';
import { parseArgs } from 'node:util';
import { makeCertificate } from '../src/tls/test-certificates.js';
import { ProcessTable, cpuTicks } from './procs.js';
import { median } from './report.js';
import {
  ensureTools,
  startHotswap,
  startLoopbackApp,
  startNginx,
  type Endpoint,
} from './servers.js';
import { runWrk } from './wrk.js';

const { values } = parseArgs({
  options: {
    rounds: { type: 'string', default: '3' },
    duration: { type: 'string', default: '5' },
    warmup: { type: 'string', default: '4' },
    connections: { type: 'string', default: '50' },
    'keep-alive': { type: 'boolean', default: false },
    only: { type: 'string' },
    base: { type: 'string' },
    profile: { type: 'string' },
    perf: { type: 'string' },
    'proxy-flags': { type: 'string', default: '' },
    keep: { type: 'boolean', default: false },
  },
});
const log = (line: string): void => void process.stderr.write(`[tls-cost] ${line}\n`);

interface Runs {
  rps: number[];
  /** CPU of the proxy process(es) per connection, µs. */
  us: number[];
  /** CPU of the app per connection, µs. */
  app: number[];
}

async function main(): Promise<void> {
  ensureTools(log, ['wrk', 'nginx', 'openssl']);
  const dir = mkdtempSync(join(os.tmpdir(), 'hotswap-tls-cost-'));
  const procs = new ProcessTable();
  try {
    const tls = makeCertificate(dir, 'bench', ['bench.test']);
    const app = await startLoopbackApp(procs, dir, log);
    const ctx = { dir, upstream: app.address, forwardHeaders: true, procs, log };
    const backend = { id: app.id, address: app.address };
    const paths: Array<[string, Endpoint]> = [];
    if (values.only !== 'nginx') {
      const nodeFlags = values['proxy-flags'].split(' ').filter((f) => f !== '');
      if (values.perf !== undefined) nodeFlags.push('--perf-basic-prof');
      const opts = { tls, cpuProfDir: values.profile, nodeFlags };
      paths.push(['hotswap', await startHotswap(ctx, 'hotswap', backend, opts)]);
    }
    if (values.base !== undefined) {
      const script = join(values.base, 'dist', 'bench', 'run-proxy.js');
      paths.push(['base', await startHotswap(ctx, 'base', backend, { tls, script })]);
    }
    if (values.only !== 'hotswap') paths.push(['nginx', await startNginx(ctx, 'nginx', 1, tls)]);
    for (const [name, ep] of paths) log(`${name}: ${await probe(ep.port)}`);
    const headers = values['keep-alive'] ? [] : ['Connection: close'];
    const connections = Number(values.connections);
    const load = (port: number, durationSec: number) => ({
      url: `https://127.0.0.1:${port}/`,
      threads: 2,
      connections,
      durationSec,
      headers,
    });
    // The JIT settles first: per-connection code runs once per handshake, so it takes a while.
    for (const [, ep] of paths) await runWrk(load(ep.port, Number(values.warmup)), procs.track);
    const res: Record<string, Runs> = {};
    for (const [name] of paths) res[name] = { rps: [], us: [], app: [] };
    for (let round = 0; round < Number(values.rounds); round++) {
      const order = round % 2 === 0 ? paths : [...paths].reverse();
      for (const [name, ep] of order) {
        const pids = ep.rssPids();
        const ticks = (): number => pids.reduce((a, p) => a + cpuTicks(p), 0);
        const t0 = ticks();
        const a0 = cpuTicks(app.pid);
        const perf =
          round === 0 && values.perf !== undefined ? record(values.perf, name, pids) : null;
        const r = await runWrk(load(ep.port, Number(values.duration)), procs.track);
        if (perf !== null) await perf();
        // 100 ticks per second: a tick is 10,000 µs.
        const us = ((ticks() - t0) * 10_000) / r.requests;
        const appUs = ((cpuTicks(app.pid) - a0) * 10_000) / r.requests;
        res[name]!.rps.push(r.rps);
        res[name]!.us.push(us);
        res[name]!.app.push(appUs);
        const errors = Object.values(r.socketErrors).reduce((a, b) => a + b, 0);
        log(
          `round ${round + 1} ${name}: ${Math.round(r.rps)}/s, proxy ${Math.round(us)} µs/conn, app ${Math.round(appUs)} µs/conn, ${errors} socket errors, ${r.non2xx} non-2xx`,
        );
      }
    }
    report(res);
  } finally {
    await procs.stopAll();
    if (values.keep) log(`kept ${dir}`);
    else rmSync(dir, { recursive: true, force: true });
  }
}

function report(res: Record<string, Runs>): void {
  for (const [name, x] of Object.entries(res)) {
    const list = (xs: number[]): string => xs.map((v) => Math.round(v)).join(' ');
    console.log(
      `${name.padEnd(8)} conn/s ${list(x.rps)}  µs/conn ${list(x.us)} (median ${Math.round(median(x.us))})`,
    );
  }
  const n = res.nginx;
  for (const name of ['hotswap', 'base']) {
    const x = res[name];
    if (x === undefined || n === undefined) continue;
    const perRound = x.rps.map((v, k) => (v / n.rps[k]!).toFixed(2)).join(' ');
    const cpu = (median(n.us) / median(x.us)).toFixed(2);
    console.log(
      `${name}/nginx: conn/s ${(median(x.rps) / median(n.rps)).toFixed(2)} (rounds ${perRound}); nginx's CPU per connection ÷ ${name}'s ${cpu}`,
    );
  }
}

/** Starts `perf record` on the pids; the returned function stops it and waits for the file. */
function record(dir: string, name: string, pids: number[]): () => Promise<void> {
  const out = join(dir, `${name}.data`);
  const args = ['record', '-e', 'cpu-clock', '-g', '-o', out, '-p', pids.join(',')];
  const child = spawn('perf', args, { stdio: 'ignore' });
  return async () => {
    child.kill('SIGINT');
    await new Promise((resolve) => child.once('exit', resolve));
  };
}

/** What a handshake negotiates: protocol, cipher, key exchange group, session tickets sent. */
function probe(port: number): Promise<string> {
  return new Promise((resolve, reject) => {
    let tickets = 0;
    const s = tlsConnect({
      host: '127.0.0.1',
      port,
      rejectUnauthorized: false,
      servername: 'bench.test',
    });
    s.on('session', () => tickets++);
    s.on('error', reject);
    s.on('secureConnect', () => {
      s.write('GET / HTTP/1.1\r\nHost: bench.test\r\nConnection: close\r\n\r\n');
      s.resume();
    });
    s.on('end', () => {
      const group = s.getEphemeralKeyInfo();
      const kx = group !== null && 'name' in group ? group.name : 'none';
      resolve(`${s.getProtocol()} ${s.getCipher().name} ${kx}, ${tickets} session tickets`);
    });
  });
}

main().then(
  () => process.exit(0),
  (err: unknown) => {
    log(`failed: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}`);
    process.exit(1);
  },
);
