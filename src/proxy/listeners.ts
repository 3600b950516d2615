// One listener per address. Its accepting socket is a plain net.Server whose connections go either
// to the TCP splice (tcp mode) or into an HTTP server that is never bound itself — so the same
// accepting socket can be handed to a successor process, and a mode change needs no rebind.
// Several http services may share an address: the most specific host rule wins, then the
// longest path prefix; a service without rules takes what nobody else matched.
//
// A service moving to another address binds the new one first and only then lets go of the old,
// so a failed bind leaves it reachable where it was. Closing stops accepting at once and lets
// requests finish.
import http from 'node:http';
import net, { type Socket } from 'node:net';
import tls from 'node:tls';
import type { CertificateStore } from './tls/certificates.js';
import { redirectHandler, type Challenges } from './tls/redirect.js';
import { FastConnection, type ClientTimeouts, type FastListener } from './http/fast/fast-http.js';
import { clientIO } from './http/fast/direct-io.js';
import { takeAccepts } from './tls/raw-accept.js';
import {
  ALPN,
  DIRECT_TLS,
  HANDSHAKE_TIMEOUT_MS,
  TlsClient,
  type TcpHandle,
  type TlsOwner,
} from './tls/tls-client.js';
import { hostOf, type HttpProxy, type ListenerState } from './http/node/http-proxy.js';
import { SilenceWatch } from './core/silence.js';
import type { ServiceRuntime } from './core/service.js';
import type { TcpProxy } from './tcp/tcp-proxy.js';
import type { ProxyMode, TlsConfig } from './types.js';
import type { UpgradeProxy } from './http/node/tunnel.js';
import { conflict, parseListen } from './core/validate.js';
import { inSubnet } from './core/subnet.js';

/** Clients keep connections open across requests; above common client idle limits (60 s). */
const KEEP_ALIVE_TIMEOUT_MS = 65_000;
const HEADERS_TIMEOUT_MS = 30_000;
/** Granularity of the fast path's client inactivity checks. */
const CLIENT_TICK_MS = 5000;
/** While closing, connections that finish their last response are closed this often. */
const IDLE_SWEEP_MS = 200;
/** How often handshakes on the handles are checked against their deadline. */
const HANDSHAKE_TICK_MS = 250;

/** What a listener does with its connections: HTTP (plain or TLS), a TCP splice, or redirects. */
export type ListenerMode = ProxyMode | 'redirect';

const kOwner = Symbol('hotswap.listener');
type Owned = Socket & { [kOwner]?: Listener };

function onSocketClose(this: Owned): void {
  this[kOwner]?.sockets.delete(this);
}

const kHandshakeTimer = Symbol('hotswap.handshakeTimer');
/** A TLS connection of a listener, from accept to the end of its handshake. */
type Handshaking = tls.TLSSocket & { [kOwner]?: Listener; [kHandshakeTimer]?: NodeJS.Timeout };

function destroyStalled(socket: tls.TLSSocket): void {
  socket.destroy();
}

function destroyOnError(this: tls.TLSSocket): void {
  this.destroy();
}

function clearHandshakeTimer(this: Handshaking): void {
  clearTimeout(this[kHandshakeTimer]);
}

/** The handshake is done: the connection goes to the HTTP engines (once: a TLS 1.2
 * renegotiation emits 'secure' again). */
function onSecure(this: Handshaking): void {
  const timer = this[kHandshakeTimer];
  if (timer === undefined) return;
  clearTimeout(timer);
  this[kHandshakeTimer] = undefined;
  // What tls.Server does at this point: TLS errors from now on (a refused renegotiation, a bad
  // record) are emitted as 'error', which ends the connection, instead of being kept quiet.
  (this as Handshaking & { _releaseControl?: () => boolean })._releaseControl?.();
  this[kOwner]!.serve(this);
}

/** The certificate all TLS services of an address share, or null (none, or several: SNI). */
function soleCertificate(services: ServiceRuntime[]): TlsConfig | null {
  let sole: TlsConfig | null = null;
  for (const svc of services) {
    const t = svc.settings.tls;
    if (t === null) continue;
    if (sole === null) sole = t;
    else if (t.cert !== sole.cert || t.key !== sole.key) return null;
  }
  return sole;
}

export interface ListenerDeps {
  http: HttpProxy;
  upgrade: UpgradeProxy;
  tcp: TcpProxy;
  log: (line: string) => void;
  /** How long a closing listener waits for requests before cutting connections. */
  graceMs: number;
  /** A client connection idle this long (no byte either way) mid-request is closed. */
  clientIdleMs: number;
  /** A request head not complete this long after its first byte closes the connection (30 s). */
  headersMs?: number;
  /**
   * HTTP connections start on the fast path (fast-http.ts) and move to Node's http server only
   * for what it does not take. false: every connection goes to Node's http server. Default true.
   */
  fastPath?: boolean;
  /**
   * TLS connections are served on their handles (tls/tls-client.ts) where this Node allows it.
   * false: through tls.TLSSocket. Default true.
   */
  directTls?: boolean;
  /** A TLS client that has not finished its handshake by then is dropped. Default 10 s. */
  handshakeMs?: number;
  /** The secure contexts of TLS services. */
  certificates: CertificateStore;
  /** ACME HTTP-01 answers a redirect listener serves. */
  challenges: Challenges;
}

export class Listener implements ListenerState, FastListener, TlsOwner {
  closing = false;
  single: ServiceRuntime | null = null;
  services: ServiceRuntime[] = [];
  mode: ListenerMode = 'http';
  /**
   * A private network's gateway address (issue 16): only connections from this subnet are
   * served, and a request goes to the service its Host names. null: a public listener.
   */
  subnet: string | null = null;
  /** This address's services have certificates: connections are TLS. */
  private secure = false;
  /** The one certificate every TLS service of the address uses (no SNI choice), else null. */
  private soleTls: TlsConfig | null = null;
  private redirectServer: http.Server | null = null;
  acceptor: net.Server | null = null;
  readonly server: http.Server;
  /** Set when the accepting socket closed, with the promise of the last connection's end. */
  shutting: Promise<void> | null = null;
  readonly onConnection: (socket: Socket) => void;
  /** Every connection accepted here and still open, so a forced close leaves none behind. */
  readonly sockets = new Set<Socket>();
  /** Connections on the fast path (a closing listener sweeps the idle ones). */
  readonly fast = new Set<FastConnection>();
  /** TLS connections served on their handles, from accept to close. */
  readonly tlsClients = new Set<TlsClient>();
  /** Their handshake deadlines. */
  private readonly handshakes = new SilenceWatch(HANDSHAKE_TICK_MS);
  /** Takes a secure address's accepted handles for TlsClient (null: tls.TLSSocket is used). */
  private readonly takeTls: ((handle: TcpHandle, release: () => void) => boolean) | null;
  readonly challenges: Challenges;

  constructor(
    readonly listen: string,
    private readonly deps: ListenerDeps,
  ) {
    this.challenges = deps.challenges;
    const proxy = deps.http;
    const server = http.createServer((req, res) => proxy.handle(this, req, res, false));
    server.on('checkContinue', (req: http.IncomingMessage, res: http.ServerResponse) =>
      proxy.handle(this, req, res, true),
    );
    server.on('upgrade', (req: http.IncomingMessage, socket: Socket, head: Buffer) =>
      deps.upgrade.handle(this, req, socket, head),
    );
    server.keepAliveTimeout = KEEP_ALIVE_TIMEOUT_MS;
    const headersMs = deps.headersMs ?? HEADERS_TIMEOUT_MS;
    server.headersTimeout = headersMs;
    // Uploads may be long; a stalled one is caught by the idle timeout instead.
    server.requestTimeout = 0;
    server.timeout = deps.clientIdleMs;
    // The server is fed by the acceptor and never listens itself: start its connection tracking
    // (headers timeout, closeIdleConnections) the way listening would.
    server.emit('listening');
    this.server = server;
    const tcp = deps.tcp;
    const fastPath = deps.fastPath !== false;
    const timeouts: ClientTimeouts = {
      keepAliveMs: KEEP_ALIVE_TIMEOUT_MS,
      headersMs,
      idleMs: deps.clientIdleMs,
    };
    const watch = new SilenceWatch(
      Math.min(CLIENT_TICK_MS, Math.max(10, Math.floor(deps.clientIdleMs / 4))),
    );
    this.serve = (socket: Socket): void => {
      if (fastPath)
        this.fast.add(new FastConnection(this, clientIO(socket), proxy, timeouts, watch));
      else server.emit('connection', socket);
    };
    this.secured = (client: TlsClient): void => {
      this.handshakes.delete(client);
      if (fastPath) this.fast.add(new FastConnection(this, client, proxy, timeouts, watch));
      else client.handOff(null, this.toFullPath);
    };
    this.takeTls = DIRECT_TLS && deps.directTls !== false ? this.takeTlsHandle : null;
    this.onConnection = (socket: Owned): void => {
      this.sockets.add(socket);
      socket[kOwner] = this;
      // 'close' comes once: on() spares the wrapper once() builds per connection.
      socket.on('close', onSocketClose);
      // Another network reaches this host address too: its connections are closed unanswered.
      if (this.subnet !== null && !inSubnet(socket.remoteAddress, this.subnet)) {
        socket.destroy();
        return;
      }
      if (this.mode === 'tcp') {
        const svc = this.services[0];
        if (svc === undefined) socket.destroy();
        else tcp.handle(svc, socket);
        return;
      }
      socket.setNoDelay(true);
      if (this.redirectServer !== null) this.redirectServer.emit('connection', socket);
      else if (this.secure) this.terminate(socket);
      else this.serve(socket);
    };
  }

  /** Hands a connection (plain, or TLS once its handshake is done) to the HTTP engines. */
  readonly serve: (socket: Socket) => void;

  /** Gives a paused socket to Node's http server. */
  readonly toFullPath = (socket: Socket): void => {
    this.server.emit('connection', socket);
    socket.resume();
  };

  get handshakeMs(): number {
    return this.deps.handshakeMs ?? HANDSHAKE_TIMEOUT_MS;
  }

  /** TlsOwner: a TLS connection on its handles finished its handshake. */
  readonly secured: (client: TlsClient) => void;

  closed(client: TlsClient): void {
    this.tlsClients.delete(client);
    this.handshakes.delete(client);
  }

  /**
   * An accepted handle of a secure address becomes a TlsClient, with the certificate given up
   * front when one serves the whole address, else chosen by SNI (as terminate() does).
   */
  private readonly takeTlsHandle = (handle: TcpHandle, release: () => void): boolean => {
    if (!this.secure) return false;
    const sole = this.soleTls;
    const context = sole === null ? this.contextFor('') : this.deps.certificates.context(sole);
    if (context === undefined) return false;
    const client = new TlsClient(handle, this, context, sole === null, release);
    if (client.destroyed) return true;
    this.tlsClients.add(client);
    this.handshakes.add(client);
    return true;
  };

  forget(conn: FastConnection): void {
    this.fast.delete(conn);
  }

  /** Closes idle connections on both paths. */
  private closeIdle(): void {
    this.server.closeIdleConnections();
    for (const conn of this.fast) conn.closeIfIdle();
  }

  setServices(services: ServiceRuntime[], mode: ListenerMode): void {
    this.services = [...services];
    this.mode = mode;
    // TLS ends at a service's public listener; on its private networks it answers plain HTTP.
    this.secure =
      mode === 'http' && this.subnet === null && services.some((s) => s.settings.tls !== null);
    this.soleTls = soleCertificate(services);
    if (mode === 'redirect') this.redirectServer ??= this.redirector();
    else this.redirectServer = null;
    this.applyMaxConnections();
    const only = services.length === 1 && this.subnet === null ? services[0]! : null;
    this.single =
      only !== null && only.settings.hosts.length === 0 && only.settings.pathPrefix === ''
        ? only
        : null;
  }

  /**
   * The smallest maxConnections of the address's services (0: none); Node's server closes
   * connections accepted beyond it at once.
   */
  private applyMaxConnections(): void {
    const limits = this.services.map((s) => s.settings.maxConnections).filter((n) => n > 0);
    const max = limits.length === 0 ? undefined : Math.min(...limits);
    if (this.acceptor !== null) this.acceptor.maxConnections = max as number;
  }

  /**
   * TLS on an accepted socket: the certificate of the service the SNI names (a client without
   * SNI, e.g. one dialling an IP address, gets the first TLS service's), read at each handshake
   * so a renewed certificate is used at once. Secure, the socket goes to the HTTP engines.
   *
   * Per connection this is the handshake's hot path, so nothing here builds a closure: the
   * handlers are shared and find their listener on the socket. When one certificate serves the
   * whole address, its context is given up front and no SNICallback is set: Node then skips the
   * certificate callback, a round trip into JavaScript in the middle of every handshake.
   */
  private terminate(raw: Socket): void {
    const sole = this.soleTls;
    const socket: Handshaking = new tls.TLSSocket(
      raw,
      sole === null
        ? {
            isServer: true,
            secureContext: this.contextFor(''),
            SNICallback: this.sniCallback,
            ALPNProtocols: ALPN,
          }
        : {
            isServer: true,
            secureContext: this.deps.certificates.context(sole),
            ALPNProtocols: ALPN,
          },
    );
    socket[kOwner] = this;
    socket[kHandshakeTimer] = setTimeout(destroyStalled, this.handshakeMs, socket);
    // A failed handshake (wrong name, no common cipher, a scanner) just ends the connection.
    socket.on('error', destroyOnError);
    socket.on('close', clearHandshakeTimer);
    socket.on('secure', onSecure);
    // As on the handles (tls-client.ts): a client's renegotiation ends the connection.
    socket.disableRenegotiation();
  }

  /** Picks the certificate by SNI when the address has more than one. */
  private readonly sniCallback = (
    name: string,
    done: (err: Error | null, ctx?: tls.SecureContext) => void,
  ): void => done(null, this.contextFor(name));

  /** The certificate for an SNI name: the TLS service whose hosts match it best, else the first. */
  contextFor(servername: string): tls.SecureContext | undefined {
    const certificates = this.deps.certificates;
    let best: ServiceRuntime | undefined;
    let bestScore = -1;
    const name = servername.toLowerCase();
    for (const svc of this.services) {
      if (svc.settings.tls === null) continue;
      const score = hostScore(svc.settings.hosts, name);
      if (score > bestScore) {
        best = svc;
        bestScore = score;
      }
    }
    best ??= this.services.find((s) => s.settings.tls !== null);
    return best === undefined ? undefined : certificates.context(best.settings.tls!);
  }

  /** The plain listener of TLS services: 308 to https, and ACME HTTP-01 answers. */
  private redirector(): http.Server {
    const server = http.createServer(redirectHandler(this.deps.challenges, () => this.services));
    server.keepAliveTimeout = 5000;
    server.headersTimeout = HEADERS_TIMEOUT_MS;
    server.emit('listening');
    return server;
  }

  route(req: http.IncomingMessage): ServiceRuntime | undefined {
    return this.routeTo(hostOf(req), req.url ?? '/');
  }

  /** The service for a host (without port, lowercase) and request target. */
  routeTo(host: string, url: string): ServiceRuntime | undefined {
    // On a private network a service is called by its name, whatever its public rules say.
    if (this.subnet !== null) return this.services.find((s) => s.name === host);
    let best: ServiceRuntime | undefined;
    let bestHost = -1;
    let bestPrefix = -1;
    for (const svc of this.services) {
      const hs = hostScore(svc.settings.hosts, host);
      if (hs < 0) continue;
      const prefix = svc.settings.pathPrefix;
      if (prefix !== '' && !pathMatches(url, prefix)) continue;
      if (hs > bestHost || (hs === bestHost && prefix.length > bestPrefix)) {
        best = svc;
        bestHost = hs;
        bestPrefix = prefix.length;
      }
    }
    return best;
  }

  bind(): Promise<void> {
    const { host, port } = parseListen(this.listen);
    const server = net.createServer({ allowHalfOpen: true, noDelay: true }, this.onConnection);
    return new Promise((resolve, reject) => {
      const onError = (err: NodeJS.ErrnoException): void => {
        reject(conflict('listen', `cannot bind ${this.listen} (${err.code ?? err.message})`, err));
      };
      server.once('error', onError);
      server.listen({ host, port }, () => {
        server.off('error', onError);
        this.watch(server);
        this.acceptor = server;
        this.applyMaxConnections();
        this.deps.log(`listening on ${this.listen} (${this.describe()})`);
        resolve();
      });
    });
  }

  /** Takes over an accepting socket received from a predecessor (must run before any accept). */
  adopt(server: net.Server): void {
    // A server received over IPC has default options; these are what bind() would have set.
    // (Without noDelay, connections accepted after a self-upgrade would run with Nagle on.)
    const options = server as net.Server & { allowHalfOpen: boolean; noDelay: boolean };
    options.allowHalfOpen = true;
    options.noDelay = true;
    server.on('connection', this.onConnection);
    this.watch(server);
    this.acceptor = server;
    this.applyMaxConnections();
    this.deps.log(`took over ${this.listen} (${this.describe()})`);
  }

  private watch(server: net.Server): void {
    server.on('error', (err) => this.deps.log(`listener ${this.listen}: ${err.message}`));
    if (this.takeTls !== null) takeAccepts(server, this.takeTls);
  }

  describe(): string {
    return this.services.map((s) => s.name).join(', ') || 'no service';
  }

  /**
   * Stops accepting; resolves when the last connection accepted here has closed. Connections
   * busy now get "Connection: close" on their response; idle ones are closed by a sweep that
   * starts after `sweepAfterMs` (a handover waits a little: a keep-alive client in mid-flight
   * then gets its answer and the close rather than a reset), and everything is cut at graceMs.
   */
  shut(sweepAfterMs = 0, forceAfterMs = this.deps.graceMs): Promise<void> {
    if (this.shutting !== null) return this.shutting;
    this.closing = true;
    const server = this.server;
    const acceptor = this.acceptor;
    this.acceptor = null;
    this.shutting = new Promise<void>((resolve) => {
      let sweep: NodeJS.Timeout | null = null;
      const startSweep = setTimeout(() => {
        this.closeIdle();
        sweep = setInterval(() => this.closeIdle(), IDLE_SWEEP_MS);
      }, sweepAfterMs);
      const force = setTimeout(() => {
        server.closeAllConnections();
        for (const socket of this.sockets) socket.destroy();
        for (const client of this.tlsClients) client.destroy();
      }, forceAfterMs);
      const done = (): void => {
        clearTimeout(startSweep);
        if (sweep !== null) clearInterval(sweep);
        clearTimeout(force);
        // Stops the connection-tracking timer (the server itself was never bound).
        server.close(() => undefined);
        this.deps.log(`closed listener ${this.listen}`);
        resolve();
      };
      if (acceptor === null) done();
      else acceptor.close(done);
    });
    return this.shutting;
  }
}

/** -1: no match; 0: the service takes any host; higher: more specific. */
function hostScore(hosts: string[], host: string): number {
  if (hosts.length === 0) return 0;
  let best = -1;
  for (const h of hosts) {
    if (h.charCodeAt(0) === 42 /* * */) {
      const suffix = h.slice(1); // ".example.com"
      if (host.length > suffix.length && host.endsWith(suffix)) {
        best = Math.max(best, suffix.length);
      }
    } else if (h === host) return 1_000_000;
  }
  return best;
}

/** "/api" matches "/api", "/api/x" and "/api?q", not "/apix". */
function pathMatches(url: string, prefix: string): boolean {
  if (!url.startsWith(prefix)) return false;
  if (url.length === prefix.length) return true;
  const next = url.charCodeAt(prefix.length);
  return next === 47 /* / */ || next === 63; /* ? */
}

/** Route keys of a service; two services on one address must not share one. */
export function routeKeys(svc: { hosts: string[]; pathPrefix: string }): string[] {
  const hosts = svc.hosts.length === 0 ? ['*'] : svc.hosts;
  return hosts.map((h) => `${h} ${svc.pathPrefix}`);
}

export class Listeners {
  private readonly byAddress = new Map<string, Listener>();
  private readonly closing = new Set<Promise<void>>();

  constructor(private readonly deps: ListenerDeps) {}

  /**
   * Makes `listen` serve these services (binding it when it is not bound yet). On a failed bind
   * nothing changes and the CONFLICT error is thrown.
   */
  async place(
    listen: string,
    mode: ListenerMode,
    services: ServiceRuntime[],
    subnet: string | null = null,
  ): Promise<void> {
    let l = this.byAddress.get(listen);
    const created = l === undefined;
    if (l === undefined) l = new Listener(listen, this.deps);
    l.subnet = subnet;
    if (l.acceptor === null) {
      try {
        await l.bind();
      } catch (err) {
        if (created) l.shut().catch(() => undefined);
        throw err;
      }
    }
    l.setServices(services, mode);
    this.byAddress.set(listen, l);
  }

  /** Records the services of an address without binding it (a successor adopts it next). */
  prepare(
    listen: string,
    mode: ListenerMode,
    services: ServiceRuntime[],
    subnet: string | null = null,
  ): void {
    let l = this.byAddress.get(listen);
    if (l === undefined) {
      l = new Listener(listen, this.deps);
      this.byAddress.set(listen, l);
    }
    l.subnet = subnet;
    l.setServices(services, mode);
  }

  /** Gives a prepared address its inherited accepting socket; false when nobody wants it. */
  adopt(listen: string, server: net.Server): boolean {
    const l = this.byAddress.get(listen);
    if (l === undefined || l.acceptor !== null) return false;
    l.adopt(server);
    return true;
  }

  /** Binds every address that has no accepting socket yet; failures are logged. */
  async bindMissing(): Promise<void> {
    await Promise.all(
      [...this.byAddress.values()]
        .filter((l) => l.acceptor === null)
        .map((l) =>
          l.bind().catch((err: Error) => this.deps.log(`${l.describe()}: ${err.message}`)),
        ),
    );
  }

  /** The address's services changed; none left → it closes in the background. */
  update(listen: string, mode: ListenerMode, services: ServiceRuntime[]): void {
    const l = this.byAddress.get(listen);
    if (l === undefined) return;
    if (services.length > 0) {
      l.setServices(services, mode);
      return;
    }
    this.byAddress.delete(listen);
    void this.track(l.shut());
  }

  /** Stops accepting on the address; resolves when its last connection has closed. */
  close(listen: string): Promise<void> {
    const l = this.byAddress.get(listen);
    if (l === undefined) return Promise.resolve();
    this.byAddress.delete(listen);
    return this.track(l.shut());
  }

  bound(listen: string): boolean {
    return this.byAddress.get(listen)?.acceptor != null;
  }

  /** Every accepting socket, to hand to a successor. */
  acceptors(): { listen: string; server: net.Server }[] {
    const out: { listen: string; server: net.Server }[] = [];
    for (const l of this.byAddress.values()) {
      if (l.acceptor !== null) out.push({ listen: l.listen, server: l.acceptor });
    }
    return out;
  }

  /** Stops accepting everywhere (the successor accepts now); resolves when connections end. */
  async handOver(sweepAfterMs: number, forceAfterMs: number): Promise<void> {
    const all = [...this.byAddress.values()];
    this.byAddress.clear();
    await Promise.all(all.map((l) => this.track(l.shut(sweepAfterMs, forceAfterMs))));
  }

  async closeAll(): Promise<void> {
    await Promise.all([...this.byAddress.keys()].map((listen) => this.close(listen)));
    await Promise.all([...this.closing]);
  }

  private track(p: Promise<void>): Promise<void> {
    this.closing.add(p);
    void p.finally(() => this.closing.delete(p));
    return p;
  }
}
