// The CLI's only way to the daemon: HTTP over the daemon's unix socket. Starts the daemon when
// none answers, so `hotswap up` works on a fresh machine without a service manager.
import { spawn } from 'node:child_process';
import { closeSync, existsSync, fstatSync, mkdirSync, openSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { setTimeout as sleep } from 'node:timers/promises';
import { Client } from 'undici';
import type { StreamLine } from '../api/index.js';
import { errorFromJSON, HotswapError } from '../errors.js';
import { checkSocketPaths, type HomePaths } from '../daemon/paths.js';
import { START_REPORT_ENV, waitForStart, type StartOutcome } from '../daemon/start-channel.js';
import { DAEMON_ENV, DAEMON_NODE_FLAGS } from '../daemon/node-flags.js';
import { explainTlsError, remoteConnector, type RemoteTarget } from './remote.js';
import { assertSafeHome } from '../security/home-safety.js';

const MAIN = fileURLToPath(new URL('./main.js', import.meta.url));
const DAEMON_START_TIMEOUT_MS = 20_000;

export class ApiClient {
  private readonly client: Client;

  constructor(
    readonly paths: HomePaths,
    readonly remote: RemoteTarget | null = null,
  ) {
    this.client = remote
      ? new Client(remote.url, {
          connect: remoteConnector(remote),
          bodyTimeout: 0,
          headersTimeout: 0,
        })
      : new Client('http://hotswap', {
          socketPath: paths.apiSocket,
          bodyTimeout: 0,
          headersTimeout: 0,
        });
  }

  /** Where this client talks to, for messages. */
  get where(): string {
    return this.remote?.url ?? this.paths.apiSocket;
  }

  async close(): Promise<void> {
    await this.client.close();
  }

  async json<T>(method: 'GET' | 'POST', path: string, body?: unknown): Promise<T> {
    const res = await this.send(method, path, body);
    const payload = await res.body.json();
    if (res.statusCode >= 400) throw errorFromJSON(payload);
    return payload as T;
  }

  /** Runs a long operation and hands each progress line to onLine; returns the result line's value. */
  async stream<T>(path: string, body: unknown, onLine: (line: StreamLine) => void): Promise<T> {
    // Ctrl-C ends this CLI, not the operation: the daemon goes on, and says so in the journal.
    process.once('SIGINT', interrupted);
    try {
      return await this.streamLines<T>(path, body, onLine);
    } finally {
      process.off('SIGINT', interrupted);
    }
  }

  private async streamLines<T>(
    path: string,
    body: unknown,
    onLine: (line: StreamLine) => void,
  ): Promise<T> {
    const res = await this.send('POST', path, body);
    if (res.statusCode >= 400) throw errorFromJSON(await res.body.json());
    let buffered = '';
    let final: StreamLine | null = null;
    for await (const chunk of res.body) {
      buffered += (chunk as Buffer).toString('utf8');
      let nl: number;
      while ((nl = buffered.indexOf('\n')) >= 0) {
        const line = JSON.parse(buffered.slice(0, nl)) as StreamLine;
        buffered = buffered.slice(nl + 1);
        onLine(line);
        if (line.type !== 'progress') final = line;
      }
    }
    if (!final)
      throw new HotswapError(
        'DAEMON_UNAVAILABLE',
        'the daemon closed the stream before the operation ended',
      );
    if (final.type === 'error') throw errorFromJSON(final.error);
    return (final as { result: T }).result;
  }

  async healthy(): Promise<boolean> {
    try {
      await this.json('GET', '/v1/health');
      return true;
    } catch {
      return false;
    }
  }

  private async send(method: string, path: string, body: unknown) {
    try {
      return await this.client.request({
        method: method,
        path,
        headers: {
          ...(body === undefined ? {} : { 'content-type': 'application/json' }),
          ...(this.remote?.token ? { authorization: `Bearer ${this.remote.token}` } : {}),
        },
        body: body === undefined ? null : JSON.stringify(body),
      });
    } catch (err) {
      if (err instanceof HotswapError) throw err;
      const code = (err as { code?: string }).code;
      if (code === 'ECONNREFUSED' || code === 'ENOENT') {
        throw new HotswapError('DAEMON_UNAVAILABLE', `no hotswap daemon answers on ${this.where}`, {
          cause: err,
        });
      }
      if (this.remote) throw explainTlsError(err, this.remote.url) ?? err;
      throw err;
    }
  }
}

function interrupted(): void {
  process.stderr.write(
    '\nhotswap: interrupted; the daemon goes on with the operation. ' +
      '`hotswap rollout status <service> --watch` follows it, `hotswap abort <service>` stops it.\n',
  );
  process.exit(130);
}

/** Connects to the daemon of this home, starting one in the background if none answers. */
export async function connect(
  paths: HomePaths,
  opts: { start: boolean; remote?: RemoteTarget | null } = { start: true },
): Promise<ApiClient> {
  const client = new ApiClient(paths, opts.remote ?? null);
  if (client.remote) {
    // A remote daemon is never started from here; its errors (TLS, pin) are shown as they are.
    await client.json('GET', '/v1/health');
    return client;
  }
  if (await client.healthy()) return client;
  if (!opts.start) {
    await client.close();
    throw noDaemon(paths);
  }
  checkSocketPaths(paths);
  // The daemon refuses an unsafe home too; say so before starting one. A new home is made 0700.
  if (existsSync(paths.home)) assertSafeHome(paths.home);
  const outcome = await startDaemon(paths);
  // Started: it answers already. Lost the race to another starter: wait for the winner.
  const deadline = Date.now() + (outcome === 'started' ? 2_000 : DAEMON_START_TIMEOUT_MS);
  while (!(await client.healthy())) {
    if (Date.now() > deadline) {
      await client.close();
      throw new HotswapError(
        'DAEMON_UNAVAILABLE',
        `the daemon of ${paths.home} does not answer on ${paths.apiSocket}; see ${paths.daemonLog}`,
      );
    }
    await sleep(50);
  }
  return client;
}

/** What a verb that only reads (or acts on a running rollout) says when no daemon runs. */
export function noDaemon(paths: HomePaths): HotswapError {
  return new HotswapError(
    'DAEMON_UNAVAILABLE',
    `no hotswap daemon is running for ${paths.home} (nothing to show or act on; ` +
      '`hotswap up` starts one)',
    { details: { home: paths.home, running: false } },
  );
}

async function startDaemon(paths: HomePaths): Promise<StartOutcome> {
  mkdirSync(paths.home, { recursive: true, mode: 0o700 });
  const log = openSync(paths.daemonLog, 'a');
  const logOffset = fstatSync(log).size;
  const child = spawn(
    process.execPath,
    [...DAEMON_NODE_FLAGS, MAIN, 'daemon', '--home', paths.home],
    {
      detached: true,
      stdio: ['ignore', log, log, 'ipc'],
      env: { ...DAEMON_ENV, ...process.env, [START_REPORT_ENV]: '1' },
    },
  );
  closeSync(log);
  return waitForStart(child, {
    timeoutMs: DAEMON_START_TIMEOUT_MS,
    logFile: paths.daemonLog,
    logOffset,
  });
}
