// Registry credentials as the docker CLI stores them after `docker login`: ~/.docker/config.json
// (or $DOCKER_CONFIG/config.json), "auths" keyed by registry, each with a base64 "user:password"
// or separate username and password. Credential helpers (credsStore) are not run: hotswap does
// not execute other programs for secrets; say so instead of failing with a bare 401.
import { readFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';

export interface RegistryAuth {
  username: string;
  password: string;
  serveraddress: string;
}

interface DockerConfig {
  auths?: Record<string, { auth?: string; username?: string; password?: string }>;
  credsStore?: string;
  credHelpers?: Record<string, string>;
}

export function dockerConfigPath(env: NodeJS.ProcessEnv = process.env): string {
  return join(env.DOCKER_CONFIG ?? join(homedir(), '.docker'), 'config.json');
}

/** The credentials for a registry ("127.0.0.1:5000", or null for Docker Hub), if any are stored. */
export function registryAuth(
  registry: string | null,
  configPath = dockerConfigPath(),
): RegistryAuth | null {
  let config: DockerConfig;
  try {
    config = JSON.parse(readFileSync(configPath, 'utf8')) as DockerConfig;
  } catch {
    return null; // no file, or not ours to judge: pulls go anonymous
  }
  const server = registry ?? 'https://index.docker.io/v1/';
  const entry = findEntry(config.auths ?? {}, server);
  if (!entry) return null;
  const { username, password } = entry.auth ? decode(entry.auth) : entry;
  if (!username || password === undefined) return null;
  return { username, password, serveraddress: server };
}

/** Whether the config sends credentials through a helper program hotswap does not run. */
export function usesCredentialHelper(
  registry: string | null,
  configPath = dockerConfigPath(),
): boolean {
  try {
    const config = JSON.parse(readFileSync(configPath, 'utf8')) as DockerConfig;
    return Boolean(config.credsStore || (registry && config.credHelpers?.[registry]));
  } catch {
    return false;
  }
}

/** The X-Registry-Auth header value the Engine API expects: base64url JSON, with padding. */
export function registryAuthHeader(auth: RegistryAuth | Record<string, never>): string {
  // Engines before API 1.44 decode with Go's padded URL encoding: Node's base64url drops the "=".
  return Buffer.from(JSON.stringify(auth))
    .toString('base64')
    .replace(/\+/g, '-')
    .replace(/\//g, '_');
}

// The docker CLI writes keys as "host:port", sometimes with a scheme or a /v1/ or /v2/ suffix.
function findEntry(auths: NonNullable<DockerConfig['auths']>, server: string) {
  const bare = (key: string) => key.replace(/^https?:\/\//, '').replace(/\/(v1|v2)?\/?$/, '');
  return auths[server] ?? Object.entries(auths).find(([key]) => bare(key) === bare(server))?.[1];
}

function decode(auth: string): { username?: string; password?: string } {
  const text = Buffer.from(auth, 'base64').toString('utf8');
  const colon = text.indexOf(':');
  return colon < 0 ? {} : { username: text.slice(0, colon), password: text.slice(colon + 1) };
}
