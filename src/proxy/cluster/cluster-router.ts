// The controller's router when hotswap's proxy runs on every node of a Swarm (issue 17): one
// control client per proxy task (TCP on the node's address, with a bearer token), and every call
// sent to all of them at once, so every proxy holds the same route table. Reads merge: stats
// add up, drains wait for every proxy, the table is what all proxies agree on (merge.ts).
//
// A proxy that does not answer (its node cut off, its task restarting) does not stop the
// others: a call counts when at least one proxy took it; the missed ones are logged, and the
// proxy is brought up to date by the reconcile loop when it answers again (its table then
// differs from the others', which commonTable shows as something to push again).
import { HotswapError } from '../../errors.js';
import { ProxyClient, type ProxyHealth } from '../control/control-client.js';
import type {
  Backend,
  DrainOptions,
  DrainResult,
  RouteTable,
  Router,
  ServiceConfig,
  ServiceStats,
  StatsOptions,
} from '../types.js';
import { commonTable, mergeDrains, mergeStats } from './merge.js';

export interface ProxyEndpoint {
  /** The Swarm task id: a new task is a new proxy with an empty table. */
  id: string;
  /** The node's name, for messages. */
  node: string;
  host: string;
  port: number;
}

export interface ClusterHealth extends ProxyHealth {
  proxies: { id: string; node: string; address: string; ok: boolean; detail: string }[];
}

/** Control calls to a proxy on another node; short, so a cut-off node costs little. */
const CALL_TIMEOUT_MS = 4_000;

interface Member {
  endpoint: ProxyEndpoint;
  client: ProxyClient;
  /** Rejects when the proxy leaves the set (its node went down): calls to it stop waiting. */
  gone: Promise<never>;
  leave: () => void;
}

export class ClusterRouter implements Router {
  private proxies = new Map<string, Member>();

  constructor(
    private readonly token: string,
    private readonly log: (line: string) => void = () => undefined,
  ) {}

  /** Replaces the set of proxies; returns those that were not there before. */
  setEndpoints(endpoints: readonly ProxyEndpoint[]): ProxyEndpoint[] {
    const next = new Map<string, Member>();
    const joined: ProxyEndpoint[] = [];
    for (const e of endpoints) {
      const known = this.proxies.get(e.id);
      if (known && known.endpoint.host === e.host && known.endpoint.port === e.port) {
        next.set(e.id, known);
        continue;
      }
      joined.push(e);
      next.set(e.id, this.member(e));
    }
    for (const [id, m] of this.proxies) if (!next.has(id)) m.leave();
    this.proxies = next;
    return joined;
  }

  private member(e: ProxyEndpoint): Member {
    let leave: () => void = () => undefined;
    const gone = new Promise<never>((_, reject) => {
      leave = () =>
        reject(new HotswapError('PROXY_UNAVAILABLE', `the proxy on ${e.node} left (node down)`));
    });
    gone.catch(() => undefined); // nobody may be waiting when it leaves
    const client = new ProxyClient({
      socketPath: `tcp://${e.host}:${e.port}`,
      tcp: { host: e.host, port: e.port, token: this.token },
      timeoutMs: CALL_TIMEOUT_MS,
    });
    return { endpoint: e, client, gone, leave };
  }

  endpoints(): ProxyEndpoint[] {
    return [...this.proxies.values()].map((p) => p.endpoint);
  }

  async health(): Promise<ClusterHealth> {
    const all = [...this.proxies.values()];
    const results = await Promise.allSettled(all.map((p) => p.client.health()));
    const proxies = all.map((p, i) => {
      const r = results[i]!;
      const address = `${p.endpoint.host}:${p.endpoint.port}`;
      return r.status === 'fulfilled'
        ? {
            id: p.endpoint.id,
            node: p.endpoint.node,
            address,
            ok: true,
            detail: `pid ${r.value.pid}`,
          }
        : {
            id: p.endpoint.id,
            node: p.endpoint.node,
            address,
            ok: false,
            detail: String((r.reason as Error).message),
          };
    });
    const up = results.flatMap((r) => (r.status === 'fulfilled' ? [r.value] : []));
    if (up.length === 0) throw new HotswapError('PROXY_UNAVAILABLE', this.noneAnswered());
    return {
      ok: up.length === all.length,
      pid: up[0]!.pid,
      uptimeMs: Math.min(...up.map((h) => h.uptimeMs)),
      proxies,
    };
  }

  async ensureService(service: string, config: ServiceConfig): Promise<void> {
    await this.all(`ensureService ${service}`, (c) => c.ensureService(service, config));
  }

  async removeService(service: string): Promise<void> {
    await this.all(`removeService ${service}`, (c) => c.removeService(service));
  }

  async addBackend(service: string, backend: Omit<Backend, 'state'>): Promise<void> {
    await this.all(`addBackend ${service}`, (c) => c.addBackend(service, backend));
  }

  async drain(
    service: string,
    instanceId: string,
    timeoutMs: number,
    options?: DrainOptions,
  ): Promise<DrainResult> {
    return mergeDrains(
      await this.all(`drain ${service}`, (c) => c.drain(service, instanceId, timeoutMs, options)),
    );
  }

  async setWeights(service: string, weights: Record<string, number>): Promise<void> {
    await this.all(`setWeights ${service}`, (c) => c.setWeights(service, weights));
  }

  async verifyWeights(service: string, weights: Record<string, number>): Promise<boolean> {
    const answers = await this.all(`verifyWeights ${service}`, (c) =>
      c.verifyWeights(service, weights),
    );
    return answers.every(Boolean);
  }

  async table(): Promise<RouteTable> {
    return commonTable(await this.all('table', (c) => c.table()));
  }

  async stats(service: string, options?: StatsOptions): Promise<ServiceStats> {
    return mergeStats(await this.all(`stats ${service}`, (c) => c.stats(service, options)));
  }

  async setChallenge(token: string, keyAuthorization: string): Promise<void> {
    await this.all('setChallenge', (c) => c.setChallenge(token, keyAuthorization));
  }

  async clearChallenge(token: string): Promise<void> {
    await this.all('clearChallenge', (c) => c.clearChallenge(token));
  }

  /** The first proxy's Prometheus text (one proxy's counters: they are not summed here). */
  async metricsText(): Promise<string> {
    return (await this.all('metrics', (c) => c.metricsText()))[0]!;
  }

  /** A probe of an overlay address, by the first proxy that answers. */
  async probe(
    check: { type: 'http'; path: string } | { type: 'tcp' },
    address: string,
    timeoutMs: number,
  ): Promise<{ ok: boolean; detail: string }> {
    let last: unknown = new HotswapError('PROXY_UNAVAILABLE', this.noneAnswered());
    for (const p of this.proxies.values()) {
      try {
        return await p.client.probe(check, address, timeoutMs);
      } catch (err) {
        last = err;
      }
    }
    throw last;
  }

  /**
   * The call on every proxy at once. Proxies that do not answer are skipped when at least one
   * did; a proxy's refusal (bad input) is the same everywhere and is thrown.
   */
  private async all<T>(what: string, call: (c: ProxyClient) => Promise<T>): Promise<T[]> {
    const all = [...this.proxies.values()];
    if (all.length === 0) throw new HotswapError('PROXY_UNAVAILABLE', this.noneAnswered());
    const results = await Promise.allSettled(
      all.map((p) => Promise.race([call(p.client), p.gone])),
    );
    const ok: T[] = [];
    const missed: string[] = [];
    for (const [i, r] of results.entries()) {
      if (r.status === 'fulfilled') ok.push(r.value);
      else if (r.reason instanceof HotswapError && r.reason.code === 'PROXY_UNAVAILABLE')
        missed.push(`${all[i]!.endpoint.node} (${r.reason.message})`);
      else throw r.reason;
    }
    if (ok.length === 0) {
      throw new HotswapError('PROXY_UNAVAILABLE', `${this.noneAnswered()}: ${missed.join('; ')}`);
    }
    if (missed.length > 0) this.log(`${what}: not taken by the proxy on ${missed.join(', ')}`);
    return ok;
  }

  private noneAnswered(): string {
    return this.proxies.size === 0
      ? 'no hotswap proxy task runs on the Swarm'
      : `none of the ${this.proxies.size} proxies on the Swarm answered`;
  }
}
