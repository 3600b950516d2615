import { InvalidArgumentError, type Command } from 'commander';
import { homePaths, type HomePaths } from '../daemon/paths.js';
import { connect, type ApiClient } from './client.js';
import type { OutputOptions } from './output.js';

export interface GlobalOptions extends OutputOptions {
  home: string | undefined;
}

export function globals(cmd: Command): GlobalOptions {
  const o = cmd.optsWithGlobals<{ json?: boolean; home?: string }>();
  return { json: o.json ?? false, home: o.home };
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
  const api = await connect(paths(cmd), { start });
  try {
    return await fn(api);
  } finally {
    await api.close();
  }
}
