// Private networks of a hotswap home (issue 16): user-defined bridge networks, created and
// labelled by hotswap, refused when a network of the same name exists that hotswap did not create,
// and removed once no container uses them.
import { HotswapError } from '../../errors.js';
import type { DockerClient } from './client.js';
import { LABEL_MANAGED, LABEL_SCOPE } from './labels.js';

/** The spec's name of a network, on every network hotswap creates. */
export const LABEL_NETWORK = 'hotswap.network';

interface NetworkInspect {
  Id: string;
  Name: string;
  Internal: boolean;
  Labels: Record<string, string> | null;
  IPAM: { Config: Array<{ Subnet?: string; Gateway?: string }> | null };
  Containers?: Record<string, unknown> | null;
}

export interface EngineNetwork {
  dockerName: string;
  gateway: string;
  subnet: string;
}

/** The engine's name of a spec network in a home: names of two homes never meet. */
export function dockerNetworkName(scope: string, name: string): string {
  return `hotswap-${scope}-${name}`;
}

export class Networks {
  constructor(
    private readonly client: DockerClient,
    private readonly scope: string,
  ) {}

  /**
   * The network, created when missing. One that exists without this home's labels is refused
   * (CONFLICT): hotswap never adopts a network it did not create. A change of `internal` cannot be
   * made to a network in place, so it is refused too, with what to do.
   */
  async ensure(name: string, internal: boolean): Promise<EngineNetwork> {
    const dockerName = dockerNetworkName(this.scope, name);
    let found = await this.find(dockerName);
    if (found === null) {
      await this.client
        .json({
          method: 'POST',
          path: '/networks/create',
          body: {
            Name: dockerName,
            Driver: 'bridge',
            Internal: internal,
            CheckDuplicate: true,
            Labels: { [LABEL_MANAGED]: 'true', [LABEL_SCOPE]: this.scope, [LABEL_NETWORK]: name },
          },
        })
        .catch(async (err: unknown) => {
          // Created by a concurrent call in the meantime: use it (checked below like any other).
          if ((await this.find(dockerName)) === null) throw err;
        });
      found = await this.find(dockerName);
      if (found === null)
        throw new HotswapError('DOCKER_API', `network ${dockerName} vanished after its creation`);
    }
    this.assertOurs(found, name);
    if (found.Internal !== internal)
      throw new HotswapError(
        'CONFLICT',
        `network "${name}" (${dockerName}) exists with internal: ${found.Internal}; the engine cannot change that in place: run \`hotswap down\` for the services on it, then \`up\` again`,
        { details: { network: name, dockerName } },
      );
    const ipam = (found.IPAM.Config ?? []).find((c) => c.Subnet?.includes('.') && c.Gateway);
    if (!ipam?.Gateway || !ipam.Subnet)
      throw new HotswapError('DOCKER_API', `network ${dockerName} has no IPv4 subnet and gateway`);
    return { dockerName, gateway: ipam.Gateway, subnet: ipam.Subnet };
  }

  /** Removes this home's networks that no container uses, except those in `keep`. */
  async removeUnused(keep: ReadonlySet<string>): Promise<string[]> {
    const filters = JSON.stringify({
      label: [`${LABEL_MANAGED}=true`, `${LABEL_SCOPE}=${this.scope}`],
    });
    const list = await this.client.json<NetworkInspect[]>({
      path: '/networks',
      query: { filters },
    });
    const removed: string[] = [];
    for (const summary of list) {
      if (keep.has(summary.Name)) continue;
      const net = await this.find(summary.Id);
      if (net === null || Object.keys(net.Containers ?? {}).length > 0) continue;
      try {
        await this.client.request({ method: 'DELETE', path: `/networks/${net.Id}` });
        removed.push(net.Name);
      } catch (err) {
        // In use again (a container joined meanwhile) or already gone: left for the next down.
        if (!(err instanceof HotswapError)) throw err;
      }
    }
    return removed;
  }

  /** Connects a created (not yet started) container to a network. */
  async connect(dockerName: string, containerId: string): Promise<void> {
    await this.client.request({
      method: 'POST',
      path: `/networks/${encodeURIComponent(dockerName)}/connect`,
      body: { Container: containerId },
    });
  }

  private assertOurs(net: NetworkInspect, name: string): void {
    const labels = net.Labels ?? {};
    if (labels[LABEL_MANAGED] === 'true' && labels[LABEL_SCOPE] === this.scope) return;
    throw new HotswapError(
      'CONFLICT',
      `network "${name}": a network named ${net.Name} exists that this hotswap home did not create; hotswap never adopts one (remove or rename it, or name the network differently in the spec)`,
      { details: { network: name, dockerName: net.Name } },
    );
  }

  private async find(idOrName: string): Promise<NetworkInspect | null> {
    try {
      return await this.client.json<NetworkInspect>({
        path: `/networks/${encodeURIComponent(idOrName)}`,
      });
    } catch (err) {
      if (err instanceof HotswapError && err.code === 'NOT_FOUND') return null;
      throw err;
    }
  }
}
