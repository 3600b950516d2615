// Helpers for the proxy's tests: small upstream apps on 127.0.0.1, a proxy in a temp folder,
// and a plain HTTP client. Not part of the public API.
import { createHash } from 'node:crypto';
import { mkdtempSync } from 'node:fs';
import http from 'node:http';
import net from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ProxyClient } from './control-client.js';
import { runProxy, type ProxyOptions, type RunningProxy } from './main.js';

export interface Upstream {
  name: string;
  port: number;
  address: string;
  server: http.Server;
  /** Requests seen so far. */
  hits: number;
  close(): Promise<void>;
}

export interface EchoReply {
  name: string;
  method: string;
  url: string;
  headers: http.IncomingHttpHeaders;
  bytes: number;
  sha256: string;
}

/** Answers with an EchoReply: who served, what arrived, and a checksum of the body. */
export function echo(name: string): http.RequestListener {
  return (req, res) => {
    const hash = createHash('sha256');
    let bytes = 0;
    req.on('data', (chunk: Buffer) => {
      bytes += chunk.length;
      hash.update(chunk);
    });
    req.on('end', () => {
      const reply: EchoReply = {
        name,
        method: req.method ?? '',
        url: req.url ?? '',
        headers: req.headers,
        bytes,
        sha256: hash.digest('hex'),
      };
      const body = JSON.stringify(reply);
      res.writeHead(200, {
        'content-type': 'application/json',
        'content-length': Buffer.byteLength(body),
      });
      res.end(body);
    });
  };
}

export async function startUpstream(
  name: string,
  handler?: http.RequestListener,
): Promise<Upstream> {
  const listener = handler ?? echo(name);
  const up: Upstream = {
    name,
    port: 0,
    address: '',
    server: http.createServer((req, res) => {
      up.hits++;
      listener(req, res);
    }),
    hits: 0,
    close: () =>
      new Promise<void>((resolve) => {
        up.server.close(() => resolve());
        up.server.closeAllConnections();
      }),
  };
  await new Promise<void>((resolve) => up.server.listen(0, '127.0.0.1', resolve));
  up.port = (up.server.address() as net.AddressInfo).port;
  up.address = `127.0.0.1:${up.port}`;
  return up;
}

/** A port nothing listens on (bound, then released). */
export async function freePort(): Promise<number> {
  const server = net.createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as net.AddressInfo).port;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

export function tempDir(): string {
  return mkdtempSync(join(tmpdir(), 'hsp-'));
}

export interface TestProxy {
  proxy: RunningProxy;
  client: ProxyClient;
  dir: string;
  socketPath: string;
  stateFile: string;
  logs: string[];
}

export async function startProxy(
  dir = tempDir(),
  extra: Partial<ProxyOptions> = {},
): Promise<TestProxy> {
  const socketPath = join(dir, 'proxy.sock');
  const stateFile = join(dir, 'routes.json');
  const logs: string[] = [];
  const proxy = await runProxy({
    controlSocket: socketPath,
    stateFile,
    log: (line) => logs.push(line),
    handleSignals: false,
    closeGraceMs: 2000,
    ...extra,
  });
  return { proxy, client: new ProxyClient({ socketPath }), dir, socketPath, stateFile, logs };
}

export interface Reply {
  status: number;
  headers: http.IncomingHttpHeaders;
  body: Buffer;
}

export interface RequestOptions {
  method?: string;
  path?: string;
  headers?: http.OutgoingHttpHeaders;
  body?: Buffer | string;
  agent?: http.Agent | false;
}

export function request(port: number, opts: RequestOptions = {}): Promise<Reply> {
  return new Promise((resolve, reject) => {
    const req = http.request(
      {
        host: '127.0.0.1',
        port,
        method: opts.method ?? 'GET',
        path: opts.path ?? '/',
        headers: opts.headers,
        agent: opts.agent ?? false,
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () =>
          resolve({
            status: res.statusCode ?? 0,
            headers: res.headers,
            body: Buffer.concat(chunks),
          }),
        );
        res.on('error', reject);
      },
    );
    req.on('error', reject);
    req.end(opts.body);
  });
}

export function json<T>(reply: Reply): T {
  return JSON.parse(reply.body.toString('utf8')) as T;
}

export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
