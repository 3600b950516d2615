import { InvalidArgumentError, type Command } from 'commander';
import { homePaths, type HomePaths } from '../daemon/paths.js';
import { ApiClient, connect } from './client.js';
import { remoteTarget, type RemoteFlags } from './remote.js';
import type { OutputOptions } from './output.js';

export interface GlobalOptions extends OutputOptions {
  home: string | undefined;
  remote: RemoteFlags;
}

export function globals(cmd: Command): GlobalOptions {
  const o = cmd.optsWithGlobals<{ json?: boolean; home?: string } & RemoteFlags>();
  return {
    json: o.json ?? false,
    home: o.home,
    remote: { host: o.host, token: o.token, fingerprint: o.fingerprint, ca: o.ca },
  };
}

/** A client for the command's daemon (local socket, or --host), without starting one. */
export function apiClient(cmd: Command): ApiClient {
  return new ApiClient(paths(cmd), remoteTarget(globals(cmd).remote));
}

export function paths(cmd: Command): HomePaths {
  return homePaths(globals(cmd).home);
}

/** withApi's `start` for verbs that only read: they never start a daemon (see noDaemon). */
export const READ_ONLY = false;

/** Commander parser of a non-negative integer flag: `-n abc` is a usage error (exit 2). */
export function count(value: string): number {
  if (!/^\d+$/.test(value)) throw new InvalidArgumentError('expected a non-negative integer.');
  return Number(value);
}

/** Opens an API client for the command's home, runs fn, and always closes the client. */
export async function withApi<T>(
  cmd: Command,
  fn: (api: ApiClient) => Promise<T>,
  start = true,
): Promise<T> {
  const api = await connect(paths(cmd), { start, remote: remoteTarget(globals(cmd).remote) });
  try {
    return await fn(api);
  } finally {
    await api.close();
  }
}
