// Makes sure a Docker Engine answers on its unix socket: the one helper the demo, the tests and
// CI share. When none answers and this is a root shell on Debian, it installs docker.io (if
// dockerd is missing) and starts dockerd in the background with its log in a file.
//
// Run directly: `node dist/scripts/engine.js` prints the result; exit 0 (engine ready) or 1.

import { spawn, spawnSync } from 'node:child_process';
import { closeSync, existsSync, mkdirSync, openSync, readFileSync, rmSync } from 'node:fs';
import { dirname } from 'node:path';
import { pathToFileURL } from 'node:url';
import { HotswapError, isHotswapError } from '../src/errors.js';
import { DEFAULT_SOCKET_PATH, DockerClient, resolveSocketPath } from '../src/runtime/index.js';

export interface EnsureEngineOptions {
  log?: (line: string) => void;
  /** How long to wait for a dockerd we started; default 60 s. */
  startTimeoutMs?: number;
}

export interface EngineInfo {
  socketPath: string;
  /** True when this call started dockerd. */
  started: boolean;
}

export const DOCKERD_LOG = '/var/log/hotswap-dockerd.log';

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** Null when the engine answers, else the reason it does not. */
async function probe(socketPath: string): Promise<HotswapError | null> {
  const client = new DockerClient({ socketPath });
  try {
    await client.ping({ timeoutMs: 3_000 });
    return null;
  } catch (err) {
    if (isHotswapError(err)) return err;
    return new HotswapError('DOCKER_UNAVAILABLE', String(err), { cause: err });
  } finally {
    await client.close().catch(() => undefined);
  }
}

function hasCommand(cmd: string): boolean {
  return spawnSync('sh', ['-c', `command -v ${cmd}`], { stdio: 'ignore' }).status === 0;
}

function run(cmd: string, args: string[], log: (line: string) => void): void {
  log(`$ ${cmd} ${args.join(' ')}`);
  const res = spawnSync(cmd, args, {
    stdio: ['ignore', 'inherit', 'inherit'],
    env: { ...process.env, DEBIAN_FRONTEND: 'noninteractive' },
  });
  if (res.status !== 0) {
    throw new HotswapError(
      'DOCKER_UNAVAILABLE',
      `\`${cmd} ${args.join(' ')}\` failed (exit ${res.status ?? res.signal}); install Docker ` +
        'by hand (apt-get install docker.io) and start dockerd',
    );
  }
}

function tail(file: string, lines: number): string {
  try {
    return readFileSync(file, 'utf8').trimEnd().split('\n').slice(-lines).join('\n');
  } catch {
    return '';
  }
}

export async function ensureEngine(opts: EnsureEngineOptions = {}): Promise<EngineInfo> {
  const log = opts.log ?? (() => undefined);
  const socketPath = resolveSocketPath();
  const first = await probe(socketPath);
  if (!first) return { socketPath, started: false };

  const reason = (first.details as { reason?: string } | undefined)?.reason ?? first.message;
  if (reason === 'EACCES' || reason === 'EPERM') throw first;

  const isRoot = process.getuid?.() === 0;
  const isDebian = existsSync('/etc/debian_version');
  if (!isRoot || !isDebian) {
    throw new HotswapError(
      'DOCKER_UNAVAILABLE',
      `no Docker Engine answers at ${socketPath} (${reason}). Start one (e.g. \`sudo dockerd\` ` +
        'or `sudo systemctl start docker`), or point DOCKER_HOST=unix:///path/to/docker.sock at ' +
        'a running engine. (hotswap installs and starts it by itself only as root on Debian.)',
      { details: { socketPath } },
    );
  }

  log(`no Docker Engine answers at ${socketPath} (${reason})`);
  if (!hasCommand('dockerd')) {
    log('dockerd is not installed: installing docker.io with apt-get');
    run('apt-get', ['update'], log);
    run('apt-get', ['install', '-y', 'docker.io'], log);
  }

  removeStalePidFile(log);
  mkdirSync(dirname(DOCKERD_LOG), { recursive: true });
  const fd = openSync(DOCKERD_LOG, 'a');
  const args = socketPath === DEFAULT_SOCKET_PATH ? [] : ['--host', `unix://${socketPath}`];
  log(`starting dockerd ${args.join(' ')} (log: ${DOCKERD_LOG})`.replace('  ', ' '));
  const child = spawn('dockerd', args, { detached: true, stdio: ['ignore', fd, fd] });
  closeSync(fd);
  const failure: { error: Error | null } = { error: null };
  child.once('error', (err) => (failure.error = err));
  child.unref();

  const deadline = Date.now() + (opts.startTimeoutMs ?? 60_000);
  for (;;) {
    await sleep(500);
    const err = await probe(socketPath);
    if (!err) {
      log(`dockerd is up (pid ${child.pid}) at ${socketPath}`);
      return { socketPath, started: true };
    }
    const exited = child.exitCode !== null || failure.error !== null;
    if (exited || Date.now() > deadline) {
      const why = failure.error
        ? `could not run dockerd: ${failure.error.message}`
        : exited
          ? `dockerd exited with code ${child.exitCode}`
          : `dockerd did not answer within ${Math.round((opts.startTimeoutMs ?? 60_000) / 1000)} s`;
      throw new HotswapError(
        'DOCKER_UNAVAILABLE',
        `${why}; see ${DOCKERD_LOG}:\n${tail(DOCKERD_LOG, 15)}`,
        { details: { socketPath, log: DOCKERD_LOG } },
      );
    }
  }
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  ensureEngine({ log: (line) => console.log(line) }).then(
    (info) => {
      console.log(
        info.started
          ? `Docker Engine started at ${info.socketPath}`
          : `Docker Engine is running at ${info.socketPath}`,
      );
      process.exit(0);
    },
    (err: unknown) => {
      console.error(err instanceof Error ? err.message : String(err));
      process.exit(1);
    },
  );
}

/**
 * dockerd refuses to start while its pid file names a live process. After a machine's processes
 * were killed (a CI run starts that way) the file stays, and its pid may belong to something else.
 */
function removeStalePidFile(log: (line: string) => void, file = '/var/run/docker.pid'): void {
  if (!existsSync(file)) return;
  const pid = readFileSync(file, 'utf8').trim();
  const comm = existsSync(`/proc/${pid}/comm`)
    ? readFileSync(`/proc/${pid}/comm`, 'utf8').trim()
    : '';
  if (comm === 'dockerd') return;
  log(`removing stale ${file} (pid ${pid} is ${comm ? `"${comm}"` : 'not running'})`);
  rmSync(file, { force: true });
}
