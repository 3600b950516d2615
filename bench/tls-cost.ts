// CPU per new TLS connection: hotswap's proxy against nginx (1 worker), same certificate, both
// relaying to the fixture app on loopback. wrk with `Connection: close` (a full handshake per
// request); per run the CPU time each process spent divided by the connections wrk completed.
// The CPU per connection moves far less with the machine's load than the connections per second.
//
//   node dist/bench/tls-cost.js [--rounds 3] [--duration 5] [--profile DIR] [--keep-alive]
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { connect as tlsConnect } from 'node:tls';
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
    connections: { type: 'string', default: '50' },
    profile: { type: 'string' },
    'keep-alive': { type: 'boolean', default: false },
    only: { type: 'string' },
    warmup: { type: 'string', default: '4' },
    perf: { type: 'string' },
    base: { type: 'string' },
  },
});
const log = (line: string): void => void process.stderr.write(`[tls-cost] ${line}\n`);

async function main(): Promise<void> {
  ensureTools(log, ['wrk', 'nginx', 'openssl']);
  const dir = mkdtempSync(join(os.tmpdir(), 'hotswap-tls-cost-'));
  const procs = new ProcessTable();
  try {
    const tls = makeCertificate(dir, 'bench', ['bench.test']);
    const app = await startLoopbackApp(procs, dir, log);
    const ctx = { dir, upstream: app.address, forwardHeaders: true, procs, log };
    const paths: Array<[string, Endpoint]> = [];
    if (values.only !== 'nginx') {
      const opts = {
        tls,
        cpuProfDir: values.profile,
        nodeFlags: [
          ...(values.perf === undefined ? [] : ['--perf-basic-prof']),
          ...(process.env.PROXY_FLAGS ?? '').split(' ').filter((f) => f !== ''),
        ],
      };
      paths.push([
        'hotswap',
        await startHotswap(ctx, 'hotswap', { id: app.id, address: app.address }, opts),
      ]);
    }
    if (values.base !== undefined) {
      const script = join(values.base, 'dist', 'bench', 'run-proxy.js');
      const backend = { id: app.id, address: app.address };
      paths.push(['base', await startHotswap(ctx, 'base', backend, { tls, script })]);
    }
    if (values.only !== 'hotswap') paths.push(['nginx', await startNginx(ctx, 'nginx', 1, tls)]);
    const res: Record<string, { rps: number[]; us: number[]; app: number[] }> = {};
    for (const [name] of paths) res[name] = { rps: [], us: [], app: [] };
    for (const [name, ep] of paths) log(`${name}: ${await probe(ep.port)}`);
    const headers = values['keep-alive'] ? [] : ['Connection: close'];
    for (const [, ep] of paths) {
      const url = `https://127.0.0.1:${ep.port}/`;
      const durationSec = Number(values.warmup);
      await runWrk({ url, threads: 2, connections: 50, durationSec, headers }, procs.track);
    }
    for (let round = 0; round < Number(values.rounds); round++) {
      const order = round % 2 === 0 ? paths : [...paths].reverse();
      for (const [name, ep] of order) {
        const pids = ep.rssPids();
        const t0 = pids.reduce((a, p) => a + cpuTicks(p), 0);
        const a0 = cpuTicks(app.pid);
        const perf =
          values.perf !== undefined && round === 0
            ? spawn(
                'perf',
                [
                  'record',
                  '-e',
                  'cpu-clock',
                  '-g',
                  '-o',
                  join(values.perf, `${name}.data`),
                  '-p',
                  pids.join(','),
                ],
                { stdio: 'ignore' },
              )
            : null;
        const r = await runWrk(
          {
            url: `https://127.0.0.1:${ep.port}/`,
            threads: 2,
            connections: Number(values.connections),
            durationSec: Number(values.duration),
            headers,
          },
          procs.track,
        );
        if (perf !== null) {
          perf.kill('SIGINT');
          await new Promise((r) => perf.once('exit', r));
        }
        const ticks = pids.reduce((a, p) => a + cpuTicks(p), 0) - t0;
        const us = (ticks * 10_000) / r.requests;
        const appUs = ((cpuTicks(app.pid) - a0) * 10_000) / r.requests;
        res[name]!.rps.push(r.rps);
        res[name]!.us.push(us);
        res[name]!.app.push(appUs);
        log(
          `round ${round + 1} ${name}: ${Math.round(r.rps)}/s, proxy ${us.toFixed(0)} µs/conn, app ${appUs.toFixed(0)} µs, errors ${JSON.stringify(r.socketErrors)} non2xx ${r.non2xx}`,
        );
      }
    }
    for (const [name, x] of Object.entries(res)) {
      console.log(
        `${name.padEnd(8)} rps ${x.rps.map((v) => Math.round(v)).join(' ')}  µs/conn ${x.us.map((v) => Math.round(v)).join(' ')} (median ${Math.round(median(x.us))})`,
      );
    }
    for (const name of ['hotswap', 'base']) {
      const x = res[name];
      const n = res.nginx;
      if (x === undefined || n === undefined) continue;
      const perRound = x.rps.map((v, k) => (v / n.rps[k]!).toFixed(2)).join(' ');
      const cpu = (median(n.us) / median(x.us)).toFixed(2);
      console.log(
        `${name}/nginx: rps ${(median(x.rps) / median(n.rps)).toFixed(2)} (rounds ${perRound}); nginx's cpu/conn over ${name}'s ${cpu}`,
      );
    }
  } finally {
    await procs.stopAll();
    if (process.env.KEEP === undefined) rmSync(dir, { recursive: true, force: true });
    else log(`kept ${dir}`);
  }
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
      s.write('GET / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n');
      s.resume();
    });
    s.on('end', () =>
      resolve(
        `${s.getProtocol()} ${s.getCipher().name} ${JSON.stringify(s.getEphemeralKeyInfo())} tickets ${tickets}`,
      ),
    );
  });
}

main().then(
  () => process.exit(0),
  (err: unknown) => {
    log(`failed: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}`);
    process.exit(1);
  },
);
