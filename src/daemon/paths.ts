// Where one hotswap home keeps its sockets, state and logs. Several homes can share one Docker
// engine: the scope label derived from the home keeps their containers apart.
import { createHash } from 'node:crypto';
import { homedir } from 'node:os';
import { join, resolve } from 'node:path';

export interface HomePaths {
  home: string;
  apiSocket: string;
  proxySocket: string;
  routesFile: string;
  dbFile: string;
  daemonLog: string;
  proxyLog: string;
  daemonPid: string;
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
    scope: createHash('sha256').update(abs).digest('hex').slice(0, 8),
  };
}
