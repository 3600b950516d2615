// Where the Docker Engine is, read from the environment the way the docker CLI reads it:
// DOCKER_HOST (unix:// or tcp://), DOCKER_TLS_VERIFY and DOCKER_TLS (TLS on when non-empty),
// DOCKER_CERT_PATH (ca.pem, cert.pem, key.pem; default ~/.docker, files that are missing are
// skipped as the docker CLI does). tcp:// defaults to port 2376 with TLS and 2375 without.
import { readFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';
import type { buildConnector } from 'undici';
import { HotswapError } from '../../errors.js';

export const DEFAULT_SOCKET_PATH = '/var/run/docker.sock';

export interface DockerTls {
  /** DOCKER_TLS_VERIFY: check the engine's certificate (against ca.pem, else the system CAs). */
  verify: boolean;
  certPath: string;
  ca?: Buffer;
  cert?: Buffer;
  key?: Buffer;
}

export type DockerEndpoint =
  | { kind: 'unix'; socketPath: string }
  | { kind: 'tcp'; host: string; port: number; tls: DockerTls | null };

export interface EndpointEnv {
  DOCKER_HOST?: string | undefined;
  DOCKER_TLS_VERIFY?: string | undefined;
  DOCKER_TLS?: string | undefined;
  DOCKER_CERT_PATH?: string | undefined;
}

export function resolveEndpoint(
  env: EndpointEnv = process.env,
  home: string = homedir(),
): DockerEndpoint {
  const host = env.DOCKER_HOST;
  if (!host) return { kind: 'unix', socketPath: DEFAULT_SOCKET_PATH };
  if (host.startsWith('unix://')) {
    const socketPath = host.slice('unix://'.length);
    if (!socketPath) throw unsupported(host, 'it names no socket');
    return { kind: 'unix', socketPath };
  }
  if (!host.startsWith('tcp://')) throw unsupported(host, 'hotswap speaks unix:// and tcp://');
  const tls = resolveTls(env, home);
  let url: URL;
  try {
    url = new URL(`http://${host.slice('tcp://'.length)}`);
  } catch {
    throw unsupported(host, 'it is not tcp://host[:port]');
  }
  if (!url.hostname || (url.pathname !== '/' && url.pathname !== '')) {
    throw unsupported(host, 'it is not tcp://host[:port]');
  }
  const port = url.port ? Number(url.port) : tls ? 2376 : 2375;
  return { kind: 'tcp', host: url.hostname.replace(/^\[(.*)\]$/, '$1'), port, tls };
}

/** How the endpoint is named in messages: the socket path or tcp://host:port. */
export function describeEndpoint(e: DockerEndpoint): string {
  if (e.kind === 'unix') return e.socketPath;
  const host = e.host.includes(':') ? `[${e.host}]` : e.host;
  return `tcp://${host}:${e.port}${e.tls ? ` (TLS${e.tls.verify ? ', verified' : ''})` : ''}`;
}

/** The origin requests go to: any name over a unix socket, the engine itself over TCP. */
export function endpointOrigin(e: DockerEndpoint): string {
  if (e.kind === 'unix') return 'http://localhost';
  const host = e.host.includes(':') ? `[${e.host}]` : e.host;
  return `${e.tls ? 'https' : 'http'}://${host}:${e.port}`;
}

/** undici's connect options for the endpoint. */
export function connectOptions(e: DockerEndpoint): buildConnector.BuildOptions {
  if (e.kind === 'unix') return { socketPath: e.socketPath };
  if (!e.tls) return {};
  const { ca, cert, key, verify } = e.tls;
  return { ca, cert, key, rejectUnauthorized: verify };
}

function resolveTls(env: EndpointEnv, home: string): DockerTls | null {
  const verify = Boolean(env.DOCKER_TLS_VERIFY);
  if (!verify && !env.DOCKER_TLS) return null;
  const certPath = env.DOCKER_CERT_PATH || join(home, '.docker');
  const tls: DockerTls = { verify, certPath };
  for (const [field, file] of [
    ['ca', 'ca.pem'],
    ['cert', 'cert.pem'],
    ['key', 'key.pem'],
  ] as const) {
    const content = readOptional(join(certPath, file));
    if (content) tls[field] = content;
  }
  if (Boolean(tls.cert) !== Boolean(tls.key)) {
    throw new HotswapError(
      'DOCKER_UNAVAILABLE',
      `DOCKER_CERT_PATH=${certPath} has ${tls.cert ? 'cert.pem but no key.pem' : 'key.pem but no cert.pem'}: a client certificate needs both`,
      { details: { certPath } },
    );
  }
  return tls;
}

function readOptional(file: string): Buffer | undefined {
  try {
    return readFileSync(file);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw new HotswapError(
      'DOCKER_UNAVAILABLE',
      `cannot read ${file} (DOCKER_CERT_PATH): ${(err as Error).message}`,
      { details: { file } },
    );
  }
}

function unsupported(host: string, why: string): HotswapError {
  return new HotswapError(
    'DOCKER_UNAVAILABLE',
    `DOCKER_HOST=${host} is not supported: ${why} ` +
      '(use unix:///path/to/docker.sock or tcp://host:port, or unset it)',
    { details: { dockerHost: host } },
  );
}
