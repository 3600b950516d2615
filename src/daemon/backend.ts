// The runtime backend the daemon drives, chosen by config.yaml's `runtime` (issue 17): the local
// Docker engine with one proxy process beside the daemon, or a Swarm (through one manager) with
// a proxy task on every node. The controller gets a Runtime and a Router either way.
import type { RuntimeEvent } from '../controller/index.js';
import type { ProxyHealth } from '../proxy/index.js';
import {
  DockerClient,
  DockerRuntime,
  LABEL_SERVICE,
  SwarmRuntime,
  detectCheckpointSupport,
  resolveEndpoint,
  type CheckpointSupport,
  type Runtime,
} from '../runtime/index.js';
import type { RuntimeConfig, SwarmRuntimeConfig } from '../security/index.js';
import type { AnsweringRouter } from '../tls/acme-router.js';
import { ClusterProxies } from './cluster-proxies.js';
import { checkEngine } from './engine-check.js';
import type { Log } from './log.js';
import type { HomePaths } from './paths.js';
import { ProxySupervisor } from './proxy-supervisor.js';

/** What the API and the daemon need of the proxies, whatever runs them. */
export interface ProxyPlane {
  readonly client: AnsweringRouter & {
    health(): Promise<ProxyHealth>;
    metricsText(): Promise<string>;
  };
  upgrade(): Promise<{ oldPid: number; newPid: number; ms: number }>;
  stop(opts: { shutdownProxy: boolean }): Promise<void>;
  onRestarted: (() => void) | null;
}

export interface Backend {
  runtime: Runtime;
  proxy: ProxyPlane;
  events?: (signal: AbortSignal) => AsyncIterable<RuntimeEvent>;
  checkpoint: Promise<CheckpointSupport>;
  describe: string;
}

export async function openBackend(
  config: RuntimeConfig,
  paths: HomePaths,
  requireEngine: boolean,
  log: Log,
): Promise<Backend> {
  if (config.type === 'swarm') return openSwarm(config, paths, log);
  const runtime = new DockerRuntime({ scope: paths.scope });
  await checkEngine(runtime, requireEngine, log);
  const proxy = new ProxySupervisor(paths, log);
  await proxy.start();
  return {
    runtime,
    proxy,
    events: (signal) => containerEvents(runtime, signal),
    checkpoint: detectCheckpointSupport(runtime.client),
    describe: `docker engine ${runtime.client.socketPath}`,
  };
}

/**
 * A Swarm that is not initialised, or a worker instead of a manager, stops the daemon here with
 * what to do; so does a proxy service that never answers.
 */
async function openSwarm(config: SwarmRuntimeConfig, paths: HomePaths, log: Log): Promise<Backend> {
  const client = new DockerClient({ endpoint: resolveEndpoint({ DOCKER_HOST: config.host }) });
  const runtime = new SwarmRuntime({
    client,
    scope: paths.scope,
    ...(config.network ? { network: config.network } : {}),
  });
  await runtime.ping();
  const proxy = new ClusterProxies(runtime, config.proxy, paths.home, log);
  // Probes of overlay addresses run on a proxy, which is attached to the overlay.
  runtime.reach = (check, address, timeoutMs) => proxy.client.probe(check, address, timeoutMs);
  await proxy.start();
  return {
    runtime,
    proxy,
    checkpoint: Promise.resolve({ supported: false, reason: 'not on the Swarm backend' }),
    describe: `swarm manager ${client.socketPath}, overlay ${runtime.networkName}`,
  };
}

/** Container events of this home, reduced to what the reconcile loop needs. */
async function* containerEvents(
  runtime: DockerRuntime,
  signal: AbortSignal,
): AsyncGenerator<RuntimeEvent> {
  for await (const e of runtime.events({ signal }))
    yield { service: e.Actor.Attributes[LABEL_SERVICE] ?? null, action: e.Action, id: e.Actor.ID };
}
