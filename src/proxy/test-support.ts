// Helpers for the proxy's tests: small upstream apps on 127.0.0.1, a proxy in a temp folder,
// and a plain HTTP client. Not part of the public API.
import { after } from 'node:test';
import { spawn } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { mkdtempSync } from 'node:fs';
import http from 'node:http';
import net from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ProxyClient } from './control/control-client.js';
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

/**
 * A listener on loopback that never accepts, like a host cut off: a child process listens with
 * a backlog of 1 and blocks. Connections complete into its accept queue and their requests get no
 * answer; once `fill()` has filled the queue, a SYN gets no answer either (a connect times out).
 */
export async function startBlackhole(): Promise<{
  address: string;
  fill(): Promise<void>;
  close(): Promise<void>;
}> {
  const child = spawn(
    process.execPath,
    [
      '-e',
      `const s = require('net').createServer().listen({ port: 0, host: '127.0.0.1', backlog: 1 }, () => {
         process.stdout.write(s.address().port + '\\n');
         setTimeout(() => Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0), 100);
       });`,
    ],
    { stdio: ['ignore', 'pipe', 'inherit'] },
  );
  const port = await new Promise<number>((resolve, reject) => {
    child.stdout.once('data', (d: Buffer) => resolve(Number(d.toString().trim())));
    child.once('exit', () => reject(new Error('blackhole listener exited')));
  });
  await sleep(200); // its event loop is blocked from here on
  const held: net.Socket[] = [];
  return {
    address: `127.0.0.1:${port}`,
    fill: async () => {
      for (let i = 0; i < 3; i++) {
        const s = net.connect(port, '127.0.0.1');
        s.on('error', () => undefined);
        held.push(s);
      }
      await sleep(100);
    },
    close: async () => {
      for (const s of held) s.destroy();
      child.kill('SIGKILL');
      await new Promise((r) => child.once('exit', r));
    },
  };
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
    upgradable: false,
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

/** Polls `done` every 10 ms until it holds; throws after `timeoutMs`. */
export async function waitUntil(done: () => boolean, timeoutMs = 5000): Promise<void> {
  const until = Date.now() + timeoutMs;
  while (!done()) {
    if (Date.now() > until) throw new Error(`condition not met within ${timeoutMs} ms`);
    await sleep(10);
  }
}

export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

// ---- WebSocket, by hand (the ws package is not a dependency) ----

const WS_GUID = '258EAFA5-E914-47DA-95CA-C5AB0DC85B11';

export interface WsFrame {
  fin: boolean;
  opcode: number;
  payload: Buffer;
}

/** One end of a WebSocket connection: frames out (masked when it is the client), frames in. */
export class WsPeer {
  readonly frames: WsFrame[] = [];
  closed = false;
  private buffer = Buffer.alloc(0);
  private waiters: (() => void)[] = [];

  constructor(
    readonly socket: net.Socket,
    private readonly masked: boolean,
    head?: Buffer,
  ) {
    socket.on('data', (chunk: Buffer) => this.onData(chunk));
    // Upgraded server sockets allow half-open connections: answer a FIN with one.
    socket.on('end', () => socket.end());
    socket.on('close', () => {
      this.closed = true;
      this.wake();
    });
    socket.on('error', () => undefined);
    if (head !== undefined && head.length > 0) this.onData(head);
  }

  send(data: string | Buffer, opcode = 1): void {
    this.socket.write(
      encodeFrame(typeof data === 'string' ? Buffer.from(data) : data, opcode, this.masked),
    );
  }

  close(code = 1000, reason = ''): void {
    const payload = Buffer.alloc(2 + Buffer.byteLength(reason));
    payload.writeUInt16BE(code, 0);
    payload.write(reason, 2);
    this.send(payload, 8);
  }

  /** The next frame (waits up to timeoutMs); undefined when the connection closed first. */
  async next(timeoutMs = 2000): Promise<WsFrame | undefined> {
    const deadline = Date.now() + timeoutMs;
    while (this.frames.length === 0) {
      if (this.closed) return undefined;
      const left = deadline - Date.now();
      if (left <= 0) throw new Error(`no WebSocket frame within ${timeoutMs} ms`);
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, left);
        this.waiters.push(() => {
          clearTimeout(timer);
          resolve();
        });
      });
    }
    return this.frames.shift();
  }

  async text(timeoutMs = 2000): Promise<string> {
    const frame = await this.next(timeoutMs);
    if (frame === undefined) throw new Error('WebSocket closed');
    return frame.payload.toString('utf8');
  }

  waitClosed(timeoutMs = 5000): Promise<void> {
    if (this.closed) return Promise.resolve();
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error('socket did not close')), timeoutMs);
      this.socket.once('close', () => {
        clearTimeout(timer);
        resolve();
      });
    });
  }

  private onData(chunk: Buffer): void {
    this.buffer = Buffer.concat([this.buffer, chunk]);
    for (;;) {
      const b = this.buffer;
      if (b.length < 2) return;
      let length = b[1]! & 0x7f;
      let offset = 2;
      if (length === 126) {
        if (b.length < 4) return;
        length = b.readUInt16BE(2);
        offset = 4;
      } else if (length === 127) {
        if (b.length < 10) return;
        length = Number(b.readBigUInt64BE(2));
        offset = 10;
      }
      const masked = (b[1]! & 0x80) !== 0;
      const maskAt = offset;
      if (masked) offset += 4;
      if (b.length < offset + length) return;
      const payload = Buffer.from(b.subarray(offset, offset + length));
      if (masked) for (let i = 0; i < payload.length; i++) payload[i]! ^= b[maskAt + (i % 4)]!;
      this.frames.push({ fin: (b[0]! & 0x80) !== 0, opcode: b[0]! & 0x0f, payload });
      this.buffer = b.subarray(offset + length);
      this.wake();
    }
  }

  private wake(): void {
    const waiters = this.waiters;
    this.waiters = [];
    for (const w of waiters) w();
  }
}

export function encodeFrame(payload: Buffer, opcode: number, masked: boolean, fin = true): Buffer {
  const len = payload.length;
  const ext = len < 126 ? 0 : len < 65536 ? 2 : 8;
  const head = Buffer.alloc(2 + ext + (masked ? 4 : 0));
  head[0] = (fin ? 0x80 : 0) | opcode;
  head[1] = (masked ? 0x80 : 0) | (ext === 0 ? len : ext === 2 ? 126 : 127);
  if (ext === 2) head.writeUInt16BE(len, 2);
  else if (ext === 8) head.writeBigUInt64BE(BigInt(len), 2);
  if (!masked) return Buffer.concat([head, payload]);
  const mask = randomBytes(4);
  mask.copy(head, 2 + ext);
  const body = Buffer.from(payload);
  for (let i = 0; i < body.length; i++) body[i]! ^= mask[i % 4]!;
  return Buffer.concat([head, body]);
}

/**
 * An upstream that answers HTTP requests like startUpstream and accepts WebSockets: it echoes
 * text frames as "<name>:<text>" and answers a close frame with one. `peers` holds its side.
 */
export async function startWsUpstream(
  name: string,
  onPeer?: (peer: WsPeer, req: http.IncomingMessage) => void,
): Promise<Upstream & { peers: WsPeer[] }> {
  const up = (await startUpstream(name)) as Upstream & { peers: WsPeer[] };
  up.peers = [];
  const closeHttp = (): Promise<void> =>
    new Promise<void>((resolve) => {
      up.server.close(() => resolve());
      up.server.closeAllConnections();
    });
  up.close = async () => {
    // Upgraded sockets are not the http server's any more: close them here.
    for (const peer of up.peers) peer.socket.destroy();
    await closeHttp();
  };
  up.server.on('upgrade', (req: http.IncomingMessage, socket: net.Socket, head: Buffer) => {
    const key = String(req.headers['sec-websocket-key'] ?? '');
    const accept = createHash('sha1')
      .update(key + WS_GUID)
      .digest('base64');
    socket.write(
      'HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n' +
        `Sec-WebSocket-Accept: ${accept}\r\nX-Served-By: ${name}\r\n\r\n`,
    );
    const peer = new WsPeer(socket, false, head);
    up.peers.push(peer);
    if (onPeer !== undefined) {
      onPeer(peer, req);
      return;
    }
    const pump = async (): Promise<void> => {
      for (;;) {
        const frame = await peer.next(60_000).catch(() => undefined);
        if (frame === undefined) return;
        if (frame.opcode === 1) peer.send(`${name}:${frame.payload.toString()}`);
        else if (frame.opcode === 8) {
          peer.send(frame.payload, 8);
          socket.end();
          return;
        }
      }
    };
    void pump();
  });
  return up;
}

export interface WsClient extends WsPeer {
  response: http.IncomingMessage;
}

/** Opens a WebSocket to 127.0.0.1:port; rejects when the answer is not 101. */
export function wsConnect(
  port: number,
  path = '/',
  headers: http.OutgoingHttpHeaders = {},
): Promise<WsPeer & { response: http.IncomingMessage }> {
  return new Promise((resolve, reject) => {
    const req = http.request({
      host: '127.0.0.1',
      port,
      path,
      agent: false,
      headers: {
        connection: 'Upgrade',
        upgrade: 'websocket',
        'sec-websocket-version': '13',
        'sec-websocket-key': randomBytes(16).toString('base64'),
        ...headers,
      },
    });
    req.on('upgrade', (res: http.IncomingMessage, socket: net.Socket, head: Buffer) => {
      const peer = new WsPeer(socket, true, head) as WsPeer & { response: http.IncomingMessage };
      peer.response = res;
      resolve(peer);
    });
    req.on('response', (res) => {
      res.resume();
      reject(new Error(`WebSocket refused: ${res.statusCode}`));
    });
    req.on('error', reject);
    req.end();
  });
}

/** A TCP echo server on 127.0.0.1 that prefixes nothing; `sockets` are its connections. */
export async function startTcpEcho(name: string): Promise<{
  port: number;
  address: string;
  sockets: Set<net.Socket>;
  connections: number;
  close(): Promise<void>;
}> {
  const sockets = new Set<net.Socket>();
  const state = { connections: 0 };
  const server = net.createServer({ allowHalfOpen: true }, (socket) => {
    state.connections++;
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
    socket.on('error', () => undefined);
    socket.write(`${name}\n`);
    socket.pipe(socket);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as net.AddressInfo).port;
  return {
    port,
    address: `127.0.0.1:${port}`,
    sockets,
    get connections() {
      return state.connections;
    },
    close: () =>
      new Promise<void>((resolve) => {
        for (const s of sockets) s.destroy();
        server.close(() => resolve());
      }),
  };
}

/** Reads from a socket until `predicate(text so far)` holds. */
export function readUntil(
  socket: net.Socket,
  predicate: (text: string) => boolean,
  timeoutMs = 2000,
): Promise<string> {
  return new Promise((resolve, reject) => {
    let text = '';
    const onData = (c: Buffer): void => {
      text += c.toString();
      if (predicate(text)) {
        cleanup();
        resolve(text);
      }
    };
    const onClose = (): void => {
      cleanup();
      reject(new Error(`closed before the expected data; got ${JSON.stringify(text)}`));
    };
    const timer = setTimeout(() => {
      cleanup();
      reject(new Error(`timed out; got ${JSON.stringify(text)}`));
    }, timeoutMs);
    const cleanup = (): void => {
      clearTimeout(timer);
      socket.off('data', onData);
      socket.off('close', onClose);
    };
    socket.on('data', onData);
    socket.on('close', onClose);
  });
}

/**
 * Things a test file starts and must stop: registered as they start, closed in reverse order
 * after the file's tests.
 */
export function cleanupAfterAll(): (...closers: Array<() => Promise<void>>) => void {
  const cleanups: (() => Promise<void>)[] = [];
  after(async () => {
    for (const c of cleanups.reverse()) await c();
  });
  return (...closers) => void cleanups.push(...closers);
}

/**
 * A proxy with service "web" on a free port and one backend ("a", revision 1) served by
 * `handler`; both are closed through `cleanup` (the file's cleanupAfterAll registry).
 */
export async function proxyToUpstream(
  cleanup: (...closers: Array<() => Promise<void>>) => void,
  handler: http.RequestListener,
): Promise<TestProxy & { port: number; up: Upstream }> {
  const p = await startProxy();
  cleanup(() => p.proxy.close());
  const up = await startUpstream('a', handler);
  cleanup(() => up.close());
  const port = await freePort();
  await p.client.ensureService('web', { listen: `127.0.0.1:${port}` });
  await p.client.addBackend('web', { id: 'a', revision: 1, address: up.address });
  return { ...p, port, up };
}
