// The Prometheus endpoint: GET /metrics on a TCP address (config.yaml `metrics.listen`, env
// HOTSWAP_METRICS_LISTEN). One scrape renders the daemon's metrics and appends the proxy's, which
// the proxy renders from its own counters when asked over the control socket. A proxy that does
// not answer leaves its part out and sets hotswap_proxy_up to 0: the daemon's part still serves.
import http from 'node:http';
import { HotswapError } from '../errors.js';
import type { ListenAddress } from '../spec/listen.js';
import type { DaemonMetrics } from './daemon-metrics.js';

export const CONTENT_TYPE = 'text/plain; version=0.0.4; charset=utf-8';

export interface MetricsSources {
  daemon: DaemonMetrics;
  /** The proxy's text (GET /metrics on its control socket). */
  proxyText: () => Promise<string>;
}

/** The whole exposition: the daemon's families, hotswap_proxy_up, then the proxy's families. */
export async function scrape(sources: MetricsSources): Promise<string> {
  const [daemon, proxy] = await Promise.all([
    sources.daemon.text(),
    sources.proxyText().then(
      (text) => ({ ok: true as const, text }),
      (err: unknown) => ({ ok: false as const, text: '', why: (err as Error).message }),
    ),
  ]);
  const up = [
    '# HELP hotswap_proxy_up Whether the proxy answered this scrape over its control socket.',
    '# TYPE hotswap_proxy_up gauge',
    `hotswap_proxy_up ${proxy.ok ? 1 : 0}`,
  ].join('\n');
  const note = proxy.ok ? '' : `# proxy metrics unavailable: ${oneLine(proxy.why)}\n`;
  return `${daemon.endsWith('\n') ? daemon : `${daemon}\n`}${up}\n${note}${proxy.text}`;
}

/** Starts the endpoint; resolves with the server once it listens. */
export function listenMetrics(
  address: ListenAddress,
  sources: MetricsSources,
  log: (line: string) => void,
): Promise<http.Server> {
  const server = http.createServer((req, res) => {
    const path = new URL(req.url ?? '/', 'http://metrics').pathname;
    if (req.method !== 'GET' || path !== '/metrics') {
      res.writeHead(404, { 'content-type': 'text/plain' }).end('only GET /metrics here\n');
      return;
    }
    scrape(sources).then(
      (text) =>
        res
          .writeHead(200, {
            'content-type': CONTENT_TYPE,
            'content-length': Buffer.byteLength(text),
          })
          .end(text),
      (err: unknown) => {
        log(`metrics scrape failed: ${(err as Error).message}`);
        res.writeHead(500, { 'content-type': 'text/plain' }).end('scrape failed\n');
      },
    );
  });
  return new Promise((resolve, reject) => {
    server.once('error', (err) =>
      reject(
        new HotswapError(
          'CONFLICT',
          `metrics.listen: cannot listen on ${address.host}:${address.port}: ${err.message}`,
        ),
      ),
    );
    // parseListen keeps an IPv6 host in brackets; listen() wants it bare.
    server.listen(address.port, address.host.replace(/^\[|\]$/g, ''), () => resolve(server));
  });
}

function oneLine(text: string): string {
  return text.replace(/\s+/g, ' ').slice(0, 300);
}
