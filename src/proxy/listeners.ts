// One HTTP server per service, bound to the service's `listen` address. A listener is replaced by
// binding the new address first and only then closing the old one, so a failed bind leaves the
// service reachable where it was. Closing stops accepting at once and lets requests finish.
import http from 'node:http';
import type { Socket } from 'node:net';
import type { HttpProxy, ListenerState } from './http-proxy.js';
import type { ServiceRuntime } from './service.js';
import { conflict, parseListen } from './validate.js';

/** Clients keep connections open across requests; above common client idle limits (60 s). */
const KEEP_ALIVE_TIMEOUT_MS = 65_000;
const HEADERS_TIMEOUT_MS = 30_000;
/** While closing, connections that finish their last response are closed this often. */
const IDLE_SWEEP_MS = 200;

const UPGRADE_REPLY = (() => {
  const body = 'hotswap: upgrade (WebSocket) is not supported yet\n';
  return (
    'HTTP/1.1 501 Not Implemented\r\n' +
    'Content-Type: text/plain; charset=utf-8\r\n' +
    `Content-Length: ${Buffer.byteLength(body)}\r\n` +
    'Connection: close\r\n\r\n' +
    body
  );
})();

interface Listener {
  listen: string;
  server: http.Server;
  state: ListenerState;
}

export class Listeners {
  private readonly byService = new Map<string, Listener>();
  private readonly closing = new Set<Promise<void>>();

  constructor(
    private readonly proxy: HttpProxy,
    private readonly log: (line: string) => void,
    /** How long a closing listener waits for requests before cutting connections. */
    private readonly graceMs: number,
  ) {}

  /** Binds `listen` for the service, unless already bound there; rebinds when it changed. */
  async ensure(service: ServiceRuntime, listen: string): Promise<void> {
    const current = this.byService.get(service.name);
    if (current !== undefined && current.listen === listen) return;
    const next = await this.open(service, listen);
    this.byService.set(service.name, next);
    // The old address closes in the background: its requests finish, the caller need not wait.
    if (current !== undefined) void this.track(this.shut(current));
  }

  address(service: string): string | undefined {
    return this.byService.get(service)?.listen;
  }

  /** Stops accepting for the service; resolves when its last connection has closed. */
  close(service: string): Promise<void> {
    const current = this.byService.get(service);
    if (current === undefined) return Promise.resolve();
    this.byService.delete(service);
    return this.track(this.shut(current));
  }

  async closeAll(): Promise<void> {
    await Promise.all([...this.byService.keys()].map((name) => this.close(name)));
    await Promise.all([...this.closing]);
  }

  private track(p: Promise<void>): Promise<void> {
    this.closing.add(p);
    void p.finally(() => this.closing.delete(p));
    return p;
  }

  private open(service: ServiceRuntime, listen: string): Promise<Listener> {
    const { host, port } = parseListen(listen);
    const state: ListenerState = { closing: false };
    const proxy = this.proxy;
    const server = http.createServer({ noDelay: true }, (req, res) =>
      proxy.handle(service, state, req, res),
    );
    server.keepAliveTimeout = KEEP_ALIVE_TIMEOUT_MS;
    server.headersTimeout = HEADERS_TIMEOUT_MS;
    server.on('upgrade', refuseUpgrade);
    return new Promise((resolve, reject) => {
      const onError = (err: NodeJS.ErrnoException): void => {
        reject(conflict('listen', `cannot bind ${listen} (${err.code ?? err.message})`, err));
      };
      server.once('error', onError);
      server.listen({ host, port }, () => {
        server.off('error', onError);
        server.on('error', (err) =>
          this.log(`listener ${listen} of ${service.name}: ${err.message}`),
        );
        this.log(`listening on ${listen} for ${service.name}`);
        resolve({ listen, server, state });
      });
    });
  }

  private shut(listener: Listener): Promise<void> {
    listener.state.closing = true;
    const server = listener.server;
    return new Promise((resolve) => {
      // Connections busy now get "Connection: close" on their response; once idle they are
      // closed by the sweep rather than waiting out the 65 s keep-alive.
      const sweep = setInterval(() => server.closeIdleConnections(), IDLE_SWEEP_MS);
      const force = setTimeout(() => server.closeAllConnections(), this.graceMs);
      server.close(() => {
        clearInterval(sweep);
        clearTimeout(force);
        this.log(`closed listener ${listener.listen}`);
        resolve();
      });
    });
  }
}

function refuseUpgrade(_req: http.IncomingMessage, socket: Socket): void {
  socket.on('error', () => socket.destroy());
  socket.end(UPGRADE_REPLY);
}
