// TLS termination: hotswap's proxy against nginx (1 worker) serving the same ECDSA P-256
// certificate, both relaying to the fixture app on loopback, both adding the forwarded headers.
//
//   npm run bench:tls [-- --rounds 3 --duration 6]
//
// Per interleaved round: wrk keep-alive throughput (-t2 -c50), wrk new TLS connections per
// second (`Connection: close`: a full handshake per request), then p50/p99 at half of nginx's
// keep-alive rate from the open-loop generator speaking TLS. Prints a table, the ratios against
// the targets and a JSON line; exits 0 whatever the figures (a measurement, not a test).
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { makeCertificate } from '../src/tls/test-certificates.js';
import { runOpenLoop } from './openloop.js';
import { ProcessTable } from './procs.js';
import { median, r2 } from './report.js';
import {
  ensureTools,
  startHotswap,
  startLoopbackApp,
  startNginx,
  type Endpoint,
} from './servers.js';
import { runWrk } from './wrk.js';

const TARGETS = { keepAliveVsNginx: 0.8, newConnsVsNginx: 0.7, p99OverNginxMs: 2 };

const { values } = parseArgs({
  options: {
    rounds: { type: 'string', default: '3' },
    duration: { type: 'string', default: '6' },
  },
});
const rounds = Number(values.rounds);
const durationSec = Number(values.duration);
const log = (line: string): void => void process.stderr.write(`[bench:tls] ${line}\n`);

interface Figures {
  keepAlive: number[];
  newConns: number[];
  p50: number[];
  p99: number[];
}

async function main(): Promise<void> {
  ensureTools(log, ['wrk', 'nginx', 'openssl']);
  const dir = mkdtempSync(join(os.tmpdir(), 'hotswap-bench-tls-'));
  const procs = new ProcessTable();
  try {
    const tls = makeCertificate(dir, 'bench', ['bench.test']);
    const app = await startLoopbackApp(procs, dir, log);
    const ctx = { dir, upstream: app.address, forwardHeaders: true, procs, log };
    const paths: Array<[string, Endpoint]> = [
      [
        'hotswap',
        await startHotswap(ctx, 'hotswap', { id: app.id, address: app.address }, { tls }),
      ],
      ['nginx', await startNginx(ctx, 'nginx', 1, tls)],
    ];
    const figures: Record<string, Figures> = {};
    for (const [name] of paths) figures[name] = { keepAlive: [], newConns: [], p50: [], p99: [] };
    for (let round = 0; round < rounds; round++) {
      // Interleaved, the order flipped each round, so a slow moment of the machine hits both.
      const order = round % 2 === 0 ? paths : [...paths].reverse();
      for (const [name, ep] of order) {
        const url = `https://127.0.0.1:${ep.port}/`;
        const ka = await runWrk({ url, threads: 2, connections: 50, durationSec }, procs.track);
        const nc = await runWrk(
          { url, threads: 2, connections: 50, durationSec, headers: ['Connection: close'] },
          procs.track,
        );
        figures[name]!.keepAlive.push(ka.rps);
        figures[name]!.newConns.push(nc.rps);
        const bad = (r: typeof ka): string =>
          `${r.non2xx} non-2xx, ${Object.values(r.socketErrors).reduce((a, b) => a + b, 0)} socket errors`;
        log(
          `round ${round + 1} ${name}: keep-alive ${Math.round(ka.rps)} req/s (${bad(ka)}), ` +
            `new connections ${Math.round(nc.rps)}/s (${bad(nc)})`,
        );
      }
    }
    const half = Math.round(median(figures.nginx!.keepAlive) / 2);
    for (let round = 0; round < rounds; round++) {
      const order = round % 2 === 0 ? paths : [...paths].reverse();
      for (const [name, ep] of order) {
        const r = await runOpenLoop(
          {
            host: '127.0.0.1',
            port: ep.port,
            tls: true,
            ratePerSec: half,
            durationMs: durationSec * 1000,
            warmupMs: 1000,
            maxConns: 64,
            initialConns: 16,
            timeoutMs: 5000,
          },
          1,
          dir,
          procs.track,
        );
        figures[name]!.p50.push(r.latency.p50);
        figures[name]!.p99.push(r.latency.p99);
        log(
          `round ${round + 1} ${name} at ${half} req/s: p50 ${r2(r.latency.p50)} ms, p99 ${r2(r.latency.p99)} ms, ${r.errors} errors`,
        );
      }
    }
    report(figures, half);
  } finally {
    await procs.stopAll();
    rmSync(dir, { recursive: true, force: true });
  }
}

function report(f: Record<string, Figures>, half: number): void {
  const h = f.hotswap!;
  const n = f.nginx!;
  const ka = median(h.keepAlive) / median(n.keepAlive);
  const nc = median(h.newConns) / median(n.newConns);
  const p99diff = median(h.p99.map((v, i) => v - n.p99[i]!));
  const line = (name: string, x: Figures): string =>
    `${name.padEnd(16)} ${String(Math.round(median(x.keepAlive))).padStart(8)} ${String(Math.round(median(x.newConns))).padStart(10)} ${r2(median(x.p50)).toFixed(2).padStart(8)} ${r2(median(x.p99)).toFixed(2).padStart(8)}`;
  console.log(
    `TLS TERMINATION — medians of ${rounds} interleaved rounds (wrk -t2 -c50 -d${durationSec}s; open loop at ${half} req/s)`,
  );
  console.log(
    `${'path'.padEnd(16)} ${'ka req/s'.padStart(8)} ${'new conn/s'.padStart(10)} ${'p50 ms'.padStart(8)} ${'p99 ms'.padStart(8)}`,
  );
  console.log(line('hotswap', h));
  console.log(line('nginx, 1 worker', n));
  const verdict = (ok: boolean): string => (ok ? 'met' : 'NOT met');
  console.log(
    `keep-alive throughput vs nginx: ${r2(ka)}x (target ${TARGETS.keepAliveVsNginx}x: ${verdict(ka >= TARGETS.keepAliveVsNginx)})`,
  );
  console.log(
    `new TLS connections vs nginx: ${r2(nc)}x (target ${TARGETS.newConnsVsNginx}x: ${verdict(nc >= TARGETS.newConnsVsNginx)})`,
  );
  console.log(
    `p99 minus nginx's at ${half} req/s (median of per-round differences): ${r2(p99diff)} ms (target +${TARGETS.p99OverNginxMs} ms: ${verdict(p99diff <= TARGETS.p99OverNginxMs)})`,
  );
  console.log(
    JSON.stringify({
      keepAliveRatio: r2(ka),
      newConnsRatio: r2(nc),
      p99DiffMs: r2(p99diff),
      half,
      figures: f,
    }),
  );
}

main().then(
  () => process.exit(0),
  (err: unknown) => {
    log(`failed: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}`);
    process.exit(1);
  },
);
