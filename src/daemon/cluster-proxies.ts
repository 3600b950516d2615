// The proxies of a Swarm home (issue 17), the counterpart of ProxySupervisor: the proxy runs as a
// global Swarm service (Swarm restarts a dead proxy task, on every node), and this keeps the
// controller's router pointed at the proxy tasks that run now. A proxy task that appears (a new
// node, a restarted task, a node back from a cut) starts with an empty table: the reconcile loop
// is asked to run at once, and it pushes the routes again (ClusterRouter.table shows the gap).
import { randomBytes } from 'node:crypto';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { HotswapError } from '../errors.js';
import { ClusterRouter } from '../proxy/index.js';
import {
  ensureProxyService,
  proxyEndpoints,
  removeProxyService,
  usableNodes,
  type SwarmRuntime,
} from '../runtime/index.js';
import type { SwarmRuntimeConfig } from '../security/index.js';
import type { Log } from './log.js';

const REFRESH_MS = 1_000;
/** At start: how long to wait for a proxy on every usable node (then go on with those up). */
const START_TIMEOUT_MS = 90_000;

export class ClusterProxies {
  readonly client: ClusterRouter;
  onRestarted: (() => void) | null = null;
  private timer: NodeJS.Timeout | null = null;
  private refreshing = false;

  constructor(
    private readonly runtime: SwarmRuntime,
    private readonly config: SwarmRuntimeConfig['proxy'],
    private readonly home: string,
    private readonly log: Log,
  ) {
    this.client = new ClusterRouter(proxyToken(home), log);
  }

  async start(): Promise<void> {
    const { id, changed } = await ensureProxyService(this.runtime.api, {
      scope: this.runtime.scope,
      networkId: await this.runtime.networkId(),
      image: this.config.image,
      ports: this.config.ports,
      controlPort: this.config.controlPort,
      token: proxyToken(this.home),
    });
    this.log(`proxy service ${id.slice(0, 12)} ${changed ? 'deployed' : 'already deployed'}`);
    await this.waitForProxies();
    this.timer = setInterval(() => void this.refresh(), REFRESH_MS);
    this.timer.unref();
    // The route table every proxy gets: what the controller has when it starts.
    this.onRestarted?.();
  }

  upgrade(): Promise<{ oldPid: number; newPid: number; ms: number }> {
    return Promise.reject(
      new HotswapError(
        'UNSUPPORTED',
        'proxy upgrade: on the Swarm backend the proxy is a global service; update its image ' +
          'in config.yaml (runtime.proxy.image) and restart the daemon',
      ),
    );
  }

  async stop(opts: { shutdownProxy: boolean }): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
    if (opts.shutdownProxy) await removeProxyService(this.runtime.api, this.runtime.scope);
  }

  private async waitForProxies(): Promise<void> {
    const deadline = Date.now() + START_TIMEOUT_MS;
    for (;;) {
      const [endpoints, nodes] = await Promise.all([
        proxyEndpoints(this.runtime.api, this.runtime.scope, this.config.controlPort),
        this.runtime.api.nodes(),
      ]);
      this.client.setEndpoints(endpoints);
      const answering =
        endpoints.length > 0
          ? await this.client.health().then(
              (h) => h.proxies,
              () => [],
            )
          : [];
      const up = answering.filter((p) => p.ok).length;
      if (up > 0 && up >= usableNodes(nodes).length) {
        this.log(
          `${up} proxies answer: ${answering.map((p) => `${p.node} ${p.address}`).join(', ')}`,
        );
        return;
      }
      if (Date.now() > deadline) {
        if (up > 0) {
          this.log(`only ${up} of ${usableNodes(nodes).length} proxies answer; going on`);
          return;
        }
        throw new HotswapError(
          'PROXY_UNAVAILABLE',
          `no hotswap proxy task answered on the Swarm within ${START_TIMEOUT_MS / 1000} s ` +
            `(image ${this.config.image}, control port ${this.config.controlPort}); ` +
            'see `docker service ps` of the proxy service',
        );
      }
      await sleep(500);
    }
  }

  private async refresh(): Promise<void> {
    if (this.refreshing) return;
    this.refreshing = true;
    try {
      const endpoints = await proxyEndpoints(
        this.runtime.api,
        this.runtime.scope,
        this.config.controlPort,
      );
      const joined = this.client.setEndpoints(endpoints);
      if (joined.length > 0) {
        this.log(`proxy joined: ${joined.map((e) => `${e.node} ${e.host}:${e.port}`).join(', ')}`);
        this.onRestarted?.();
      }
    } catch (err) {
      this.log(`cannot list the proxy tasks: ${(err as Error).message}`);
    } finally {
      this.refreshing = false;
    }
  }
}

/** The proxies' control token: made once per home, kept in <home>/proxy-token (0600). */
export function proxyToken(home: string): string {
  const file = join(home, 'proxy-token');
  if (existsSync(file)) return readFileSync(file, 'utf8').trim();
  const token = randomBytes(24).toString('base64url');
  writeFileSync(file, `${token}\n`, { mode: 0o600, flag: 'wx' });
  return token;
}
