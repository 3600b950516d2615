// Instructions per request of a proxy process, counted by valgrind's callgrind: the same count for
// the same code and load whatever else the machine is doing, so a change to the proxy's hot path
// shows as a number rather than as noise in req/s. One run measures, one after the other:
//   - hotswap's proxy (its fast path: raw sockets, src/proxy/fast-http.ts);
//   - nginx, one process (`master_process off`), as the reference.
// (The full path, Node's http server and client, is left out: under valgrind it never got past a
// few hundred requests in the warm-up, so its count was the JIT's, not the proxy's.)
// All three relay to the fixture app (test/fixtures/app/server.js) run by node on a loopback port
// (no container: only the proxy is counted). Per subject: start it under callgrind with
// instrumentation off, warm it up with wrk (the JIT settles), switch instrumentation on, run
// `wrk -t1 -c8` for a fixed time, switch it off, dump, and divide the instructions by the
// requests wrk counted. Kernel work is not counted (callgrind sees user space only).
//
//   npm run build && node dist/bench/instructions.js [--seconds 10] [--warmup 10] [--json]
//                                                    [--bare-peers] [--keep]
//                                                    [--tls] [--close] [--only hotswap|nginx]
//
// --tls serves TLS on both (the same self-signed ECDSA P-256 certificate); --close sends every
// request with `Connection: close`, so with --tls each request is a full handshake and the count
// is per new TLS connection. Under valgrind that runs a few connections per second: give it
// --warmup 60 --seconds 30, and compare counts taken with similar connection counts (the JIT's
// share shrinks as the count grows). --only measures one subject.
//
// --keep leaves the temp dir (the callgrind.* files, for callgrind_annotate) and prints its path.
//
// nginx adds X-Forwarded-For/-Proto/-Host and X-Request-Id as hotswap does (bench/servers.ts
// says why); --bare-peers counts it with a bare proxy_pass instead.
//
// Needs valgrind (Debian package `valgrind`, installed with apt-get when missing, like wrk and
// nginx) and wrk. Exit 0 when the measurement ran, 1 when a step failed, 2 on a bad flag.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { PROXY_NODE_FLAGS, ProxyClient } from '../src/proxy/index.js';
import { ProcessTable, freePort, hasCommand, sleep, waitHttp200 } from './procs.js';
import { ensureTools, nginxConfig } from './servers.js';
import { makeCertificate } from '../src/tls/test-certificates.js';
import { runWrk } from './wrk.js';

interface Subject {
  key: string;
  label: string;
  /** Starts the subject under `valgrind`; returns its port and pid once it proxies. */
  start(ctx: Context): Promise<{ port: number; pid: number }>;
}

interface Context {
  dir: string;
  upstream: string;
  /** nginx adds the headers hotswap adds (X-Forwarded-*, X-Request-Id); --bare-peers: not. */
  forwardHeaders: boolean;
  /** Serve TLS with this certificate (--tls). */
  tls?: { cert: string; key: string };
  /** Every request on a new connection (`Connection: close`; --close). */
  close: boolean;
  procs: ProcessTable;
  log: (line: string) => void;
}

export interface InstructionResult {
  key: string;
  label: string;
  requests: number;
  instructions: number;
  perRequest: number;
}

const VALGRIND = ['--tool=callgrind', '--instr-atstart=no'];

function valgrindArgs(ctx: Context, key: string): string[] {
  return [...VALGRIND, `--callgrind-out-file=${join(ctx.dir, `callgrind.${key}.%p`)}`];
}

async function startHotswap(ctx: Context, key: string): Promise<{ port: number; pid: number }> {
  const socketPath = join(ctx.dir, `${key}.sock`);
  const script = fileURLToPath(new URL('./run-proxy.js', import.meta.url));
  const args = [
    ...valgrindArgs(ctx, key),
    process.execPath,
    ...PROXY_NODE_FLAGS,
    // A new TLS connection per request runs a few per second under valgrind: at V8's default
    // budget the JIT was still compiling the accept path after a minute (a quarter of the
    // count). A smaller budget lets it settle during the warm-up; the code it settles on is the
    // same.
    ...(ctx.close ? ['--interrupt-budget=8192'] : []),
    script,
    socketPath,
  ];
  args.push(join(ctx.dir, `${key}.routes.json`));
  const child = ctx.procs.spawnLogged(key, 'valgrind', args, join(ctx.dir, `${key}.log`));
  // Under valgrind everything is slow, the control socket's answers included.
  const client = new ProxyClient({ socketPath, timeoutMs: 60_000 });
  const deadline = Date.now() + 120_000;
  for (;;) {
    if (child.exitCode !== null) throw new Error(`${key} exited (see ${ctx.dir}/${key}.log)`);
    try {
      await client.health();
      break;
    } catch (err) {
      if (Date.now() > deadline) throw err;
      await sleep(500);
    }
  }
  const port = await freePort();
  const listen = `127.0.0.1:${port}`;
  await client.ensureService('web', ctx.tls === undefined ? { listen } : { listen, tls: ctx.tls });
  await client.addBackend('web', { id: 'app', revision: 1, address: ctx.upstream });
  await client.setWeights('web', { '1': 1 });
  await waitHttp200(key, port, 60_000, () => child.exitCode === null, ctx.tls !== undefined);
  return { port, pid: child.pid! };
}

async function startNginx(ctx: Context): Promise<{ port: number; pid: number }> {
  const port = await freePort();
  const conf = join(ctx.dir, 'nginx.conf');
  // One process, no daemon: the process valgrind starts is the one that proxies.
  writeFileSync(conf, nginxConfig(ctx.dir, ctx.upstream, port, 0, ctx.forwardHeaders, ctx.tls));
  const args = [...valgrindArgs(ctx, 'nginx'), 'nginx', '-p', `${ctx.dir}/`, '-c', conf];
  args.push('-e', join(ctx.dir, 'error.log'));
  const child = ctx.procs.spawnLogged('nginx', 'valgrind', args, join(ctx.dir, 'nginx.log'));
  await waitHttp200('nginx', port, 60_000, () => child.exitCode === null, ctx.tls !== undefined);
  return { port, pid: child.pid! };
}

const SUBJECTS: Subject[] = [
  { key: 'hotswap', label: 'hotswap proxy', start: (ctx) => startHotswap(ctx, 'hotswap') },
  { key: 'nginx', label: 'nginx, 1 process', start: startNginx },
];

/** Instructions recorded in the dumps of one process (the "totals:" line of each dump file). */
function dumpedInstructions(dir: string, key: string, pid: number): number {
  let total = 0;
  for (const name of readdirSync(dir)) {
    if (!name.startsWith(`callgrind.${key}.${pid}`)) continue;
    const text = readFileSync(join(dir, name), 'utf8');
    const m = /^totals:\s+(\d+)/m.exec(text);
    if (m !== null) total += Number(m[1]);
  }
  return total;
}

/** Waits for the dump callgrind_control asked for (written by the slow, instrumented process). */
async function waitForDump(dir: string, key: string, pid: number): Promise<number> {
  const deadline = Date.now() + 60_000;
  for (;;) {
    const total = dumpedInstructions(dir, key, pid);
    if (total > 0 || Date.now() > deadline) return total;
    await sleep(500);
  }
}

function callgrindControl(args: string[], pid: number): void {
  const res = spawnSync('callgrind_control', [...args, String(pid)], { encoding: 'utf8' });
  if (res.status !== 0) {
    throw new Error(`callgrind_control ${args.join(' ')} ${pid}: ${res.stderr}`);
  }
}

async function measure(
  ctx: Context,
  subject: Subject,
  seconds: number,
  warmup: number,
): Promise<InstructionResult> {
  ctx.log(`${subject.label}: starting under callgrind`);
  const { port, pid } = await subject.start(ctx);
  const url = `${ctx.tls === undefined ? 'http' : 'https'}://127.0.0.1:${port}/`;
  const track = ctx.procs.track;
  const load = { url, threads: 1, connections: 8, headers: ctx.close ? ['Connection: close'] : [] };
  ctx.log(`${subject.label}: warm-up ${warmup} s`);
  await runWrk({ ...load, durationSec: warmup }, track);
  callgrindControl(['-i', 'on'], pid);
  ctx.log(`${subject.label}: counting ${seconds} s`);
  const run = await runWrk({ ...load, durationSec: seconds }, track);
  callgrindControl(['-i', 'off'], pid);
  callgrindControl(['-d'], pid);
  const instructions = await waitForDump(ctx.dir, subject.key, pid);
  await ctx.procs.stop(pid, 10_000);
  if (run.requests === 0 || instructions === 0) {
    throw new Error(`${subject.label}: nothing counted (requests ${run.requests})`);
  }
  return {
    key: subject.key,
    label: subject.label,
    requests: run.requests,
    instructions,
    perRequest: Math.round(instructions / run.requests),
  };
}

function render(results: InstructionResult[]): string {
  const by = new Map(results.map((r) => [r.key, r]));
  const lines = [
    'INSTRUCTIONS PER REQUEST — user space of the proxy process, valgrind --tool=callgrind, wrk -t1 -c8',
    '  subject                         requests  instructions/request  vs nginx',
    '  ------------------------------  --------  --------------------  --------',
  ];
  const nginx = by.get('nginx');
  for (const r of results) {
    const vsNginx = nginx === undefined ? '–' : (r.perRequest / nginx.perRequest).toFixed(2);
    const perRequest = r.perRequest.toLocaleString('en-US');
    lines.push(
      `  ${r.label.padEnd(30)}  ${String(r.requests).padStart(8)}  ${perRequest.padStart(20)}  ${vsNginx.padStart(8)}`,
    );
  }
  return lines.join('\n');
}

async function main(): Promise<number> {
  let values;
  try {
    ({ values } = parseArgs({
      options: {
        seconds: { type: 'string', default: '10' },
        warmup: { type: 'string', default: '10' },
        json: { type: 'boolean', default: false },
        'bare-peers': { type: 'boolean', default: false },
        keep: { type: 'boolean', default: false },
        tls: { type: 'boolean', default: false },
        close: { type: 'boolean', default: false },
        only: { type: 'string' },
      },
    }));
  } catch (err) {
    process.stderr.write(`${(err as Error).message}\n`);
    return 2;
  }
  const seconds = Number(values.seconds);
  const warmup = Number(values.warmup);
  if (!(seconds > 0) || !(warmup >= 0)) {
    process.stderr.write('--seconds must be > 0 and --warmup ≥ 0\n');
    return 2;
  }
  const log = (line: string): void => void process.stderr.write(`[instructions] ${line}\n`);
  ensureTools(log, ['wrk', 'nginx', 'valgrind']);
  if (!hasCommand('callgrind_control')) throw new Error('callgrind_control not found (valgrind)');
  const dir = mkdtempSync(join(os.tmpdir(), 'hotswap-instructions-'));
  const procs = new ProcessTable();
  const stop = async (): Promise<void> => {
    await procs.stopAll();
    if (values.keep) log(`kept ${dir}`);
    else rmSync(dir, { recursive: true, force: true });
  };
  process.once('SIGINT', () => void stop().then(() => process.exit(130)));
  try {
    const appPort = await freePort();
    const app = fileURLToPath(new URL('../../test/fixtures/app/server.js', import.meta.url));
    // The app reads its port from the environment it inherits.
    process.env.PORT = String(appPort);
    process.env.HOST = '127.0.0.1';
    const appChild = procs.spawnLogged('app', process.execPath, [app], join(dir, 'app.log'));
    delete process.env.PORT;
    delete process.env.HOST;
    const upstream = `127.0.0.1:${appPort}`;
    await waitHttp200('app', appPort, 10_000, () => appChild.exitCode === null);
    const ctx: Context = {
      dir,
      upstream,
      forwardHeaders: !values['bare-peers'],
      tls: values.tls ? makeCertificate(dir, 'bench', ['bench.test']) : undefined,
      close: values.close,
      procs,
      log,
    };
    const results: InstructionResult[] = [];
    for (const subject of SUBJECTS) {
      if (values.only !== undefined && values.only !== subject.key) continue;
      results.push(await measure(ctx, subject, seconds, warmup));
    }
    if (values.json)
      process.stdout.write(`${JSON.stringify({ bench: 'instructions', results })}\n`);
    else process.stdout.write(`${render(results)}\n`);
    return 0;
  } finally {
    await stop();
  }
}

main().then(
  (code) => process.exit(code),
  (err: unknown) => {
    process.stderr.write(`instructions: ${err instanceof Error ? err.message : String(err)}\n`);
    process.exit(1);
  },
);
