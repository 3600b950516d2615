// `hotswap doctor`: what a host needs before hotswap can run there, each check with what to fix.
// Runs in the CLI process and starts nothing: it must work exactly when the daemon cannot.
import { homeProblem } from '../security/home-safety.js';
import { accessSync, constants, existsSync, statfsSync, statSync } from 'node:fs';
import { createRequire } from 'node:module';
import { createServer } from 'node:net';
import { dirname } from 'node:path';
import { toHotswapError } from '../errors.js';
import type { HomePaths } from '../daemon/paths.js';
import { DockerClient, MIN_API_VERSION } from '../runtime/docker/index.js';
import { parseListen } from '../spec/listen.js';

export type CheckState = 'ok' | 'warn' | 'fail';

export interface CheckResult {
  name: string;
  state: CheckState;
  detail: string;
  /** What to do about a warn or fail. */
  fix?: string;
}

/** Longest path a unix socket address holds on Linux (sun_path is 108 bytes with the NUL). */
const MAX_SOCKET_PATH = 107;
const MIN_FREE_BYTES = 2 * 1024 ** 3;

export async function runChecks(paths: HomePaths, listens: string[]): Promise<CheckResult[]> {
  return [
    checkNode(),
    checkSqlite(),
    await checkEngine(),
    checkHome(paths),
    checkDisk(paths),
    ...(await Promise.all(listens.map(checkPort))),
  ];
}

function checkNode(): CheckResult {
  const [major = 0, minor = 0] = process.versions.node.split('.').map(Number);
  const ok = (major === 20 && minor >= 19) || major >= 22;
  return ok
    ? { name: 'node', state: 'ok', detail: `Node.js ${process.versions.node}` }
    : {
        name: 'node',
        state: 'fail',
        detail: `Node.js ${process.versions.node}`,
        fix: 'install Node.js 20.19 or newer (or 22+)',
      };
}

function checkSqlite(): CheckResult {
  try {
    const Database = createRequire(import.meta.url)('better-sqlite3') as new (f: string) => {
      close(): void;
    };
    new Database(':memory:').close();
    return { name: 'state store', state: 'ok', detail: 'better-sqlite3 loads' };
  } catch (err) {
    return {
      name: 'state store',
      state: 'fail',
      detail: `better-sqlite3 does not load: ${(err as Error).message.split('\n')[0]}`,
      fix: 'reinstall so its native part is built: npm rebuild better-sqlite3 (needs python3, make, g++ without a prebuilt binary)',
    };
  }
}

async function checkEngine(): Promise<CheckResult> {
  let client: DockerClient | undefined;
  try {
    client = new DockerClient({ timeoutMs: 5_000 });
    const v = await client.version();
    const api = await client.negotiate();
    return {
      name: 'docker engine',
      state: 'ok',
      detail: `Docker ${v.Version} at ${client.socketPath}, API ${v.ApiVersion} (hotswap uses ${api}, needs ≥ ${MIN_API_VERSION})`,
    };
  } catch (err) {
    const e = toHotswapError(err);
    return {
      name: 'docker engine',
      state: 'fail',
      detail: e.message,
      fix: 'start the engine (systemctl start docker) or point DOCKER_HOST at it; your user must be able to open the socket (group docker)',
    };
  } finally {
    await client?.close().catch(() => undefined);
  }
}

function checkHome(paths: HomePaths): CheckResult {
  const name = 'home';
  if (paths.apiSocket.length > MAX_SOCKET_PATH) {
    return {
      name,
      state: 'fail',
      detail: `${paths.apiSocket} is ${paths.apiSocket.length} characters; a unix socket path holds at most ${MAX_SOCKET_PATH}`,
      fix: 'use a shorter --home or HOTSWAP_HOME',
    };
  }
  const dir = existsSync(paths.home) ? paths.home : dirname(paths.home);
  try {
    accessSync(dir, constants.W_OK | constants.X_OK);
  } catch {
    return {
      name,
      state: 'fail',
      detail: `${dir} is not writable by you`,
      fix: `chown it to your user or pick another --home`,
    };
  }
  if (!existsSync(paths.home))
    return { name, state: 'ok', detail: `${paths.home} will be created (mode 0700)` };
  // The daemon refuses such a home (src/security/home-safety.ts), so this is a failure.
  const problem = homeProblem(paths.home);
  if (problem) return { name, state: 'fail', ...problem };
  const st = statSync(paths.home);
  return { name, state: 'ok', detail: `${paths.home} (mode ${(st.mode & 0o777).toString(8)})` };
}

function checkDisk(paths: HomePaths): CheckResult {
  let dir = paths.home;
  while (!existsSync(dir) && dirname(dir) !== dir) dir = dirname(dir);
  const fs = statfsSync(dir);
  const free = fs.bavail * fs.bsize;
  const gib = (free / 1024 ** 3).toFixed(1);
  return free >= MIN_FREE_BYTES
    ? { name: 'disk', state: 'ok', detail: `${gib} GiB free under ${dir}` }
    : {
        name: 'disk',
        state: 'warn',
        detail: `only ${gib} GiB free under ${dir}; pulls and logs need room`,
        fix: 'free space, e.g. docker image prune',
      };
}

/** A listener of the spec: free, or already taken (by hotswap's own proxy if it runs). */
async function checkPort(listen: string): Promise<CheckResult> {
  const name = `listen ${listen}`;
  const address = parseListen(listen);
  if (typeof address === 'string')
    return { name, state: 'fail', detail: address, fix: 'fix the spec' };
  const host = address.host.replace(/^\[|\]$/g, '');
  const error = await new Promise<NodeJS.ErrnoException | null>((resolve) => {
    const server = createServer();
    server.once('error', (err) => resolve(err));
    server.listen(address.port, host, () => server.close(() => resolve(null)));
  });
  if (error === null) return { name, state: 'ok', detail: 'free' };
  return {
    name,
    state: 'warn',
    detail: error.code === 'EADDRINUSE' ? 'in use' : `cannot bind: ${error.code ?? error.message}`,
    fix:
      error.code === 'EADDRINUSE'
        ? "fine if hotswap's proxy already serves it (hotswap status); otherwise stop what holds it (ss -ltnp) or change listen"
        : error.code === 'EACCES'
          ? 'ports below 1024 need privileges: pick a port ≥ 1024'
          : 'check the address exists on this host',
  };
}
