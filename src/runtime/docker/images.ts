// Image endpoints: inspect, list, remove, pull and build (from a tar build context).

import type { Readable } from 'node:stream';
import { HotswapError } from '../../errors.js';
import type { DockerClient } from './client.js';
import { registryAuthHeader, type RegistryAuth } from './credentials.js';
import { labelFilters } from './labels.js';
import type { LabelSelector } from './labels.js';

export interface ImageInspect {
  Id: string;
  RepoTags: string[] | null;
  RepoDigests: string[] | null;
  Created: string;
  Size: number;
  Config: {
    Env?: string[] | null;
    Labels?: Record<string, string> | null;
    ExposedPorts?: Record<string, object> | null;
    Entrypoint?: string[] | null;
    Cmd?: string[] | null;
    Healthcheck?: { Test?: string[]; Interval?: number; Timeout?: number; Retries?: number };
  } | null;
  [key: string]: unknown;
}

export interface ImageSummary {
  Id: string;
  RepoTags: string[] | null;
  RepoDigests: string[] | null;
  Labels: Record<string, string> | null;
  Created: number;
  Size: number;
}

export interface BuildOptions {
  /** Tags for the result, e.g. ["hotswap-fixture:v1"]. */
  tags: string[];
  /** Dockerfile path inside the context; default "Dockerfile". */
  dockerfile?: string;
  labels?: Record<string, string>;
  buildArgs?: Record<string, string>;
  /** Ignore the build cache. */
  noCache?: boolean;
  /** Called with each line of build output. */
  onLine?: (line: string) => void;
  timeoutMs?: number;
  signal?: AbortSignal;
}

interface BuildMessage {
  stream?: string;
  status?: string;
  error?: string;
  errorDetail?: { message?: string };
  aux?: { ID?: string };
}

/** One line of the engine's pull progress, per layer (id) or for the whole image. */
export interface PullEvent {
  status: string;
  id?: string;
  current?: number;
  total?: number;
}

export interface PullOptions {
  /** "registry/repo" as Docker names it, without tag or digest. */
  repository: string;
  /** A tag ("v2") or a digest ("sha256:…"). */
  tagOrDigest: string;
  auth?: RegistryAuth | null;
  onEvent?: (event: PullEvent) => void;
  timeoutMs?: number;
  signal?: AbortSignal;
}

interface PullMessage {
  status?: string;
  id?: string;
  progressDetail?: { current?: number; total?: number };
  error?: string;
  errorDetail?: { message?: string };
}

function imagePath(ref: string): string {
  return ref.split('/').map(encodeURIComponent).join('/');
}

export class ImagesApi {
  constructor(private readonly client: DockerClient) {}

  /** IMAGE_NOT_FOUND when the image is not present locally. */
  async inspect(ref: string): Promise<ImageInspect> {
    return this.client.json<ImageInspect>({
      path: `/images/${imagePath(ref)}/json`,
      notFound: 'IMAGE_NOT_FOUND',
    });
  }

  /** The image, or null when it is not present. */
  async find(ref: string): Promise<ImageInspect | null> {
    try {
      return await this.inspect(ref);
    } catch (err) {
      if (err instanceof HotswapError && err.code === 'IMAGE_NOT_FOUND') return null;
      throw err;
    }
  }

  async list(opts: { labels?: LabelSelector; all?: boolean } = {}): Promise<ImageSummary[]> {
    const filters = opts.labels ? { label: labelFilters(opts.labels) } : undefined;
    return this.client.json<ImageSummary[]>({
      path: '/images/json',
      query: { all: opts.all, filters: filters && JSON.stringify(filters) },
    });
  }

  async remove(ref: string, opts: { force?: boolean; noprune?: boolean } = {}): Promise<void> {
    await this.client.request({
      method: 'DELETE',
      path: `/images/${imagePath(ref)}`,
      query: { force: opts.force, noprune: opts.noprune },
      notFound: 'IMAGE_NOT_FOUND',
    });
  }

  /** Gives an image another name (repo:tag). */
  async tag(ref: string, repo: string, tag: string): Promise<void> {
    await this.client.request({
      method: 'POST',
      path: `/images/${imagePath(ref)}/tag`,
      query: { repo, tag },
      notFound: 'IMAGE_NOT_FOUND',
    });
  }

  /** Pushes repo:tag to its registry; the engine's error line (if any) is thrown as DOCKER_API. */
  async push(repo: string, tag: string, auth?: RegistryAuth | null): Promise<void> {
    const headers: Record<string, string> = {
      // The engine insists on the header, even for a registry that needs no login.
      'x-registry-auth': registryAuthHeader(auth ?? {}),
    };
    const res = await this.client.stream({
      method: 'POST',
      path: `/images/${imagePath(repo)}/push`,
      query: { tag },
      headers,
      notFound: 'IMAGE_NOT_FOUND',
      timeoutMs: 600_000,
    });
    let text = '';
    for await (const chunk of res.body) text += chunk.toString('utf8');
    const error = text
      .split('\n')
      .filter((l) => l.includes('"error"'))
      .map((l) => (JSON.parse(l) as PullMessage).error)[0];
    if (error) throw new HotswapError('DOCKER_API', `push of ${repo}:${tag} failed: ${error}`);
  }

  /**
   * Pulls an image and returns the digest the registry reported ("sha256:…"), or null when the
   * engine did not say. A missing tag or repository is IMAGE_NOT_FOUND; any other failure
   * (registry unreachable, refused credentials) is REGISTRY_UNAVAILABLE with the engine's words.
   */
  async pull(opts: PullOptions): Promise<string | null> {
    const headers: Record<string, string> = {};
    if (opts.auth) headers['x-registry-auth'] = registryAuthHeader(opts.auth);
    const ref = `${opts.repository}${opts.tagOrDigest.includes(':') ? '@' : ':'}${opts.tagOrDigest}`;
    let res;
    try {
      res = await this.client.stream({
        method: 'POST',
        path: '/images/create',
        query: { fromImage: opts.repository, tag: opts.tagOrDigest },
        headers,
        notFound: 'IMAGE_NOT_FOUND',
        timeoutMs: opts.timeoutMs ?? 600_000,
        signal: opts.signal,
      });
    } catch (err) {
      throw pullError(ref, err instanceof HotswapError ? err.message : String(err), err);
    }
    let digest: string | null = null;
    let failure: string | null = null;
    let pending = '';
    const handle = (line: string) => {
      if (!line.trim()) return;
      const msg = JSON.parse(line) as PullMessage;
      if (msg.error) failure = msg.errorDetail?.message ?? msg.error;
      const status = msg.status ?? '';
      const pinned = /^Digest: (sha256:[a-f0-9]{64})/.exec(status);
      if (pinned) digest = pinned[1] ?? null;
      if (status) {
        opts.onEvent?.({
          status,
          id: msg.id,
          current: msg.progressDetail?.current,
          total: msg.progressDetail?.total,
        });
      }
    };
    for await (const chunk of res.body) {
      pending += chunk.toString('utf8');
      const lines = pending.split('\n');
      pending = lines.pop() ?? '';
      lines.forEach(handle);
    }
    handle(pending);
    if (failure !== null) throw pullError(ref, failure);
    return digest;
  }

  /**
   * Builds an image from a tar build context (Buffer or stream) and returns its id.
   * Build failures (a failing step, a bad Dockerfile) throw DOCKER_API with the engine's message.
   */
  async build(context: Buffer | Readable, opts: BuildOptions): Promise<string> {
    const query: Record<string, string | boolean | undefined> = {
      dockerfile: opts.dockerfile,
      rm: true,
      forcerm: true,
      nocache: opts.noCache,
      labels: opts.labels && JSON.stringify(opts.labels),
      buildargs: opts.buildArgs && JSON.stringify(opts.buildArgs),
    };
    const tags = opts.tags.map((t) => `t=${encodeURIComponent(t)}`).join('&');
    const qs = Object.entries(query)
      .filter(([, v]) => v !== undefined)
      .map(([k, v]) => `${k}=${encodeURIComponent(String(v))}`)
      .join('&');
    const res = await this.client.stream({
      method: 'POST',
      path: `/build?${[tags, qs].filter(Boolean).join('&')}`,
      body: context,
      headers: { 'content-type': 'application/x-tar' },
      timeoutMs: opts.timeoutMs ?? 600_000,
      signal: opts.signal,
    });
    const result: { id: string | null; failure: string | null } = { id: null, failure: null };
    let pending = '';
    const handle = (line: string) => {
      if (!line.trim()) return;
      let msg: BuildMessage;
      try {
        msg = JSON.parse(line) as BuildMessage;
      } catch {
        opts.onLine?.(line);
        return;
      }
      if (msg.error) result.failure = msg.errorDetail?.message ?? msg.error;
      if (msg.aux?.ID) result.id = msg.aux.ID;
      const text = (msg.stream ?? msg.status ?? msg.error ?? '').replace(/\n$/, '');
      const built = /^Successfully built ([0-9a-f]+)/.exec(text);
      if (built && !result.id) result.id = built[1] ?? null;
      if (text) for (const l of text.split('\n')) opts.onLine?.(l);
    };
    for await (const chunk of res.body) {
      pending += chunk.toString('utf8');
      const lines = pending.split('\n');
      pending = lines.pop() ?? '';
      lines.forEach(handle);
    }
    handle(pending);
    if (result.failure) {
      throw new HotswapError('DOCKER_API', `image build failed: ${result.failure}`, {
        details: { tags: opts.tags },
      });
    }
    if (!result.id) {
      throw new HotswapError('DOCKER_API', 'image build ended without an image id', {
        details: { tags: opts.tags },
      });
    }
    return result.id;
  }
}

// The engine words a missing tag as "manifest unknown" / "not found"; everything else is the
// registry's or the network's fault.
function pullError(ref: string, message: string, cause?: unknown): HotswapError {
  const missing = /manifest unknown|not found|does not exist|repository name not known/i.test(
    message,
  );
  const unauthorized = /unauthorized|authentication required|denied/i.test(message);
  const hint = missing
    ? 'check the name and tag, and that it was pushed'
    : unauthorized
      ? 'log in with `docker login <registry>` (hotswap reads ~/.docker/config.json)'
      : 'check that the registry is up and reachable from the Docker host';
  return new HotswapError(
    missing ? 'IMAGE_NOT_FOUND' : 'REGISTRY_UNAVAILABLE',
    `cannot pull ${ref}: ${message} (${hint})`,
    { details: { image: ref, reason: message }, cause },
  );
}
