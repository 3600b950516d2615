// The router the controller drives, with ACME in front of ensureService: a service whose
// certificate is ACME's gets it (ordered, or taken from the home) before the proxy is told to
// serve TLS, so the proxy only ever sees certificate files that load. A first certificate is
// ordered before the service's redirect listener exists: a plain listener on that address
// answers the challenge meanwhile (the proxy answers ACME challenges on any plain listener).
import type {
  Backend,
  DrainOptions,
  DrainResult,
  RouteTable,
  Router,
  ServiceConfig,
  ServiceStats,
  StatsOptions,
} from '../proxy/types.js';
import type { AcmeManager, ChallengeAnswerer } from './acme.js';

export type AnsweringRouter = Router & ChallengeAnswerer;

export class AcmeRouter implements Router {
  constructor(
    private readonly router: AnsweringRouter,
    private readonly acme: AcmeManager,
  ) {}

  async ensureService(service: string, config: ServiceConfig): Promise<void> {
    const { acme: order, ...rest } = config;
    if (order === undefined || rest.tls == null) return this.router.ensureService(service, rest);
    const redirect = rest.tls.redirect;
    let files;
    if (redirect !== undefined && !(await this.answersOn(redirect))) {
      // No listener on the challenge address yet: a temporary plain one answers it.
      const helper = `${service}--acme`;
      await this.router.ensureService(helper, { listen: redirect });
      try {
        files = await this.acme.ensure(order);
      } finally {
        await this.router.removeService(helper);
      }
    } else files = await this.acme.ensure(order);
    await this.router.ensureService(service, { ...rest, tls: { ...rest.tls, ...files } });
  }

  /** Whether some proxy service already listens on `address` (as its listen or its redirect). */
  private async answersOn(address: string): Promise<boolean> {
    const table = await this.router.table();
    return Object.values(table.services).some(
      (s) => s.listen === address || s.tls?.redirect === address,
    );
  }

  removeService(service: string): Promise<void> {
    return this.router.removeService(service);
  }

  addBackend(service: string, backend: Omit<Backend, 'state'>): Promise<void> {
    return this.router.addBackend(service, backend);
  }

  drain(
    service: string,
    instanceId: string,
    timeoutMs: number,
    options?: DrainOptions,
  ): Promise<DrainResult> {
    return this.router.drain(service, instanceId, timeoutMs, options);
  }

  setWeights(service: string, weights: Record<string, number>): Promise<void> {
    return this.router.setWeights(service, weights);
  }

  verifyWeights(service: string, weights: Record<string, number>): Promise<boolean> {
    return this.router.verifyWeights(service, weights);
  }

  table(): Promise<RouteTable> {
    return this.router.table();
  }

  stats(service: string, options?: StatsOptions): Promise<ServiceStats> {
    return this.router.stats(service, options);
  }
}
