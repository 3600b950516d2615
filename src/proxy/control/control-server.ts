// The proxy's control API: JSON over HTTP on a unix socket that only the owner can open (0600).
// The controller drives the data plane through it (see control-client.ts); errors travel as
// {code, message} with the HTTP status of the failure, so the client can rebuild a HotswapError.
import { chmodSync, mkdirSync, renameSync, rmSync } from 'node:fs';
import http from 'node:http';
import net from 'node:net';
import { dirname, join } from 'node:path';
import { HotswapError, toHotswapError } from '../../errors.js';
import type { Registry } from '../core/registry.js';
import type { Challenges } from '../tls/redirect.js';
import { renderProxyMetrics } from './metrics.js';
import { runProbe } from './probe-route.js';
import { timingSafeEqual } from 'node:crypto';
import { TEXT_CONTENT_TYPE } from './text-format.js';
import {
  backendInput,
  drainInput,
  rejected,
  requireObject,
  serviceConfigInput,
  serviceName,
  weightsInput,
  windowInput,
} from '../core/validate.js';

const MAX_BODY_BYTES = 1 << 20;

export interface ControlServerOptions {
  socketPath: string;
  registry: Registry;
  /** ACME HTTP-01 answers served by redirect listeners (set by the daemon while it orders). */
  challenges: Challenges;
  /** Called after a POST /shutdown has been answered. */
  onShutdown: () => void;
  /** POST /upgrade: hands the listeners to a successor process; resolves once it serves. */
  onUpgrade?: () => Promise<{ oldPid: number; newPid: number }>;
}

interface Call {
  res: http.ServerResponse;
  url: URL;
  /** Decoded path parameters, in pattern order. */
  params: string[];
  body: unknown;
}

interface RouteEntry {
  method: string;
  pattern: RegExp;
  run: (call: Call) => Promise<unknown>;
}

function routes(opts: ControlServerOptions): RouteEntry[] {
  const { registry } = opts;
  const started = Date.now();
  const svc = (call: Call): string => serviceName(call.params[0]);
  return [
    {
      method: 'GET',
      pattern: /^\/health$/,
      run: () => Promise.resolve({ ok: true, pid: process.pid, uptimeMs: Date.now() - started }),
    },
    { method: 'GET', pattern: /^\/routes$/, run: () => Promise.resolve(registry.table()) },
    {
      method: 'GET',
      pattern: /^\/metrics$/,
      run: () => Promise.resolve(new TextBody(renderProxyMetrics(registry), TEXT_CONTENT_TYPE)),
    },
    {
      method: 'PUT',
      pattern: /^\/services\/([^/]+)$/,
      run: async (c) => {
        const name = svc(c);
        await registry.ensureService(name, serviceConfigInput(c.body));
        return { ok: true };
      },
    },
    {
      method: 'DELETE',
      pattern: /^\/services\/([^/]+)$/,
      run: async (c) => {
        await registry.removeService(svc(c));
        return { ok: true };
      },
    },
    {
      method: 'POST',
      pattern: /^\/services\/([^/]+)\/backends$/,
      run: async (c) => {
        await registry.addBackend(svc(c), backendInput(c.body));
        return { ok: true };
      },
    },
    {
      method: 'POST',
      pattern: /^\/services\/([^/]+)\/backends\/([^/]+)\/drain$/,
      run: (c) => {
        const { timeoutMs, ...options } = drainInput(c.body);
        return registry.drain(svc(c), c.params[1]!, timeoutMs, options);
      },
    },
    {
      method: 'PUT',
      pattern: /^\/services\/([^/]+)\/weights$/,
      run: async (c) => {
        await registry.setWeights(svc(c), weightsInput(requireObject(c.body, 'body').weights));
        return { ok: true };
      },
    },
    {
      method: 'GET',
      pattern: /^\/services\/([^/]+)\/weights$/,
      run: (c) => Promise.resolve({ weights: registry.getWeights(svc(c)) }),
    },
    {
      method: 'GET',
      pattern: /^\/services\/([^/]+)\/stats$/,
      run: (c) =>
        Promise.resolve(registry.stats(svc(c), windowInput(c.url.searchParams.get('windowMs')))),
    },
    {
      method: 'PUT',
      pattern: /^\/acme\/challenges\/([A-Za-z0-9_-]{1,256})$/,
      run: (c) => {
        const answer = requireObject(c.body, 'body').keyAuthorization;
        if (typeof answer !== 'string' || !/^[A-Za-z0-9_.-]{1,1024}$/.test(answer)) {
          throw rejected(
            'keyAuthorization',
            'must be an ACME key authorization (token.thumbprint)',
          );
        }
        opts.challenges.set(c.params[0]!, answer);
        return Promise.resolve({ ok: true });
      },
    },
    {
      method: 'DELETE',
      pattern: /^\/acme\/challenges\/([A-Za-z0-9_-]{1,256})$/,
      run: (c) => {
        opts.challenges.delete(c.params[0]!);
        return Promise.resolve({ ok: true });
      },
    },
    { method: 'POST', pattern: /^\/probe$/, run: (c) => runProbe(c.body) },
    {
      method: 'POST',
      pattern: /^\/upgrade$/,
      run: () => {
        if (opts.onUpgrade === undefined) {
          throw new HotswapError('CONFLICT', 'this proxy cannot upgrade itself');
        }
        return opts.onUpgrade();
      },
    },
    {
      method: 'POST',
      pattern: /^\/shutdown$/,
      run: (c) => {
        // Answer first, then close: the caller should see the acknowledgement.
        c.res.once('finish', () => setImmediate(opts.onShutdown));
        return Promise.resolve({ ok: true });
      },
    },
  ];
}

export class ControlServer {
  private readonly server: http.Server;
  private readonly table: RouteEntry[];
  /** Where the socket is bound before it is renamed onto socketPath. */
  private readonly tempPath: string;
  /** While set, calls other than /health and /upgrade wait (a successor is taking over). */
  private gate: Promise<void> | null = null;
  /** Set once a successor owns socketPath: calls that still reach this process are relayed. */
  private relaying = false;
  /** The token-guarded TCP listener, when there is one. */
  private tcp: http.Server | null = null;

  constructor(private readonly opts: ControlServerOptions) {
    this.table = routes(opts);
    this.tempPath = join(dirname(opts.socketPath), `.ctl-${process.pid}.sock`);
    this.server = http.createServer((req, res) => void this.serve(req, res));
    // A drain may legitimately keep a request open for a long time.
    this.server.requestTimeout = 0;
  }

  /**
   * Binds the socket (0600). A socket file left by a proxy that died is removed first; one that
   * a running proxy still answers on is not taken over. The socket is bound under a temporary
   * name and renamed into place, so the path never shows a socket that is not ready.
   */
  async listen(): Promise<void> {
    await claimSocketPath(this.opts.socketPath);
    await this.bindTemp();
    this.publish();
  }

  /**
   * A second listener on TCP (a proxy task on a Swarm node, issue 17): every call must carry
   * `Authorization: Bearer <token>`; without it, 401 and nothing else.
   */
  async listenTcp(host: string, port: number, token: string): Promise<void> {
    if (token.length < 16) throw new HotswapError('USAGE', 'control token: at least 16 characters');
    const expected = Buffer.from(`Bearer ${token}`);
    const server = http.createServer((req, res) => {
      const given = Buffer.from(req.headers.authorization ?? '');
      if (given.length !== expected.length || !timingSafeEqual(given, expected)) {
        send(
          res,
          401,
          new HotswapError('UNAUTHENTICATED', 'control: bad or missing token').toJSON(),
        );
        return;
      }
      void this.serve(req, res);
    });
    server.requestTimeout = 0;
    this.tcp = server;
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(port, host, () => {
        server.off('error', reject);
        resolve();
      });
    });
  }

  /** A successor binds aside and publishes when its predecessor hands over (publish()). */
  async bindTemp(): Promise<void> {
    const temp = this.tempPath;
    mkdirSync(dirname(temp), { recursive: true, mode: 0o700 });
    rmSync(temp, { force: true });
    return new Promise((resolve, reject) => {
      this.server.once('error', reject);
      this.server.listen(temp, () => {
        this.server.off('error', reject);
        chmodSync(temp, 0o600);
        resolve();
      });
    });
  }

  /** Atomically points socketPath at this server (replacing a predecessor's socket). */
  publish(): void {
    renameSync(this.tempPath, this.opts.socketPath);
  }

  /** Holds every call but /health and /upgrade until the returned function says how to go on. */
  hold(): (handedOver: boolean) => void {
    let open: () => void = () => undefined;
    this.gate = new Promise<void>((resolve) => (open = resolve));
    return (handedOver) => {
      this.relaying = handedOver;
      this.gate = null;
      open();
    };
  }

  /**
   * Stops accepting; open requests (a drain, a shutdown answer) are cut after graceMs. A proxy
   * that handed over leaves socketPath alone: it is the successor's now.
   */
  close(graceMs = 1000): Promise<void> {
    this.tcp?.close();
    this.tcp?.closeAllConnections();
    return new Promise((resolve) => {
      const force = setTimeout(() => this.server.closeAllConnections(), graceMs);
      this.server.close(() => {
        clearTimeout(force);
        if (!this.relaying) rmSync(this.opts.socketPath, { force: true });
        resolve();
      });
    });
  }

  private async serve(req: http.IncomingMessage, res: http.ServerResponse): Promise<void> {
    try {
      const url = new URL(req.url ?? '/', 'http://proxy');
      const path = url.pathname;
      if (path !== '/health' && path !== '/upgrade') {
        if (this.gate !== null) await this.gate;
        if (this.relaying) {
          relay(this.opts.socketPath, req, res);
          return;
        }
      }
      const { entry, params } = this.match(req.method ?? 'GET', path);
      const body = await readJson(req);
      const out = await entry.run({ res, url, params, body });
      if (out instanceof TextBody) sendText(res, out);
      else send(res, 200, out);
    } catch (err) {
      const e = toHotswapError(err);
      send(res, statusOf(e, err), e.toJSON());
    }
  }

  private match(method: string, path: string): { entry: RouteEntry; params: string[] } {
    let pathMatched = false;
    for (const entry of this.table) {
      const m = entry.pattern.exec(path);
      if (m === null) continue;
      pathMatched = true;
      if (entry.method !== method) continue;
      return { entry, params: m.slice(1).map(decode) };
    }
    if (pathMatched) throw new MethodNotAllowed(`${method} is not allowed on ${path}`);
    throw new HotswapError('NOT_FOUND', `no control endpoint ${method} ${path}`);
  }
}

/** Passes a call on to the process that now owns the control socket, unchanged. */
function relay(socketPath: string, req: http.IncomingMessage, res: http.ServerResponse): void {
  const up = http.request({
    socketPath,
    method: req.method,
    path: req.url,
    headers: req.headers,
    agent: false,
  });
  up.on('response', (upRes) => {
    res.writeHead(upRes.statusCode ?? 502, upRes.headers);
    upRes.pipe(res);
  });
  up.on('error', (err) => {
    if (res.headersSent) res.destroy();
    else {
      send(
        res,
        503,
        new HotswapError('PROXY_UNAVAILABLE', `successor proxy: ${err.message}`).toJSON(),
      );
    }
  });
  req.pipe(up);
}

class MethodNotAllowed extends HotswapError {
  constructor(message: string) {
    super('PROXY_REJECTED', message);
  }
}

/**
 * Makes `path` free for a new control socket: fails when a running proxy answers there (two
 * proxies must never share a route table), removes a stale file left by one that died.
 */
export async function claimSocketPath(path: string): Promise<void> {
  mkdirSync(dirname(path), { recursive: true, mode: 0o700 });
  if (await answers(path)) {
    throw new HotswapError('CONFLICT', `controlSocket: a running proxy already listens on ${path}`);
  }
  rmSync(path, { force: true });
}

/** True when something accepts connections on the unix socket at `path`. */
function answers(path: string): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = net.connect(path);
    socket.once('connect', () => {
      socket.destroy();
      resolve(true);
    });
    socket.once('error', () => resolve(false));
  });
}

function decode(part: string): string {
  try {
    return decodeURIComponent(part);
  } catch {
    throw rejected('path', `bad percent-encoding in "${part}"`);
  }
}

/** 400 for bad input, 405 for a wrong method; otherwise the catalog's status. */
function statusOf(e: HotswapError, original: unknown): number {
  if (original instanceof MethodNotAllowed) return 405;
  if (e.code === 'PROXY_REJECTED') return 400;
  return e.status;
}

async function readJson(req: http.IncomingMessage): Promise<unknown> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req as AsyncIterable<Buffer>) {
    size += chunk.length;
    if (size > MAX_BODY_BYTES) throw rejected('body', `larger than ${MAX_BODY_BYTES} bytes`);
    chunks.push(chunk);
  }
  if (size === 0) return undefined;
  try {
    return JSON.parse(Buffer.concat(chunks).toString('utf8')) as unknown;
  } catch {
    throw rejected('body', 'is not valid JSON');
  }
}

/** An answer that is not JSON (the Prometheus text of GET /metrics). */
class TextBody {
  constructor(
    readonly text: string,
    readonly contentType: string,
  ) {}
}

function sendText(res: http.ServerResponse, body: TextBody): void {
  res.writeHead(200, {
    'content-type': body.contentType,
    'content-length': Buffer.byteLength(body.text),
  });
  res.end(body.text);
}

function send(res: http.ServerResponse, status: number, value: unknown): void {
  const body = JSON.stringify(value);
  res.writeHead(status, {
    'content-type': 'application/json',
    'content-length': Buffer.byteLength(body),
  });
  res.end(body);
}
