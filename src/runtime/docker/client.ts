// Transport to the Docker Engine API over its unix socket (undici), with API version negotiation
// and one mapping of failures to HotswapError codes. The endpoint groups (containers, images,
// exec, events) live in their own files and are reached through the DockerClient instance.

import type { Readable } from 'node:stream';
import { Agent } from 'undici';
import type { Dispatcher } from 'undici';
import { HotswapError } from '../../errors.js';
import type { ErrorCode } from '../../errors.js';
import { ContainersApi } from './containers.js';
import { EventsApi } from './events.js';
import { ExecApi } from './exec.js';
import { ImagesApi } from './images.js';
import {
  DEFAULT_SOCKET_PATH,
  connectOptions,
  describeEndpoint,
  endpointOrigin,
  resolveEndpoint,
  type DockerEndpoint,
} from './endpoint.js';

export { DEFAULT_SOCKET_PATH };

/** Oldest Engine API hotswap accepts (Docker 20.10). */
export const MIN_API_VERSION = '1.41';
/** Newest Engine API hotswap speaks (Docker 24); newer engines are driven at this version. */
export const MAX_API_VERSION = '1.43';

/** The socket named by DOCKER_HOST (unix://) or the default one; other endpoints throw. */
export function resolveSocketPath(env: NodeJS.ProcessEnv = process.env): string {
  const endpoint = resolveEndpoint(env);
  if (endpoint.kind === 'unix') return endpoint.socketPath;
  throw new HotswapError(
    'DOCKER_UNAVAILABLE',
    `DOCKER_HOST=${env.DOCKER_HOST} is a TCP engine; this needs a local engine's unix socket`,
  );
}

/** Compares dotted API versions numerically: -1, 0 or 1. */
export function compareApiVersions(a: string, b: string): number {
  const pa = a.split('.').map(Number);
  const pb = b.split('.').map(Number);
  for (let i = 0; i < Math.max(pa.length, pb.length); i++) {
    const d = (pa[i] ?? 0) - (pb[i] ?? 0);
    if (d !== 0) return d < 0 ? -1 : 1;
  }
  return 0;
}

export interface DockerVersion {
  Version: string;
  ApiVersion: string;
  MinAPIVersion?: string;
  Os: string;
  Arch: string;
  KernelVersion?: string;
  [key: string]: unknown;
}

export interface DockerClientOptions {
  /** Engine socket; default: the endpoint of the environment (see endpoint.ts). */
  socketPath?: string;
  /** Engine endpoint (unix or tcp, with TLS); socketPath wins when both are given. */
  endpoint?: DockerEndpoint;
  /** Default wait for response headers and between body chunks; default 60 s. */
  timeoutMs?: number;
}

export type QueryValue = string | number | boolean | undefined | null;

export interface RequestOptions {
  method?: Dispatcher.HttpMethod;
  /** Path without the /v1.xx prefix, e.g. /containers/json. */
  path: string;
  query?: Record<string, QueryValue>;
  /** A plain value is sent as JSON; Buffer/Uint8Array/Readable are sent as is. */
  body?: unknown;
  headers?: Record<string, string>;
  /** Statuses besides 2xx that are not errors (e.g. 304 from stop). */
  accept?: number[];
  /** Error code for a 404: NOT_FOUND (default) or IMAGE_NOT_FOUND. */
  notFound?: 'NOT_FOUND' | 'IMAGE_NOT_FOUND';
  /** Wait for headers (and between body chunks unless streaming). */
  timeoutMs?: number;
  signal?: AbortSignal;
  /** Skip the /v1.xx prefix (for /_ping and /version). */
  unversioned?: boolean;
}

export interface BufferedResponse {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: Buffer;
}

export interface StreamResponse {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: Readable & AsyncIterable<Buffer>;
}

const UNAVAILABLE_CODES = new Set([
  'ENOENT',
  'ECONNREFUSED',
  'EACCES',
  'EPERM',
  'ENOTSOCK',
  'ECONNRESET',
  'EPIPE',
  'UND_ERR_SOCKET',
  'UND_ERR_CLOSED',
  'UND_ERR_DESTROYED',
  // tcp:// endpoints
  'ENOTFOUND',
  'EAI_AGAIN',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'ETIMEDOUT',
]);
const TLS_CODES = new Set([
  'EPROTO',
  'ERR_SSL_WRONG_VERSION_NUMBER',
  'DEPTH_ZERO_SELF_SIGNED_CERT',
  'SELF_SIGNED_CERT_IN_CHAIN',
  'UNABLE_TO_VERIFY_LEAF_SIGNATURE',
  'UNABLE_TO_GET_ISSUER_CERT_LOCALLY',
  'CERT_HAS_EXPIRED',
  'ERR_TLS_CERT_ALTNAME_INVALID',
]);
for (const code of TLS_CODES) UNAVAILABLE_CODES.add(code);
const TIMEOUT_CODES = new Set([
  'UND_ERR_HEADERS_TIMEOUT',
  'UND_ERR_BODY_TIMEOUT',
  'UND_ERR_CONNECT_TIMEOUT',
]);

export class DockerClient {
  /** The engine as named in messages: its socket path, or tcp://host:port. */
  readonly socketPath: string;
  readonly endpoint: DockerEndpoint;
  private readonly origin: string;
  readonly containers: ContainersApi;
  readonly images: ImagesApi;
  readonly exec: ExecApi;
  readonly events: EventsApi;
  private readonly agent: Agent;
  private readonly timeoutMs: number;
  private negotiated: Promise<string> | null = null;
  private version_: string | null = null;

  constructor(opts: DockerClientOptions = {}) {
    this.endpoint = opts.socketPath
      ? { kind: 'unix', socketPath: opts.socketPath }
      : (opts.endpoint ?? resolveEndpoint());
    this.socketPath = describeEndpoint(this.endpoint);
    this.origin = endpointOrigin(this.endpoint);
    this.timeoutMs = opts.timeoutMs ?? 60_000;
    this.agent = new Agent({ connect: connectOptions(this.endpoint), keepAliveTimeout: 4_000 });
    this.containers = new ContainersApi(this);
    this.images = new ImagesApi(this);
    this.exec = new ExecApi(this);
    this.events = new EventsApi(this);
  }

  /** The negotiated API version ("1.41"), or null before the first request. */
  get apiVersion(): string | null {
    return this.version_;
  }

  /** GET /_ping; DOCKER_UNAVAILABLE when the engine cannot be reached. */
  async ping(opts: { timeoutMs?: number } = {}): Promise<void> {
    await this.request({ path: '/_ping', unversioned: true, timeoutMs: opts.timeoutMs ?? 5_000 });
  }

  async version(): Promise<DockerVersion> {
    return this.json<DockerVersion>({ path: '/version', unversioned: true });
  }

  /**
   * Picks min(engine ApiVersion, MAX_API_VERSION) and refuses engines older than
   * MIN_API_VERSION. Runs once; every versioned request waits for it.
   */
  negotiate(): Promise<string> {
    this.negotiated ??= (async () => {
      const v = await this.version();
      const server = String(v.ApiVersion ?? '');
      if (!/^\d+\.\d+$/.test(server)) {
        throw new HotswapError(
          'DOCKER_API',
          `engine reported an unreadable API version "${server}"`,
        );
      }
      if (compareApiVersions(server, MIN_API_VERSION) < 0) {
        throw new HotswapError(
          'DOCKER_UNAVAILABLE',
          `Docker Engine ${v.Version} speaks API ${server}; hotswap needs API ${MIN_API_VERSION} ` +
            'or newer (Docker 20.10+): upgrade the engine',
          { details: { serverApiVersion: server, minApiVersion: MIN_API_VERSION } },
        );
      }
      const chosen = compareApiVersions(server, MAX_API_VERSION) > 0 ? MAX_API_VERSION : server;
      this.version_ = chosen;
      return chosen;
    })();
    this.negotiated.catch(() => {
      this.negotiated = null; // let a later call try again (engine may come up)
    });
    return this.negotiated;
  }

  /** One request, whole body read; non-accepted statuses throw. */
  async request(opts: RequestOptions): Promise<BufferedResponse> {
    const res = await this.send(opts, false);
    let body: Buffer;
    try {
      body = Buffer.from(await res.body.arrayBuffer());
    } catch (err) {
      throw mapTransportError(err, this.socketPath, opts);
    }
    return { status: res.statusCode, headers: res.headers, body };
  }

  async json<T>(opts: RequestOptions): Promise<T> {
    const res = await this.request(opts);
    if (res.body.length === 0) return undefined as T;
    return JSON.parse(res.body.toString('utf8')) as T;
  }

  /** One request whose body the caller reads as a stream (no body timeout). */
  async stream(opts: RequestOptions): Promise<StreamResponse> {
    const res = await this.send(opts, true);
    return {
      status: res.statusCode,
      headers: res.headers,
      body: res.body as unknown as Readable & AsyncIterable<Buffer>,
    };
  }

  async close(): Promise<void> {
    await this.agent.close();
  }

  private async send(opts: RequestOptions, streaming: boolean): Promise<Dispatcher.ResponseData> {
    const prefix = opts.unversioned ? '' : `/v${await this.negotiate()}`;
    const path = prefix + opts.path + queryString(opts.query);
    const method = opts.method ?? 'GET';
    const headers: Record<string, string> = { ...opts.headers };
    let body: Dispatcher.DispatchOptions['body'] = null;
    if (opts.body !== undefined) {
      if (Buffer.isBuffer(opts.body) || opts.body instanceof Uint8Array || isReadable(opts.body)) {
        body = opts.body;
      } else {
        body = JSON.stringify(opts.body);
        headers['content-type'] ??= 'application/json';
      }
    }
    const timeout = opts.timeoutMs ?? this.timeoutMs;
    let res: Dispatcher.ResponseData;
    try {
      res = await this.agent.request({
        origin: this.origin,
        path,
        method,
        headers,
        body,
        signal: opts.signal ?? null,
        headersTimeout: timeout,
        bodyTimeout: streaming ? 0 : timeout,
      });
    } catch (err) {
      throw mapTransportError(err, this.socketPath, opts);
    }
    const ok =
      (res.statusCode >= 200 && res.statusCode < 300) || opts.accept?.includes(res.statusCode);
    if (!ok) {
      const text = await res.body.text().catch(() => '');
      throw apiError(res.statusCode, text, method, opts);
    }
    return res;
  }
}

function queryString(query: Record<string, QueryValue> | undefined): string {
  if (!query) return '';
  const params = new URLSearchParams();
  for (const [k, v] of Object.entries(query)) {
    if (v !== undefined && v !== null) params.set(k, String(v));
  }
  const s = params.toString();
  return s ? `?${s}` : '';
}

function isReadable(v: unknown): v is Readable {
  return typeof v === 'object' && v !== null && typeof (v as Readable).pipe === 'function';
}

function apiError(
  status: number,
  text: string,
  method: string,
  opts: RequestOptions,
): HotswapError {
  let message = text.trim();
  try {
    const parsed = JSON.parse(text) as { message?: unknown };
    if (typeof parsed.message === 'string') message = parsed.message;
  } catch {
    // not JSON: keep the text
  }
  if (!message) message = `HTTP ${status}`;
  const code: ErrorCode = status === 404 ? (opts.notFound ?? 'NOT_FOUND') : 'DOCKER_API';
  return new HotswapError(code, message, { details: { status, method, path: opts.path } });
}

function errorCode(err: unknown): string | undefined {
  for (let e = err, depth = 0; e && depth < 5; depth++) {
    const code = (e as { code?: unknown }).code;
    if (typeof code === 'string' && (UNAVAILABLE_CODES.has(code) || TIMEOUT_CODES.has(code))) {
      return code;
    }
    e = (e as { cause?: unknown }).cause;
  }
  return undefined;
}

/** Connection failures → DOCKER_UNAVAILABLE, timeouts → TIMEOUT; aborts pass through. */
export function mapTransportError(err: unknown, socketPath: string, opts: RequestOptions): unknown {
  if (err instanceof HotswapError) return err;
  if (opts.signal?.aborted) return err;
  const code = errorCode(err);
  const what = `${opts.method ?? 'GET'} ${opts.path}`;
  if (code && TIMEOUT_CODES.has(code)) {
    return new HotswapError('TIMEOUT', `Docker Engine did not answer ${what} in time`, {
      cause: err,
      details: { socketPath },
    });
  }
  if (code) {
    const hint =
      code === 'EACCES' || code === 'EPERM'
        ? `permission denied on ${socketPath}: run as root or add the user to the docker group`
        : TLS_CODES.has(code)
          ? `the TLS handshake with the Docker Engine at ${socketPath} failed (${code}): check ` +
            'DOCKER_CERT_PATH (ca.pem, cert.pem, key.pem) and DOCKER_TLS_VERIFY'
          : `cannot reach the Docker Engine at ${socketPath} (${code}): start dockerd, ` +
            'set DOCKER_HOST (unix:///path/to/docker.sock, or tcp://host:port with DOCKER_TLS_VERIFY ' +
            'and DOCKER_CERT_PATH), or run `node dist/scripts/engine.js`';
    return new HotswapError('DOCKER_UNAVAILABLE', hint, {
      cause: err,
      details: { socketPath, reason: code },
    });
  }
  const message = err instanceof Error ? err.message : String(err);
  return new HotswapError('DOCKER_API', `${what} failed: ${message}`, { cause: err });
}
