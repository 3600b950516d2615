// Image endpoints: inspect, list, remove and build (from a tar build context).

import type { Readable } from 'node:stream';
import { HotswapError } from '../../errors.js';
import type { DockerClient } from './client.js';
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
