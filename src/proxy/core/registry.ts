// The live route table: services, their listeners and their persistence, changed only through
// these methods. Changes run one at a time (a drain's wait runs outside that queue) and each
// one is on disk before its promise resolves, so an acknowledged change survives a restart.
import { HotswapError } from '../../errors.js';
import { SHUTDOWN_REASON } from './long.js';
import { routeKeys, type Listeners } from '../listeners.js';
import type { RouteStore } from './route-store.js';
import { CertificateStore } from '../tls/certificates.js';
import {
  DEFAULT_TUNING,
  ServiceRuntime,
  type ServiceMetricsView,
  type ServiceStatsDump,
  type Tuning,
} from './service.js';
import type { Backend, DrainOptions, DrainResult, RouteTable, ServiceStats } from '../types.js';
import {
  backendAllowed,
  conflict,
  rejected,
  serviceConfigInput,
  type ServiceSettings,
} from './validate.js';

/** Where a service answers: its listen, and its private networks' gateways (issue 16). */
function addressesOf(settings: ServiceSettings): Array<{ listen: string; subnet: string | null }> {
  return [
    { listen: settings.listen, subnet: null },
    ...settings.private.map((p) => ({ listen: p.listen, subnet: p.subnet })),
  ];
}

/** How soon a route table the full disk refused is saved again. */
const SAVE_RETRY_MS = 1000;

export class Registry {
  private readonly services = new Map<string, ServiceRuntime>();
  private queue: Promise<unknown> = Promise.resolve();
  /** Set once a successor owns the table: this process no longer writes it. */
  private detached = false;
  private unsaved = false;
  private saveTimer: NodeJS.Timeout | null = null;

  constructor(
    private readonly listeners: Listeners,
    private readonly store: RouteStore,
    private readonly log: (line: string, fields?: { service?: string; revision?: number }) => void,
    private readonly tuning: Tuning = DEFAULT_TUNING,
    /** How long a removed service's requests may run before its pools are closed. */
    private readonly graceMs = 30_000,
    private readonly certificates = new CertificateStore(log),
  ) {}

  /** Plain listeners of TLS services (tls.redirect), placed in 'redirect' mode. */
  private readonly redirects = new Set<string>();

  /**
   * Rebuilds the live state from a stored table. Draining backends are dropped (their drain
   * ended with the old process). With `adopt`, addresses are only prepared: the caller hands
   * them inherited sockets, then binds the rest. Otherwise they are bound now; a listener that
   * cannot bind is logged and the service kept, so the next ensureService retries the bind.
   */
  async restore(table: RouteTable, opts: { adopt?: boolean } = {}): Promise<void> {
    for (const [name, route] of Object.entries(table.services)) {
      const svc = new ServiceRuntime(name, serviceConfigInput(route), this.tuning, this.log);
      for (const b of route.backends) {
        if (b.state === 'active')
          svc.addBackend({ id: b.id, revision: b.revision, address: b.address });
      }
      svc.setWeights(route.weights);
      this.services.set(name, svc);
      const tls = svc.settings.tls;
      if (tls !== null) {
        try {
          this.certificates.acquire(tls, `services.${name}.tls`);
        } catch (err) {
          this.log(
            `service ${name}: ${(err as Error).message} (its TLS handshakes fail until fixed)`,
            { service: name },
          );
        }
      }
    }
    for (const [listen, { services, subnet }] of this.byAddress()) {
      this.listeners.prepare(listen, services[0]!.settings.mode, services, subnet);
    }
    for (const [listen, services] of this.redirectMap()) {
      this.listeners.prepare(listen, 'redirect', services);
      this.redirects.add(listen);
    }
    if (!opts.adopt) await this.listeners.bindMissing();
  }

  /** Persists the restored table (draining backends dropped); run once the listeners are up. */
  async saveRestored(): Promise<void> {
    await this.exclusive(() => this.persist());
  }

  table(): RouteTable {
    const table: RouteTable = { version: 1, services: {} };
    for (const [name, svc] of this.services) table.services[name] = svc.toRoute();
    return table;
  }

  ensureService(name: string, settings: ServiceSettings): Promise<void> {
    return this.exclusive(async () => {
      const listen = settings.listen;
      const others = [...this.services.values()].filter(
        (s) => s.name !== name && s.listen === listen,
      );
      this.checkRedirect(name, settings);
      for (const other of others) {
        if ((settings.tls === null) !== (other.settings.tls === null)) {
          throw conflict(
            'tls',
            `${listen} is used by service ${other.name} ${other.settings.tls === null ? 'without' : 'with'} TLS; services sharing an address all use TLS or none does`,
          );
        }
        if (settings.mode === 'tcp' || other.settings.mode === 'tcp') {
          throw conflict(
            'listen',
            `${listen} is already used by service ${other.name} (a tcp listener cannot be shared)`,
          );
        }
        const mine = new Set(routeKeys(settings));
        const clash = routeKeys(other.settings).find((k) => mine.has(k));
        if (clash !== undefined) {
          throw conflict(
            'listen',
            `${listen} is already used by service ${other.name} with the same host and path rules; give each service distinct hosts or pathPrefix`,
          );
        }
      }
      this.checkPrivate(name, settings);
      let svc = this.services.get(name);
      const created = svc === undefined;
      svc ??= new ServiceRuntime(name, settings, this.tuning, this.log);
      const previous = svc.settings;
      const oldListen = created ? undefined : previous.listen;
      if (settings.tls !== null) this.certificates.acquire(settings.tls);
      svc.settings = settings;
      try {
        await this.listeners.place(listen, settings.mode, [...others, svc]);
        this.services.set(name, svc);
        for (const p of settings.private) await this.placePrivate(svc, p);
        await this.syncRedirects();
      } catch (err) {
        svc.settings = previous;
        if (created) this.services.delete(name);
        if (settings.tls !== null) this.certificates.release(settings.tls);
        this.resync(settings.private.map((p) => p.listen));
        throw err;
      }
      if (!created && previous.tls !== null) this.certificates.release(previous.tls);
      const kept = new Set(settings.private.map((p) => p.listen));
      if (!created) this.resync(previous.private.map((p) => p.listen).filter((l) => !kept.has(l)));
      if (oldListen !== undefined && oldListen !== listen) {
        this.log(`service ${name} moves from ${oldListen} to ${listen}`, { service: name });
        const left = this.servicesOn(oldListen);
        this.listeners.update(oldListen, left[0]?.settings.mode ?? 'http', left);
      } else if (created)
        this.log(`service ${name} on ${listen} (${settings.mode})`, { service: name });
      await this.persist();
    });
  }

  /**
   * Removes the service (a missing one is fine). Resolves once the route is gone and its
   * listener stops taking requests for it; its long connections are cut, requests in flight
   * finish in the background (within the grace), then its pools are closed.
   */
  async removeService(name: string): Promise<void> {
    const svc = await this.exclusive(async () => {
      const found = this.services.get(name);
      if (found === undefined) return undefined;
      this.services.delete(name);
      this.resync(addressesOf(found.settings).map((a) => a.listen));
      if (found.settings.tls !== null) this.certificates.release(found.settings.tls);
      await this.syncRedirects();
      await this.persist();
      return found;
    });
    if (svc === undefined) return;
    this.log(`service ${name} removed`, { service: name });
    svc.cutLong(SHUTDOWN_REASON);
    setTimeout(() => svc.destroy(SHUTDOWN_REASON), this.graceMs).unref();
  }

  addBackend(name: string, backend: Omit<Backend, 'state'>): Promise<void> {
    return this.exclusive(async () => {
      const svc = this.service(name);
      if (!backendAllowed(backend.address, svc.settings.private))
        throw rejected(
          'address',
          `${backend.address} is neither 127.0.0.1 nor in a private network of ${name}`,
        );
      if (svc.addBackend(backend)) {
        this.log(
          `service ${name}: backend ${backend.id} (revision ${backend.revision}) at ${backend.address}`,
          { service: name, revision: backend.revision },
        );
      }
      await this.persist();
    });
  }

  async drain(
    name: string,
    id: string,
    timeoutMs: number,
    options: DrainOptions = {},
  ): Promise<DrainResult> {
    const started = await this.exclusive(async () => {
      const svc = this.service(name);
      const long = options.longConnections ?? svc.settings.longConnections;
      const unhealthy = options.unhealthy === true;
      const result = svc.drain(id, timeoutMs, { long, unhealthy }, () =>
        this.exclusive(() => this.persist()),
      );
      this.log(
        `service ${name}: draining ${unhealthy ? 'unhealthy ' : ''}backend ${id} (up to ${timeoutMs} ms; long connections: ${long.policy}${long.policy === 'keep' ? ` up to ${long.timeoutMs} ms` : ''})`,
        { service: name },
      );
      await this.persist();
      // Wrapped: returning the promise itself would make the queue wait for the whole drain.
      return { result };
    });
    const r = await started.result;
    this.log(
      `service ${name}: backend ${id} ${r.drained ? 'drained' : `cut with ${r.inFlight} in flight`} after ${r.waitedMs} ms; long connections ${r.long.atStart} (closed by peer ${r.long.closedByPeer}, cut ${r.long.cut})`,
      { service: name },
    );
    return r;
  }

  setWeights(name: string, weights: Record<string, number>): Promise<void> {
    return this.exclusive(async () => {
      this.service(name).setWeights(weights);
      this.log(`service ${name}: weights ${JSON.stringify(weights)}`, { service: name });
      await this.persist();
    });
  }

  getWeights(name: string): Record<string, number> {
    return this.service(name).getWeights();
  }

  /** Per service, what GET /metrics renders. */
  metricsViews(): Map<string, ServiceMetricsView> {
    const out = new Map<string, ServiceMetricsView>();
    for (const [name, svc] of this.services) out.set(name, svc.metricsView());
    return out;
  }

  stats(name: string, windowMs?: number): ServiceStats {
    return this.service(name).stats(windowMs);
  }

  /**
   * Waits for the changes under way, then holds the queue until the returned function is
   * called: the table cannot change meanwhile (a successor is reading it).
   */
  freeze(): Promise<() => void> {
    let release: () => void = () => undefined;
    const held = new Promise<void>((resolve) => (release = resolve));
    return new Promise((resolve) => {
      void this.exclusive(async () => {
        resolve(release);
        await held;
      });
    });
  }

  /** A successor owns the table now: stop writing it. */
  detach(): void {
    this.detached = true;
  }

  dumpStats(): Record<string, ServiceStatsDump> {
    const out: Record<string, ServiceStatsDump> = {};
    for (const [name, svc] of this.services) out[name] = svc.dumpStats();
    return out;
  }

  /** Dumps every counter and starts again from zero: what follows is dumped again later. */
  takeStats(): Record<string, ServiceStatsDump> {
    const out = this.dumpStats();
    for (const svc of this.services.values()) svc.resetStats();
    return out;
  }

  mergeStats(dump: Record<string, ServiceStatsDump>): void {
    for (const [name, d] of Object.entries(dump)) this.services.get(name)?.mergeStats(d);
  }

  /** The longest `keep` budget of long connections over all services (0 when none keep). */
  longestKeepMs(): number {
    let ms = 0;
    for (const svc of this.services.values()) {
      const long = svc.settings.longConnections;
      if (long.policy === 'keep') ms = Math.max(ms, long.timeoutMs);
    }
    return ms;
  }

  /** Long connections end per each service's policy (a predecessor after the handover). */
  async settleLong(reason: string): Promise<void> {
    await Promise.all([...this.services.values()].map((s) => s.settleLong(reason)));
  }

  /**
   * Closes every listener (requests finish within the listeners' grace; long connections are
   * cut at once), then every pool.
   */
  async close(): Promise<void> {
    const closing = this.listeners.closeAll();
    for (const svc of this.services.values()) svc.cutLong(SHUTDOWN_REASON);
    await closing;
    for (const svc of this.services.values()) svc.destroy(SHUTDOWN_REASON);
    await this.queue.catch(() => undefined);
  }

  /** Closes pools and long connections without touching listeners (after a handover). */
  destroyAll(reason: string): void {
    for (const svc of this.services.values()) svc.destroy(reason);
  }

  /** Redirect address → the TLS services that name it. */
  private redirectMap(): Map<string, ServiceRuntime[]> {
    const out = new Map<string, ServiceRuntime[]>();
    for (const svc of this.services.values()) {
      const at = svc.settings.tls?.redirect;
      if (at === undefined) continue;
      out.set(at, [...(out.get(at) ?? []), svc]);
    }
    return out;
  }

  /** A redirect address is nobody's service address, and no service listens on one. */
  private checkRedirect(name: string, settings: ServiceSettings): void {
    const at = settings.tls?.redirect;
    for (const other of this.services.values()) {
      if (other.name === name) continue;
      if (at !== undefined && other.listen === at) {
        throw conflict('tls.redirect', `${at} is the address of service ${other.name}`);
      }
      if (other.settings.tls?.redirect === settings.listen) {
        throw conflict(
          'listen',
          `${settings.listen} is the redirect listener of service ${other.name}`,
        );
      }
    }
    if (at === settings.listen) throw conflict('tls.redirect', 'must differ from listen');
  }

  /** Binds the redirect listeners now named, closes those no longer named. */
  private async syncRedirects(): Promise<void> {
    const wanted = this.redirectMap();
    for (const [listen, services] of wanted) {
      await this.listeners.place(listen, 'redirect', services);
      this.redirects.add(listen);
    }
    for (const listen of [...this.redirects]) {
      if (wanted.has(listen)) continue;
      this.listeners.update(listen, 'redirect', []);
      this.redirects.delete(listen);
    }
  }

  /**
   * A private address that cannot be bound (a port below 1024 for a proxy without the right to
   * bind it) does not stop the service: it is logged, and bound at the next ensureService.
   */
  private async placePrivate(svc: ServiceRuntime, p: { listen: string; subnet: string }) {
    const sharing = this.servicesOn(p.listen).filter((s) => s !== svc);
    try {
      await this.listeners.place(p.listen, svc.settings.mode, [...sharing, svc], p.subnet);
    } catch (err) {
      if (!(err instanceof HotswapError && err.code === 'CONFLICT')) throw err;
      this.log(`service ${svc.name}: not answering on its network at ${p.listen}: ${err.message}`);
    }
  }

  /** Services that answer on an address: as their listen or on a private network. */
  private servicesOn(listen: string): ServiceRuntime[] {
    return [...this.services.values()].filter((s) =>
      addressesOf(s.settings).some((a) => a.listen === listen),
    );
  }

  /** Each address's listener gets the services that answer there now (none: it closes). */
  private resync(addresses: string[]): void {
    for (const listen of new Set(addresses)) {
      const left = this.servicesOn(listen);
      this.listeners.update(listen, left[0]?.settings.mode ?? 'http', left);
    }
  }

  /**
   * A private address is shared by the network's http services (told apart by name); a tcp
   * service has it alone, and it is nobody's public listen.
   */
  private checkPrivate(name: string, settings: ServiceSettings): void {
    for (const p of settings.private) {
      for (const other of this.servicesOn(p.listen)) {
        if (other.name === name) continue;
        if (other.listen === p.listen)
          throw conflict('private', `${p.listen} is the listen address of service ${other.name}`);
        if (settings.mode === 'tcp' || other.settings.mode === 'tcp')
          throw conflict(
            'private',
            `${p.listen} is already used by service ${other.name} on that network (a tcp service needs a port of its own there)`,
          );
      }
    }
    for (const other of this.services.values()) {
      if (other.name !== name && other.settings.private.some((p) => p.listen === settings.listen))
        throw conflict(
          'listen',
          `${settings.listen} is a private address of service ${other.name}`,
        );
    }
  }

  private byAddress(): Map<string, { services: ServiceRuntime[]; subnet: string | null }> {
    const out = new Map<string, { services: ServiceRuntime[]; subnet: string | null }>();
    for (const svc of this.services.values()) {
      for (const { listen, subnet } of addressesOf(svc.settings)) {
        const entry = out.get(listen) ?? { services: [], subnet };
        entry.services.push(svc);
        out.set(listen, entry);
      }
    }
    return out;
  }

  private service(name: string): ServiceRuntime {
    const svc = this.services.get(name);
    if (svc === undefined) throw new HotswapError('NOT_FOUND', `no service ${name} in the proxy`);
    return svc;
  }

  private async persist(): Promise<void> {
    if (this.detached) return;
    try {
      await this.store.save(this.table());
      if (this.unsaved) this.log('route table saved again: the disk has room');
      this.unsaved = false;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOSPC') return this.saveLater();
      this.log(`cannot save route table: ${(err as Error).message}`);
      throw new HotswapError('INTERNAL', `route table not saved: ${(err as Error).message}`, {
        cause: err,
      });
    }
  }

  /**
   * A full disk does not undo a change the proxy already serves (the rollback of a rollout, say):
   * the table stays in memory, is saved once there is room, and the daemon owns it anyway (it
   * pushes it again to a proxy that comes back without it).
   */
  private saveLater(): void {
    if (!this.unsaved)
      this.log('cannot save route table: no space left on the disk; kept in memory');
    this.unsaved = true;
    if (this.saveTimer) return;
    this.saveTimer = setTimeout(() => {
      this.saveTimer = null;
      void this.exclusive(() => this.persist()).catch(() => undefined);
    }, SAVE_RETRY_MS);
    this.saveTimer.unref();
  }

  private exclusive<T>(fn: () => Promise<T>): Promise<T> {
    const run = this.queue.then(fn, fn);
    this.queue = run.catch(() => undefined);
    return run;
  }
}
