// The proxies under test, each started as the benchmark's own process on a loopback port, in its
// own folder under the run's temp dir (config, pid file, logs): nginx, HAProxy and hotswap's
// proxy. Also the one-time install of wrk, nginx and haproxy from Debian's packages.
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, unlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { repoRoot } from '../scripts/fixture-images.js';
import { isHotswapError } from '../src/errors.js';
import { PROXY_NODE_FLAGS, ProxyClient } from '../src/proxy/index.js';
import type { ProcessTable } from './procs.js';
import { childPids, freePort, hasCommand, sleep, waitHttp200 } from './procs.js';

/** A proxy (or the app itself) that the load can be aimed at. */
export interface Endpoint {
  port: number;
  /** The processes doing the proxying, for RSS (nginx: its workers; hotswap: the proxy). */
  rssPids(): number[];
  /** Main pid, when the benchmark started one. */
  pid?: number;
  stop(): Promise<void>;
}

export interface StartContext {
  dir: string;
  upstream: string;
  /** nginx and HAProxy add what hotswap's proxy adds to each request (NGINX_FORWARD_HEADERS says why). */
  forwardHeaders: boolean;
  procs: ProcessTable;
  log: (line: string) => void;
}

// ------------------------------------------------------------------ tools

const TOOLS: readonly string[] = ['wrk', 'nginx', 'haproxy'];

/**
 * Installs the missing tools with apt-get (root on Debian only); says what it installs. Each
 * tool's Debian package has its name.
 */
export function ensureTools(log: (line: string) => void, tools = TOOLS): void {
  const missing = tools.filter((t) => !hasCommand(t));
  if (missing.length === 0) return;
  const isRoot = process.getuid?.() === 0;
  if (!isRoot || !hasCommand('apt-get')) {
    throw new Error(
      `missing ${missing.join(', ')}: install them (Debian: apt-get install -y ${missing.join(' ')})`,
    );
  }
  log(`installing ${missing.join(', ')} with apt-get (Debian packages: ${missing.join(' ')})`);
  // Keep the packages' postinst from starting nginx/haproxy as system services: the benchmark
  // runs its own instances. A policy-rc.d that exits 101 is Debian's way to say so; it is only
  // added when the machine has none, and removed right after.
  const policy = '/usr/sbin/policy-rc.d';
  const addedPolicy = !existsSync(policy);
  if (addedPolicy) writeFileSync(policy, '#!/bin/sh\nexit 101\n', { mode: 0o755 });
  try {
    const env = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' };
    for (const args of [
      ['update', '-qq'],
      ['install', '-y', '-qq', ...missing],
    ]) {
      log(`$ apt-get ${args.join(' ')}`);
      const res = spawnSync('apt-get', args, { stdio: ['ignore', 'ignore', 'inherit'], env });
      if (res.status !== 0)
        throw new Error(`apt-get ${args.join(' ')} failed (exit ${res.status})`);
    }
  } finally {
    if (addedPolicy) unlinkSync(policy);
  }
  const still = tools.filter((t) => !hasCommand(t));
  if (still.length > 0) throw new Error(`still missing after apt-get: ${still.join(', ')}`);
}

// ------------------------------------------------------------------ nginx

/**
 * Why the peers add headers: hotswap's proxy sends every request upstream with X-Forwarded-For,
 * -Proto, -Host and an X-Request-Id (the issue asks for them), so the app behind it parses four
 * more header lines per request than behind a bare `proxy_pass`. On these 2-core machines the
 * app shares the cores with the proxy, so that work shows up in the proxy's throughput and tail.
 * With forwardHeaders the peers do the same job: the comparison is proxy against proxy.
 */
const NGINX_FORWARD_HEADERS = `
      proxy_set_header Host $http_host;
      proxy_set_header X-Forwarded-For $proxy_add_x_forwarded_for;
      proxy_set_header X-Forwarded-Proto $scheme;
      proxy_set_header X-Forwarded-Host $http_host;
      proxy_set_header X-Request-Id $request_id;`;

const HAPROXY_FORWARD_HEADERS = `  option forwardfor
  http-request set-header X-Forwarded-Proto http
  http-request set-header X-Forwarded-Host %[req.hdr(host)]
  unique-id-format %{+X}o%ci%cp%fi%fp%Ts%rt%pid
  http-request set-header X-Request-Id %[unique-id]
`;

/**
 * nginx's config for the benchmarks: `workers` worker processes, or 0 for one process without a
 * master (what bench/instructions.ts runs under valgrind). `dir` holds pid, logs and temp files.
 */
export function nginxConfig(
  dir: string,
  upstream: string,
  port: number,
  workers: number,
  forwardHeaders: boolean,
  tls?: { cert: string; key: string },
): string {
  mkdirSync(join(dir, 'tmp'), { recursive: true });
  return `# written by the hotswap benchmark
daemon off;
master_process ${workers === 0 ? 'off' : 'on'};
worker_processes ${Math.max(1, workers)};
pid ${dir}/nginx.pid;
error_log ${dir}/error.log warn;
events {
  worker_connections 4096;
}
http {
  access_log off;
  client_body_temp_path ${dir}/tmp/body;
  proxy_temp_path ${dir}/tmp/proxy;
  fastcgi_temp_path ${dir}/tmp/fastcgi;
  uwsgi_temp_path ${dir}/tmp/uwsgi;
  scgi_temp_path ${dir}/tmp/scgi;
  # Clients keep their connections as long as wrk runs (nginx closes after 1000 by default;
  # node's server, hence hotswap's proxy, never does).
  keepalive_requests 1000000;
  keepalive_timeout 75s;
  upstream app {
    server ${upstream};
    keepalive 64;
    keepalive_requests 1000000;
  }
  server {
    listen 127.0.0.1:${port} backlog=4096${tls === undefined ? '' : ' ssl'};${tls === undefined ? '' : NGINX_TLS(tls)}
    location / {
      proxy_pass http://app;
      proxy_http_version 1.1;
      proxy_set_header Connection "";${forwardHeaders ? NGINX_FORWARD_HEADERS : ''}
    }
  }
}
`;
}

/**
 * nginx's TLS as Node's defaults have it (TLS 1.2 and 1.3, the same certificate; session
 * resumption left on in both), so the handshake costs the same work on each side.
 */
const NGINX_TLS = (tls: { cert: string; key: string }): string => `
    ssl_certificate ${tls.cert};
    ssl_certificate_key ${tls.key};
    ssl_protocols TLSv1.2 TLSv1.3;`;

export async function startNginx(
  ctx: StartContext,
  name: string,
  workers: number,
  tls?: { cert: string; key: string },
) {
  const dir = join(ctx.dir, name);
  const port = await freePort();
  const conf = join(dir, 'nginx.conf');
  writeFileSync(conf, nginxConfig(dir, ctx.upstream, port, workers, ctx.forwardHeaders, tls));
  const log = join(dir, 'stderr.log');
  const child = ctx.procs.spawnLogged(
    name,
    'nginx',
    ['-p', `${dir}/`, '-c', conf, '-e', `${dir}/error.log`],
    log,
  );
  const pid = child.pid!;
  await waitHttp200(name, port, 15_000, () => child.exitCode === null, tls !== undefined);
  return {
    port,
    pid,
    rssPids: () => childPids(pid),
    stop: () => ctx.procs.stop(pid),
  } satisfies Endpoint;
}

// ------------------------------------------------------------------ HAProxy

export async function startHaproxy(ctx: StartContext, name: string, threads: number) {
  const dir = join(ctx.dir, name);
  mkdirSync(dir, { recursive: true });
  const port = await freePort();
  const conf = join(dir, 'haproxy.cfg');
  writeFileSync(
    conf,
    `# ${name}: written by bench/proxy.ts
global
  nbthread ${threads}
  pidfile ${dir}/haproxy.pid
  maxconn 4096
defaults
  mode http
  timeout connect 5s
  timeout client 30s
  timeout server 30s
  timeout http-keep-alive 75s
  option http-keep-alive
  http-reuse always
frontend fe
  bind 127.0.0.1:${port}
${ctx.forwardHeaders ? HAPROXY_FORWARD_HEADERS : ''}  default_backend app
backend app
  server app1 ${ctx.upstream}
`,
  );
  const check = spawnSync('haproxy', ['-c', '-q', '-f', conf], { encoding: 'utf8' });
  if (check.status !== 0)
    throw new Error(`${name}: haproxy -c failed:\n${check.stdout}${check.stderr}`);
  const child = ctx.procs.spawnLogged(
    name,
    'haproxy',
    ['-db', '-f', conf],
    join(dir, 'haproxy.log'),
  );
  const pid = child.pid!;
  await waitHttp200(name, port, 15_000, () => child.exitCode === null);
  return { port, pid, rssPids: () => [pid], stop: () => ctx.procs.stop(pid) } satisfies Endpoint;
}

// ------------------------------------------------------------------ hotswap's proxy

export interface HotswapEndpoint extends Endpoint {
  pid: number;
  client: ProxyClient;
}

export interface HotswapStartOptions {
  /** Write a CPU profile (node --cpu-prof) into this folder when the proxy exits. */
  cpuProfDir?: string;
  /** Serve TLS with these PEM files. */
  tls?: { cert: string; key: string };
  /** More node flags for the proxy process (e.g. --perf-basic-prof for `perf record`). */
  nodeFlags?: string[];
  /** Another build's run-proxy.js (an A/B comparison of two builds in one run). */
  script?: string;
}

type ServiceArg = Parameters<ProxyClient['ensureService']>[1];
const serviceArg = (value: unknown): ServiceArg => value as ServiceArg;

/**
 * The one place that declares a service to the proxy. ensureService's second argument is moving
 * from the `listen` string to a config object ({ listen, ... }): this sends the object and, if
 * the proxy (an older build) rejects it, the plain string. Once the object form has landed,
 * this can be `client.ensureService(service, { listen })`.
 */
async function declareService(client: ProxyClient, service: string, listen: string): Promise<void> {
  try {
    await client.ensureService(service, serviceArg({ listen }));
  } catch (err) {
    if (!isHotswapError(err) || err.code !== 'PROXY_REJECTED') throw err;
    await client.ensureService(service, serviceArg(listen));
  }
}

export async function startHotswap(
  ctx: StartContext,
  name: string,
  backend: { id: string; address: string },
  opts: HotswapStartOptions = {},
): Promise<HotswapEndpoint> {
  const dir = join(ctx.dir, name);
  mkdirSync(dir, { recursive: true });
  const port = await freePort();
  const socketPath = join(dir, 'control.sock');
  const script = opts.script ?? fileURLToPath(new URL('./run-proxy.js', import.meta.url));
  const nodeArgs = [...PROXY_NODE_FLAGS, ...(opts.nodeFlags ?? [])];
  if (opts.cpuProfDir !== undefined)
    nodeArgs.push('--cpu-prof', `--cpu-prof-dir=${opts.cpuProfDir}`);
  const child = ctx.procs.spawnLogged(
    name,
    process.execPath,
    [...nodeArgs, script, socketPath, join(dir, 'routes.json')],
    join(dir, 'proxy.log'),
  );
  const pid = child.pid!;
  const client = new ProxyClient({ socketPath, timeoutMs: 5_000 });
  const deadline = Date.now() + 15_000;
  for (;;) {
    if (child.exitCode !== null) throw new Error(`${name} exited (see ${dir}/proxy.log)`);
    try {
      await client.health();
      break;
    } catch (err) {
      if (Date.now() > deadline) throw err;
      await sleep(100);
    }
  }
  const service = 'bench';
  if (opts.tls === undefined) await declareService(client, service, `127.0.0.1:${port}`);
  else await client.ensureService(service, { listen: `127.0.0.1:${port}`, tls: opts.tls });
  await client.addBackend(service, { id: backend.id, revision: 1, address: backend.address });
  await client.setWeights(service, { '1': 1 });
  await waitHttp200(name, port, 15_000, () => child.exitCode === null, opts.tls !== undefined);
  const exited = new Promise<void>((resolve) => {
    if (child.exitCode !== null) resolve();
    else child.once('exit', () => resolve());
  });
  return {
    port,
    pid,
    client,
    rssPids: () => [pid],
    // A graceful close through the control socket lets --cpu-prof write its file.
    stop: async () => {
      await client.shutdown().catch(() => undefined);
      await Promise.race([exited, sleep(5_000)]);
      await ctx.procs.stop(pid);
    },
  };
}

/** The fixture app as a node process on a free loopback port (--upstream loopback). */
export async function startLoopbackApp(
  procs: ProcessTable,
  dir: string,
  log: (line: string) => void,
): Promise<{ id: string; address: string; pid: number }> {
  const port = await freePort();
  const script = join(repoRoot(), 'test', 'fixtures', 'app', 'server.js');
  // The app takes its address from the environment it inherits.
  process.env.PORT = String(port);
  process.env.HOST = '127.0.0.1';
  process.env.VERSION = 'v1';
  const child = procs.spawnLogged('app', process.execPath, [script], join(dir, 'app.log'));
  for (const name of ['PORT', 'HOST', 'VERSION']) delete process.env[name];
  log(`app: node ${script} on 127.0.0.1:${port} (pid ${child.pid})`);
  return { id: `loopback-${child.pid}`, address: `127.0.0.1:${port}`, pid: child.pid! };
}
