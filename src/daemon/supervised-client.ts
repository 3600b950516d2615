// The controller's proxy client inside the daemon: a call that finds no proxy (refused, or cut
// because the supervisor killed a hung one) waits for the supervisor to bring a proxy back and is
// sent once more. Without it, an operation that was running when the proxy was replaced (a
// `down`, a rollout step) fails for a proxy that is serving again 200 ms later. addBackend is
// idempotent by id; the rest only read or set state, so sending a call twice is safe.
import { HotswapError } from '../errors.js';
import {
  ProxyClient,
  type Backend,
  type DrainOptions,
  type DrainResult,
  type ProxyClientOptions,
  type RouteTable,
  type ServiceConfig,
  type ServiceStats,
  type StatsOptions,
} from '../proxy/index.js';

/** Resolves true once a proxy answers again (within the supervisor's own deadline). */
export type WhenServing = () => Promise<boolean>;

export class SupervisedProxyClient extends ProxyClient {
  constructor(
    options: ProxyClientOptions,
    private readonly whenServing: WhenServing,
  ) {
    super(options);
  }

  override ensureService(service: string, config: ServiceConfig): Promise<void> {
    return this.again(() => super.ensureService(service, config));
  }

  override removeService(service: string): Promise<void> {
    return this.again(() => super.removeService(service));
  }

  override addBackend(service: string, backend: Omit<Backend, 'state'>): Promise<void> {
    return this.again(() => super.addBackend(service, backend));
  }

  override drain(
    service: string,
    instanceId: string,
    timeoutMs: number,
    options?: DrainOptions,
  ): Promise<DrainResult> {
    return this.again(() => super.drain(service, instanceId, timeoutMs, options));
  }

  override setWeights(service: string, weights: Record<string, number>): Promise<void> {
    return this.again(() => super.setWeights(service, weights));
  }

  override getWeights(service: string): Promise<Record<string, number>> {
    return this.again(() => super.getWeights(service));
  }

  override table(): Promise<RouteTable> {
    return this.again(() => super.table());
  }

  override stats(service: string, options?: StatsOptions): Promise<ServiceStats> {
    return this.again(() => super.stats(service, options));
  }

  private async again<T>(call: () => Promise<T>): Promise<T> {
    try {
      return await call();
    } catch (err) {
      const unavailable = err instanceof HotswapError && err.code === 'PROXY_UNAVAILABLE';
      if (!unavailable || !(await this.whenServing())) throw err;
      return call();
    }
  }
}
