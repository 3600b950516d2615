// The controller's side of the control socket: a Router that talks to the proxy process.
// Failures come back as HotswapError: the proxy's own {code, message} when it answered, and
// PROXY_UNAVAILABLE when nothing answered (no socket, connection refused, no reply in time).
import http from 'node:http';
import { HotswapError, errorFromJSON } from '../../errors.js';
import type {
  Backend,
  DrainOptions,
  DrainResult,
  RouteTable,
  Router,
  ServiceConfig,
  ServiceStats,
  StatsOptions,
} from '../types.js';

export interface ProxyClientOptions {
  /** The control unix socket; or, for a proxy on another node (issue 17), `tcp`. */
  socketPath: string;
  /** A proxy's TCP control listener and its bearer token (socketPath then only names it). */
  tcp?: { host: string; port: number; token: string };
  /** Deadline of a control call; a drain gets its own timeout on top of this. Default 10 s. */
  timeoutMs?: number;
}

export interface ProxyHealth {
  ok: boolean;
  pid: number;
  uptimeMs: number;
}

const UNAVAILABLE_CODES = new Set([
  'ECONNREFUSED',
  'ENOENT',
  'ECONNRESET',
  'EPIPE',
  'EACCES',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'ETIMEDOUT',
]);

export class ProxyClient implements Router {
  private readonly socketPath: string;
  private readonly timeoutMs: number;
  private readonly tcp: ProxyClientOptions['tcp'];

  constructor(options: ProxyClientOptions) {
    this.socketPath = options.socketPath;
    this.timeoutMs = options.timeoutMs ?? 10_000;
    this.tcp = options.tcp;
  }

  /** An http or tcp check of an address, run by the proxy (it reaches what it routes to). */
  probe(
    check: { type: 'http'; path: string } | { type: 'tcp' },
    address: string,
    timeoutMs: number,
  ): Promise<{ ok: boolean; detail: string }> {
    return this.call(
      'POST',
      '/probe',
      { ...check, address, timeoutMs },
      timeoutMs + this.timeoutMs,
    );
  }

  health(): Promise<ProxyHealth> {
    return this.call<ProxyHealth>('GET', '/health');
  }

  /** Asks the proxy to close its listeners gracefully and exit. */
  async shutdown(): Promise<void> {
    await this.call('POST', '/shutdown');
  }

  /**
   * Hands the listeners to a new proxy process (same executable and arguments) and resolves once
   * it serves; the old one finishes its requests and exits. No request is refused meanwhile.
   */
  upgrade(timeoutMs = 30_000): Promise<{ oldPid: number; newPid: number }> {
    return this.call('POST', '/upgrade', undefined, timeoutMs);
  }

  async ensureService(service: string, config: ServiceConfig): Promise<void> {
    await this.call('PUT', servicePath(service), config);
  }

  async removeService(service: string): Promise<void> {
    await this.call('DELETE', servicePath(service));
  }

  async addBackend(service: string, backend: Omit<Backend, 'state'>): Promise<void> {
    const { id, revision, address } = backend;
    await this.call('POST', `${servicePath(service)}/backends`, { id, revision, address });
  }

  async drain(
    service: string,
    instanceId: string,
    timeoutMs: number,
    options: DrainOptions = {},
  ): Promise<DrainResult> {
    const path = `${servicePath(service)}/backends/${encodeURIComponent(instanceId)}/drain`;
    const long = options.longConnections;
    const body = { timeoutMs, ...options };
    // The call lasts as long as the longer budget: HTTP requests or long connections (the
    // service's own policy when none is given here).
    let longMs = long?.timeoutMs;
    if (longMs === undefined) {
      const route = (await this.table()).services[service];
      longMs = route?.longConnections?.timeoutMs ?? 0;
    }
    const budget = Math.max(timeoutMs, longMs);
    return this.call<DrainResult>('POST', path, body, budget + this.timeoutMs);
  }

  async setWeights(service: string, weights: Record<string, number>): Promise<void> {
    await this.call('PUT', `${servicePath(service)}/weights`, { weights });
  }

  async getWeights(service: string): Promise<Record<string, number>> {
    const body = await this.call<{ weights: Record<string, number> }>(
      'GET',
      `${servicePath(service)}/weights`,
    );
    return body.weights;
  }

  /** Revisions missing on either side count as weight 0. */
  async verifyWeights(service: string, weights: Record<string, number>): Promise<boolean> {
    const live = await this.getWeights(service);
    for (const key of new Set([...Object.keys(live), ...Object.keys(weights)])) {
      if ((live[key] ?? 0) !== (weights[key] ?? 0)) return false;
    }
    return true;
  }

  table(): Promise<RouteTable> {
    return this.call<RouteTable>('GET', '/routes');
  }

  stats(service: string, options: StatsOptions = {}): Promise<ServiceStats> {
    const query = options.windowMs === undefined ? '' : `?windowMs=${options.windowMs}`;
    return this.call<ServiceStats>('GET', `${servicePath(service)}/stats${query}`);
  }

  /** Serves an ACME HTTP-01 answer on the redirect listeners (until cleared). */
  async setChallenge(token: string, keyAuthorization: string): Promise<void> {
    await this.call('PUT', `/acme/challenges/${encodeURIComponent(token)}`, { keyAuthorization });
  }

  async clearChallenge(token: string): Promise<void> {
    await this.call('DELETE', `/acme/challenges/${encodeURIComponent(token)}`);
  }

  /** The proxy's counters in the Prometheus text format (GET /metrics). */
  metricsText(timeoutMs = 5000): Promise<string> {
    return this.call<string>('GET', '/metrics', undefined, timeoutMs, (status, text) =>
      status === 200 ? text : decodeReply<string>(status, text),
    );
  }

  private call<T>(
    method: string,
    path: string,
    body?: unknown,
    timeoutMs = this.timeoutMs,
    decode: (status: number, text: string) => T = decodeReply,
  ): Promise<T> {
    const payload = body === undefined ? undefined : JSON.stringify(body);
    return new Promise<T>((resolve, reject) => {
      const headers: http.OutgoingHttpHeaders =
        payload === undefined
          ? {}
          : { 'content-type': 'application/json', 'content-length': Buffer.byteLength(payload) };
      const where = this.tcp
        ? { host: this.tcp.host, port: this.tcp.port }
        : { socketPath: this.socketPath };
      if (this.tcp) headers.authorization = `Bearer ${this.tcp.token}`;
      const req = http.request({ ...where, method, path, agent: false, headers });
      req.setTimeout(timeoutMs, () =>
        req.destroy(this.unavailable(`did not answer ${method} ${path} within ${timeoutMs} ms`)),
      );
      req.on('error', (err: NodeJS.ErrnoException) => {
        if (err instanceof HotswapError) reject(err);
        else if (err.code !== undefined && UNAVAILABLE_CODES.has(err.code)) {
          reject(this.unavailable(`${err.code} on ${this.socketPath}`, err));
        } else
          reject(
            new HotswapError('PROXY_REJECTED', `control call failed: ${err.message}`, {
              cause: err,
            }),
          );
      });
      req.on('response', (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (chunk: Buffer) => chunks.push(chunk));
        res.on('end', () => {
          try {
            resolve(decode(res.statusCode ?? 0, Buffer.concat(chunks).toString('utf8')));
          } catch (err) {
            reject(err instanceof Error ? err : new Error(String(err)));
          }
        });
        res.on('error', reject);
      });
      req.end(payload);
    });
  }

  private unavailable(message: string, cause?: unknown): HotswapError {
    return new HotswapError('PROXY_UNAVAILABLE', `proxy ${message}`, { cause });
  }
}

function servicePath(service: string): string {
  return `/services/${encodeURIComponent(service)}`;
}

function decodeReply<T>(status: number, text: string): T {
  let value: unknown;
  try {
    value = JSON.parse(text) as unknown;
  } catch {
    throw new HotswapError(
      'PROXY_REJECTED',
      `proxy answered ${status} with a body that is not JSON`,
    );
  }
  if (status >= 200 && status < 300) return value as T;
  throw errorFromJSON(value);
}
