// hotswap's proxy on a Swarm (issue 17): one global service, so one proxy task per node, attached
// to the home's overlay network (it reaches the instances' task IPs) with its ports published in
// host mode on each node (the routing mesh needs IPVS, which the lab kernel lacks, and would add
// a hop anyway): the services' listener ports, and a control port that takes calls with a
// bearer token. The token travels as a Swarm secret, mounted in the task as a file.
import { createHash } from 'node:crypto';
import { HotswapError } from '../../errors.js';
import { PROXY_NODE_FLAGS } from '../../proxy/node-flags.js';
import { LABEL_MANAGED, LABEL_SCOPE } from '../docker/labels.js';
import type { PortConfig, ServiceSpec, SwarmApi, SwarmNode, SwarmService } from './api.js';
import { pinnedImage } from './images.js';
import { nameSafe } from './service-spec.js';
import { isDown } from './spread.js';

export const LABEL_ROLE = 'hotswap.role';

export interface ProxyServiceOptions {
  scope: string;
  networkId: string;
  /** An image with node at /usr/local/bin/node and hotswap's dist at /hotswap (scripts/proxy-image.ts). */
  image: string;
  /** Listener ports the services' `listen` use, published on every node. */
  ports: number[];
  controlPort: number;
  token: string;
}

export interface ProxyTaskEndpoint {
  id: string;
  node: string;
  host: string;
  port: number;
}

const TOKEN_FILE = 'hotswap-proxy-token';
/** The image's layout (scripts/proxy-image.ts): ENTRYPOINT node, the project under /hotswap. */
const PROXY_BIN = '/hotswap/dist/src/proxy/bin.js';

export function proxyServiceName(scope: string): string {
  return `hs-${nameSafe(scope).slice(0, 40)}-proxy`;
}

export function proxyServiceSpec(
  opts: ProxyServiceOptions & { secretId: string; secretName: string; image: string },
): ServiceSpec {
  const labels = { [LABEL_MANAGED]: 'true', [LABEL_SCOPE]: opts.scope, [LABEL_ROLE]: 'proxy' };
  const port = (p: number): PortConfig => ({
    Protocol: 'tcp',
    TargetPort: p,
    PublishedPort: p,
    PublishMode: 'host',
  });
  return {
    Name: proxyServiceName(opts.scope),
    Labels: labels,
    TaskTemplate: {
      ContainerSpec: {
        Image: opts.image,
        Labels: labels,
        Args: [
          ...PROXY_NODE_FLAGS,
          PROXY_BIN,
          '--control',
          '/run/hotswap/control.sock',
          '--state',
          '/var/lib/hotswap/routes.json',
          '--control-tcp',
          `0.0.0.0:${opts.controlPort}`,
          '--token-file',
          `/run/secrets/${TOKEN_FILE}`,
        ],
        StopGracePeriod: 30e9,
        // routes.json on a volume of the node: a proxy task that Swarm replaces (its node's
        // engine restarted, say) opens its listeners from it at once, before the controller
        // pushes the routes again.
        Mounts: [
          {
            Type: 'volume',
            Source: `${proxyServiceName(opts.scope)}-state`,
            Target: '/var/lib/hotswap',
            VolumeOptions: { Labels: labels },
          },
        ],
        Secrets: [
          {
            SecretID: opts.secretId,
            SecretName: opts.secretName,
            File: { Name: TOKEN_FILE, UID: '0', GID: '0', Mode: 0o400 },
          },
        ],
      },
      RestartPolicy: { Condition: 'any', Delay: 1e9 },
      Networks: [{ Target: opts.networkId }],
    },
    Mode: { Global: {} },
    // Host ports: a new proxy task can only bind once the old one on that node is gone.
    UpdateConfig: { Parallelism: 1, Order: 'stop-first', Delay: 2e9 },
    EndpointSpec: {
      Mode: 'dnsrr',
      Ports: [...new Set([opts.controlPort, ...opts.ports])].sort((a, b) => a - b).map(port),
    },
  };
}

/** Creates the proxy service, or updates it when its image, ports or token changed. */
export async function ensureProxyService(
  api: SwarmApi,
  opts: ProxyServiceOptions,
): Promise<{ id: string; changed: boolean }> {
  const image = (await pinnedImage(api, opts.image)).id;
  const { secretId, secretName } = await ensureTokenSecret(api, opts.scope, opts.token);
  const spec = proxyServiceSpec({ ...opts, image, secretId, secretName });
  const existing = await findProxyService(api, opts.scope);
  if (existing === null) return { id: await api.createService(spec), changed: true };
  if (sameProxy(existing, spec)) return { id: existing.ID, changed: false };
  await api.updateService(existing.ID, existing.Version.Index, spec);
  return { id: existing.ID, changed: true };
}

export async function findProxyService(api: SwarmApi, scope: string): Promise<SwarmService | null> {
  const list = await api.services({ [LABEL_SCOPE]: scope, [LABEL_ROLE]: 'proxy' });
  return list[0] ?? null;
}

export async function removeProxyService(api: SwarmApi, scope: string): Promise<void> {
  const s = await findProxyService(api, scope);
  if (s) await api.removeService(s.ID).catch(() => undefined);
}

/** Proxy tasks that run on a ready node: where the controller sends its calls. */
export async function proxyEndpoints(
  api: SwarmApi,
  scope: string,
  controlPort: number,
): Promise<ProxyTaskEndpoint[]> {
  const service = await findProxyService(api, scope);
  if (service === null) return [];
  const [tasks, nodes] = await Promise.all([api.tasks({ service: [service.ID] }), api.nodes()]);
  const byId = new Map<string, SwarmNode>(nodes.map((n) => [n.ID, n]));
  return tasks.flatMap((t) => {
    const node = t.NodeID ? byId.get(t.NodeID) : undefined;
    const host = node?.Status.Addr;
    if (t.Status.State !== 'running' || t.DesiredState !== 'running') return [];
    if (!node || isDown(node) || !host) return [];
    return [{ id: t.ID, node: node.Description?.Hostname ?? node.ID, host, port: controlPort }];
  });
}

/** Secrets cannot change: a new token is a new secret, named by its hash. */
async function ensureTokenSecret(
  api: SwarmApi,
  scope: string,
  token: string,
): Promise<{ secretId: string; secretName: string }> {
  const hash = createHash('sha256').update(token).digest('hex').slice(0, 12);
  const secretName = `hs-${nameSafe(scope).slice(0, 30)}-proxy-token-${hash}`;
  const found = await api.secretId(secretName);
  if (found !== null) return { secretId: found, secretName };
  try {
    const id = await api.createSecret(secretName, token, {
      [LABEL_MANAGED]: 'true',
      [LABEL_SCOPE]: scope,
    });
    return { secretId: id, secretName };
  } catch (err) {
    const again = await api.secretId(secretName);
    if (again !== null) return { secretId: again, secretName };
    throw new HotswapError('DOCKER_API', `cannot create the proxy token secret: ${String(err)}`);
  }
}

function sameProxy(existing: SwarmService, spec: ServiceSpec): boolean {
  const a = existing.Spec;
  const ports = (s: ServiceSpec) =>
    JSON.stringify(s.EndpointSpec?.Ports?.map((p) => p.PublishedPort));
  return (
    a.TaskTemplate.ContainerSpec.Image === spec.TaskTemplate.ContainerSpec.Image &&
    JSON.stringify(a.TaskTemplate.ContainerSpec.Args) ===
      JSON.stringify(spec.TaskTemplate.ContainerSpec.Args) &&
    a.TaskTemplate.ContainerSpec.Secrets?.[0]?.SecretName ===
      spec.TaskTemplate.ContainerSpec.Secrets?.[0]?.SecretName &&
    ports(a) === ports(spec)
  );
}
