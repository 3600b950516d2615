// Just enough of the OCI distribution API to read signatures: manifests and blobs, anonymous or
// with the credentials of ~/.docker/config.json (basic auth, or the bearer-token flow).
import { HotswapError } from '../errors.js';
import { registryAuth } from '../runtime/docker/credentials.js';
import type { ImageRef } from '../spec/image-ref.js';

const TIMEOUT_MS = 10_000;
const MANIFEST_TYPES = [
  'application/vnd.oci.image.manifest.v1+json',
  'application/vnd.docker.distribution.manifest.v2+json',
].join(', ');

export interface RegistryReply {
  status: number;
  body: Buffer;
}

export class RegistryClient {
  private readonly tokens = new Map<string, string>();

  constructor(private readonly configPath?: string) {}

  /** GET a manifest by tag or digest; 404 is a reply, not an error. */
  manifest(ref: ImageRef, reference: string): Promise<RegistryReply> {
    return this.get(ref, `manifests/${reference}`, MANIFEST_TYPES);
  }

  blob(ref: ImageRef, digest: string): Promise<RegistryReply> {
    return this.get(ref, `blobs/${digest}`, '*/*');
  }

  private async get(ref: ImageRef, what: string, accept: string): Promise<RegistryReply> {
    const host = registryHost(ref);
    const url = `${baseUrl(host)}/v2/${ref.path}/${what}`;
    let res = await this.fetch(host, url, accept, this.tokens.get(host));
    if (res.status === 401) {
      const authorization = await this.authorize(host, ref, res.headers.get('www-authenticate'));
      if (authorization) {
        this.tokens.set(host, authorization);
        res = await this.fetch(host, url, accept, authorization);
      }
      if (res.status === 401)
        throw new HotswapError(
          'REGISTRY_UNAVAILABLE',
          `registry ${host} answered 401 for ${ref.path}: ${authorization ? 'the credentials' : 'no credentials'} from ~/.docker/config.json ${authorization ? 'were refused' : 'are stored for it'}`,
        );
    }
    return { status: res.status, body: Buffer.from(await res.arrayBuffer()) };
  }

  private async fetch(host: string, url: string, accept: string, authorization?: string) {
    try {
      return await fetch(url, {
        headers: { accept, ...(authorization ? { authorization } : {}) },
        signal: AbortSignal.timeout(TIMEOUT_MS),
      });
    } catch (err) {
      const cause = (err as { cause?: { code?: string; message?: string } }).cause;
      throw new HotswapError(
        'REGISTRY_UNAVAILABLE',
        `cannot reach registry ${host}: ${cause?.code ?? cause?.message ?? (err as Error).message}`,
        { cause: err },
      );
    }
  }

  /** The Authorization header a 401's challenge asks for, from the stored credentials. */
  private async authorize(
    host: string,
    ref: ImageRef,
    challenge: string | null,
  ): Promise<string | null> {
    const auth = registryAuth(ref.registry, this.configPath);
    const basic = auth
      ? `Basic ${Buffer.from(`${auth.username}:${auth.password}`).toString('base64')}`
      : null;
    if (!challenge || /^basic/i.test(challenge)) return basic;
    const params = Object.fromEntries(
      [...challenge.matchAll(/(\w+)="([^"]*)"/g)].map((m) => [m[1]!.toLowerCase(), m[2]!]),
    );
    if (!params.realm) return basic;
    const q = new URLSearchParams({ scope: `repository:${ref.path}:pull` });
    if (params.service) q.set('service', params.service);
    const res = await this.fetch(
      host,
      `${params.realm}?${q.toString()}`,
      'application/json',
      basic ?? undefined,
    );
    if (!res.ok) return null;
    const body = (await res.json().catch(() => ({}))) as { token?: string; access_token?: string };
    const token = body.token ?? body.access_token;
    return token ? `Bearer ${token}` : null;
  }
}

function registryHost(ref: ImageRef): string {
  return ref.registry ?? 'registry-1.docker.io';
}

/** Loopback registries speak plain HTTP, as the Docker engine assumes for 127.0.0.0/8. */
function baseUrl(host: string): string {
  const name = host.replace(/:\d+$/, '');
  const loopback = name === 'localhost' || name.startsWith('127.') || name === '[::1]';
  return `${loopback ? 'http' : 'https'}://${host}`;
}
