// In-memory fakes of the runtime and the router for the controller's unit tests, and a store
// that "crashes" after a given journal entry. One FakeWorld is the shared truth (containers,
// routes); each controller gets its own view of it, which dies with it. Not part of the API.
import { randomBytes } from 'node:crypto';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { HotswapError } from '../errors.js';
import type {
  Backend,
  DrainResult,
  Router,
  RouteTable,
  ServiceConfig,
  ServiceRoute,
  ServiceStats,
} from '../proxy/types.js';
import type { ImageInfo, Instance, InstanceRequest, Runtime } from '../runtime/types.js';
import type { Store } from '../store/index.js';

export class Crash extends Error {
  constructor() {
    super('simulated crash');
  }
}

/** Containers, images and the proxy's route table, shared by every controller of a test. */
export class FakeWorld {
  readonly containers = new Map<string, Instance>();
  readonly images = new Set<string>();
  routes: RouteTable = { version: 1, services: {} };
  /** Revisions whose instances exit right after they start (a crash loop). */
  readonly crashing = new Set<number>();
  /** The engine is away (dockerd restarting): every runtime call fails. */
  dockerDown = false;
  /** This many of the next weight changes fail as if the proxy were away for a moment. */
  proxyFailures = 0;
  /** Every instance answers its probe here. */
  private server: http.Server | null = null;
  address = '';

  async open(): Promise<void> {
    this.server = http.createServer((_q, r) => r.writeHead(200).end('ok'));
    await new Promise<void>((r) => this.server!.listen(0, '127.0.0.1', r));
    this.address = `127.0.0.1:${(this.server.address() as AddressInfo).port}`;
  }

  async close(): Promise<void> {
    this.server?.closeAllConnections();
    await new Promise<void>((r) => (this.server ? this.server.close(() => r()) : r()));
  }

  /** A runtime and a router that stop working (throw Crash) once `alive()` says so. */
  view(alive: () => boolean = () => true): { runtime: FakeRuntime; router: FakeRouter } {
    return { runtime: new FakeRuntime(this, alive), router: new FakeRouter(this, alive) };
  }

  running(service: string): Instance[] {
    return [...this.containers.values()].filter(
      (c) => c.service === service && c.state === 'running',
    );
  }

  /** The process of an instance ends (as `docker kill` or an OOM would). */
  kill(id: string): void {
    const c = this.containers.get(id);
    if (c) Object.assign(c, { state: 'exited', exitCode: 137, address: null });
  }
}

function check(alive: () => boolean): void {
  if (!alive()) throw new Crash();
}

/** A call of a real runtime or proxy answers later, never within the caller's turn. */
async function gate(alive: () => boolean): Promise<void> {
  await Promise.resolve();
  check(alive);
}

export class FakeRuntime implements Runtime {
  private readonly alive: () => boolean;

  constructor(
    private readonly world: FakeWorld,
    alive: () => boolean,
  ) {
    this.alive = () => {
      if (world.dockerDown && alive())
        throw new HotswapError('DOCKER_UNAVAILABLE', 'cannot reach the Docker engine');
      return alive();
    };
  }

  async ping(): Promise<void> {
    await gate(this.alive);
  }

  async inspectImage(image: string): Promise<ImageInfo> {
    await gate(this.alive);
    if (!this.world.images.has(image))
      throw new HotswapError('IMAGE_NOT_FOUND', `image ${image} is not present on this host`);
    return { id: image, repoDigest: null };
  }

  /** Images are all local in the fake world: no pull. */
  ensureImage(image: string): Promise<ImageInfo> {
    return this.inspectImage(image);
  }

  followLogs(): AsyncIterable<string> {
    return (async function* () {})();
  }

  async startInstance(req: InstanceRequest): Promise<Instance> {
    await gate(this.alive);
    await this.inspectImage(req.image);
    const id = randomBytes(16).toString('hex');
    const crashing = this.world.crashing.has(req.revision);
    const inst: Instance = {
      id,
      name: `fake-${req.service}-r${req.revision}-${id.slice(0, 6)}`,
      service: req.service,
      revision: req.revision,
      state: crashing ? 'exited' : 'running',
      exitCode: crashing ? 1 : null,
      address: crashing ? null : this.world.address,
      createdAt: new Date().toISOString(),
    };
    this.world.containers.set(id, inst);
    if (crashing) throw new HotswapError('INSTANCE_EXITED', `instance ${inst.name} exited`);
    return { ...inst };
  }

  async inspectInstance(id: string): Promise<Instance | null> {
    await gate(this.alive);
    const c = this.world.containers.get(id);
    return c ? { ...c } : null;
  }

  async signalInstance(): Promise<void> {
    await gate(this.alive);
  }

  async stopInstance(id: string): Promise<void> {
    await gate(this.alive);
    this.world.kill(id);
  }

  async removeInstance(id: string): Promise<void> {
    await gate(this.alive);
    this.world.containers.delete(id);
  }

  async listInstances(filter: { service?: string; revision?: number } = {}): Promise<Instance[]> {
    await gate(this.alive);
    return [...this.world.containers.values()]
      .filter((c) => filter.service === undefined || c.service === filter.service)
      .filter((c) => filter.revision === undefined || c.revision === filter.revision)
      .map((c) => ({ ...c }));
  }

  async logs(): Promise<string> {
    await gate(this.alive);
    return '';
  }
}

const DRAINED: DrainResult = {
  drained: true,
  inFlight: 0,
  waitedMs: 0,
  long: { atStart: 0, closedByPeer: 0, cut: 0 },
};

export class FakeRouter implements Router {
  constructor(
    private readonly world: FakeWorld,
    private readonly alive: () => boolean,
  ) {}

  private route(service: string): ServiceRoute {
    check(this.alive);
    const r = this.world.routes.services[service];
    if (!r) throw new HotswapError('NOT_FOUND', `no service "${service}"`);
    return r;
  }

  async ensureService(service: string, config: ServiceConfig): Promise<void> {
    await gate(this.alive);
    const old = this.world.routes.services[service];
    this.world.routes.services[service] = {
      maxBodyBytes: 100 * 1024 * 1024,
      ...config,
      mode: config.mode ?? 'http',
      longConnections: config.longConnections ?? { policy: 'keep', timeoutMs: 30_000 },
      weights: old?.weights ?? {},
      backends: old?.backends ?? [],
    };
  }

  async removeService(service: string): Promise<void> {
    await gate(this.alive);
    delete this.world.routes.services[service];
  }

  async addBackend(service: string, backend: Omit<Backend, 'state'>): Promise<void> {
    await gate(this.alive);
    const r = this.route(service);
    if (!r.backends.some((b) => b.id === backend.id))
      r.backends.push({ ...backend, state: 'active' });
  }

  async drain(service: string, instanceId: string): Promise<DrainResult> {
    await gate(this.alive);
    const r = this.route(service);
    const i = r.backends.findIndex((b) => b.id === instanceId);
    if (i < 0) throw new HotswapError('NOT_FOUND', `no backend ${instanceId}`);
    r.backends.splice(i, 1);
    return DRAINED;
  }

  async setWeights(service: string, weights: Record<string, number>): Promise<void> {
    await gate(this.alive);
    if (this.world.proxyFailures > 0) {
      this.world.proxyFailures--;
      throw new HotswapError('PROXY_UNAVAILABLE', 'the proxy did not answer');
    }
    this.route(service).weights = { ...weights };
  }

  async verifyWeights(service: string, weights: Record<string, number>): Promise<boolean> {
    await gate(this.alive);
    const live = this.route(service).weights;
    const keys = new Set([...Object.keys(live), ...Object.keys(weights)]);
    return [...keys].every((k) => (live[k] ?? 0) === (weights[k] ?? 0));
  }

  async table(): Promise<RouteTable> {
    await gate(this.alive);
    return structuredClone(this.world.routes);
  }

  async stats(): Promise<ServiceStats> {
    await gate(this.alive);
    throw new HotswapError('INTERNAL', 'the fake router keeps no stats');
  }
}

/**
 * The store as a process that dies after its `crashAfter`-th journal entry sees it: that entry
 * is written, then every later call (of the store, and through `alive`, of the runtime and the
 * router) throws Crash. crashAfter Infinity: never; the count of entries is in `appended`.
 */
export function crashingStore(
  store: Store,
  crashAfter: number | ((entry: { event: string; data?: unknown }) => boolean),
): { store: Store; alive: () => boolean; appended: () => number } {
  let appended = 0;
  let dead = false;
  const guard = <T extends object>(repo: T, onCall?: (name: string, args: unknown[]) => void): T =>
    new Proxy(repo, {
      get(target, prop, receiver) {
        const value = Reflect.get(target, prop, receiver) as unknown;
        if (typeof value !== 'function') return value;
        return (...args: unknown[]) => {
          if (dead) throw new Crash();
          const result = (value as (...a: unknown[]) => unknown).apply(target, args);
          onCall?.(String(prop), args);
          return result;
        };
      },
    });
  const journal = guard(store.journal, (name, args) => {
    if (name !== 'append') return;
    appended++;
    const entry = args[0] as { event: string; data?: unknown };
    if (typeof crashAfter === 'number' ? appended >= crashAfter : crashAfter(entry)) {
      dead = true;
      throw new Crash();
    }
  });
  const wrapped = new Proxy(store, {
    get(target, prop) {
      if (prop === 'journal') return journal;
      const value = Reflect.get(target, prop) as unknown;
      return typeof value === 'object' && value !== null ? guard(value) : value;
    },
  });
  return { store: wrapped, alive: () => !dead, appended: () => appended };
}
