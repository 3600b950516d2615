// Where one hotswap home keeps its sockets, state and logs. Several homes can share one Docker
// engine: the scope label derived from the home keeps their containers apart.
import { createHash } from 'node:crypto';
import { homedir } from 'node:os';
import { join, resolve } from 'node:path';
import { HotswapError } from '../errors.js';

export interface HomePaths {
  home: string;
  apiSocket: string;
  proxySocket: string;
  routesFile: string;
  dbFile: string;
  daemonLog: string;
  proxyLog: string;
  daemonPid: string;
  /** The proxy's pid as the daemon last saw it: a hung proxy found at start can be killed. */
  proxyPid: string;
  /** Held (an exclusive SQLite lock) by the one daemon of this home: see home-lock.ts. */
  lockFile: string;
  scope: string;
}

export function defaultHome(): string {
  return process.env.HOTSWAP_HOME ?? join(homedir(), '.hotswap');
}

export function homePaths(home = defaultHome()): HomePaths {
  const abs = resolve(home);
  return {
    home: abs,
    apiSocket: join(abs, 'hotswap.sock'),
    proxySocket: join(abs, 'proxy.sock'),
    routesFile: join(abs, 'routes.json'),
    dbFile: join(abs, 'hotswap.db'),
    daemonLog: join(abs, 'daemon.log'),
    proxyLog: join(abs, 'proxy.log'),
    daemonPid: join(abs, 'daemon.pid'),
    proxyPid: join(abs, 'proxy.pid'),
    lockFile: join(abs, 'daemon.lock'),
    scope: createHash('sha256').update(abs).digest('hex').slice(0, 8),
  };
}

/** sun_path holds 108 bytes on Linux (104 on macOS), the terminating NUL included. */
export const MAX_SOCKET_PATH_BYTES = process.platform === 'linux' ? 107 : 103;
/** The longest socket the home will hold: the proxy's control socket bound aside (7-digit pid). */
const LONGEST_SOCKET_NAME = '.ctl-4194304.sock';

/**
 * Refuses a home whose sockets could not be bound, before anything starts: the kernel's error
 * (EINVAL or a silently truncated path) would otherwise surface late and obscurely.
 */
export function checkSocketPaths(paths: HomePaths): void {
  const longest = join(paths.home, LONGEST_SOCKET_NAME);
  const bytes = Buffer.byteLength(longest);
  if (bytes <= MAX_SOCKET_PATH_BYTES) return;
  throw new HotswapError(
    'USAGE',
    `the home ${paths.home} is too long: its unix sockets (such as ${longest}, ${bytes} bytes) ` +
      `exceed the system's limit of ${MAX_SOCKET_PATH_BYTES} bytes; choose a home of at most ` +
      `${MAX_SOCKET_PATH_BYTES - (bytes - Buffer.byteLength(paths.home))} bytes (--home or HOTSWAP_HOME)`,
    { details: { home: paths.home, socket: longest, bytes, limit: MAX_SOCKET_PATH_BYTES } },
  );
}
