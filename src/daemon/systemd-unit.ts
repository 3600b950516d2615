// The systemd unit that brings a home's daemon back after a reboot (`hotswap daemon install`).
// KillMode=process: stopping or restarting the unit ends the daemon only; the proxy (a child in
// the same cgroup) keeps serving, and the next daemon adopts it. The daemon started this way
// does not refuse to start when dockerd is late: it waits for the engine and catches up.
import { homedir } from 'node:os';
import { join } from 'node:path';
import { defaultHome, homePaths, type HomePaths } from './paths.js';
import { DAEMON_ENV, DAEMON_NODE_FLAGS } from './node-flags.js';

/** The environment the daemon needs to find the engine (and its metrics address), carried into the unit as it is now. */
const CARRIED_ENV = [
  'DOCKER_HOST',
  'DOCKER_TLS_VERIFY',
  'DOCKER_TLS',
  'DOCKER_CERT_PATH',
  'HOTSWAP_METRICS_LISTEN',
];

export interface UnitOptions {
  paths: HomePaths;
  /** node and the CLI's main.js, as absolute paths. */
  node: string;
  main: string;
  /** A user unit (systemctl --user) rather than a system one. */
  user: boolean;
  env?: NodeJS.ProcessEnv;
}

export interface Unit {
  name: string;
  /** Where `daemon install` writes it. */
  path: string;
  text: string;
  /** What to run afterwards, in order. */
  enable: string[];
}

export function systemdUnit(opts: UnitOptions): Unit {
  const { paths, user } = opts;
  const env = opts.env ?? process.env;
  const name =
    paths.home === homePaths(defaultHome()).home
      ? 'hotswap.service'
      : `hotswap-${paths.scope}.service`;
  const dir = user
    ? join(env.XDG_CONFIG_HOME || join(homedir(), '.config'), 'systemd', 'user')
    : '/etc/systemd/system';
  const environment = CARRIED_ENV.filter((k) => env[k]).map(
    (k) => `Environment=${quote(`${k}=${env[k]}`)}`,
  );
  for (const [k, v] of Object.entries(DAEMON_ENV))
    if (!CARRIED_ENV.includes(k)) environment.push(`Environment=${quote(`${k}=${v}`)}`);
  const text = [
    '[Unit]',
    `Description=hotswap daemon (home ${paths.home.replace(/%/g, '%%')})`,
    // Ordering only: the daemon survives a dockerd restart and reconciles when it is back.
    ...(user ? [] : ['After=docker.service network-online.target', 'Wants=docker.service']),
    '',
    '[Service]',
    'Type=simple',
    `ExecStart=${[opts.node, ...DAEMON_NODE_FLAGS, opts.main, 'daemon', '--home', paths.home].map(execWord).join(' ')}`,
    `Environment=${quote(`HOTSWAP_HOME=${paths.home}`)}`,
    ...environment,
    'Restart=always',
    'RestartSec=2',
    // Only the daemon: its proxy keeps serving through a daemon restart, and is adopted.
    'KillMode=process',
    'TimeoutStopSec=30',
    '',
    '[Install]',
    `WantedBy=${user ? 'default.target' : 'multi-user.target'}`,
    '',
  ].join('\n');
  const systemctl = user ? 'systemctl --user' : 'systemctl';
  return {
    name,
    path: join(dir, name),
    text,
    enable: [
      `${systemctl} daemon-reload`,
      `${systemctl} enable --now ${name}`,
      ...(user ? [`loginctl enable-linger ${env.USER ?? '$USER'}`] : []),
    ],
  };
}

/** systemd's quoting: % is a specifier, and a word with spaces or quotes goes in double quotes. */
function quote(word: string): string {
  const w = word.replace(/%/g, '%%');
  if (!/[\s"'\\]/.test(w)) return w;
  return `"${w.replace(/\\/g, '\\\\').replace(/"/g, '\\"')}"`;
}

/** An ExecStart word: quoted, and $ not taken for a variable. */
function execWord(word: string): string {
  return quote(word).replace(/\$/g, '$$$$');
}
