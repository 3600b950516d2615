// The daemon's first look at the Docker engine. A CLI waiting for the daemon wants the engine's
// problem now (an unusable DOCKER_HOST, a stopped dockerd); a daemon started by systemd at boot
// may come up before dockerd and must not die for it.
import type { DockerRuntime } from '../runtime/index.js';
import type { Log } from './log.js';

export async function checkEngine(
  runtime: DockerRuntime,
  required: boolean,
  log: Log,
): Promise<void> {
  try {
    await runtime.ping();
  } catch (err) {
    if (required) throw err;
    log(`the Docker engine does not answer yet: ${(err as Error).message}`);
  }
}
