// The Swarm backend drives the cluster through one manager: a daemon pointed at an engine that
// is not in a Swarm, or at a worker, stops at start with what to do.
import { HotswapError } from '../../errors.js';
import type { SwarmApi } from './api.js';

export async function assertManager(api: SwarmApi, engine: string): Promise<void> {
  const swarm = (await api.info()).Swarm;
  const state = swarm?.LocalNodeState ?? 'inactive';
  if (state !== 'active') {
    throw new HotswapError(
      'DOCKER_UNAVAILABLE',
      `runtime swarm: the engine at ${engine} is not part of an active Swarm (state ${state}` +
        `${swarm?.Error ? `: ${swarm.Error}` : ''}); run \`docker swarm init\` there, or set ` +
        'runtime.host in config.yaml to a manager of the cluster',
      { details: { engine, state } },
    );
  }
  if (!swarm?.ControlAvailable) {
    throw new HotswapError(
      'DOCKER_UNAVAILABLE',
      `runtime swarm: the engine at ${engine} is a Swarm worker, not a manager; set ` +
        'runtime.host in config.yaml to a manager (docker node ls shows them)',
      { details: { engine, state: 'worker' } },
    );
  }
}
