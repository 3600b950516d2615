// Helpers for tests that drive the real Docker engine. Tests do not skip when Docker is missing:
// requireEngine() starts one when it can, and otherwise fails the test with the reason.

import { randomBytes } from 'node:crypto';
import http from 'node:http';
import { ensureEngine } from '../../scripts/engine.js';
import type { EngineInfo } from '../../scripts/engine.js';
import { buildFixtureImages } from '../../scripts/fixture-images.js';
import { DockerClient, LABEL_SCOPE } from '../../src/runtime/index.js';

export { FIXTURE_IMAGES } from '../../scripts/fixture-images.js';

let engine: Promise<EngineInfo> | null = null;
let fixtures: Promise<string[]> | null = null;

const log = (line: string) => console.log(line);

/** A reachable engine (started if need be), once per process; throws DOCKER_UNAVAILABLE. */
export function requireEngine(): Promise<EngineInfo> {
  engine ??= ensureEngine({ log });
  engine.catch(() => (engine = null));
  return engine;
}

/** hotswap-fixture:v1, :v2 and :bad, built once per process (skipped when up to date). */
export function ensureFixtures(): Promise<string[]> {
  fixtures ??= requireEngine().then((e) => buildFixtureImages({ log, socketPath: e.socketPath }));
  fixtures.catch(() => (fixtures = null));
  return fixtures;
}

/** A scope no other test run uses: `<prefix>-<time>-<random>`. */
export function uniqueScope(prefix = 'test'): string {
  const safe = prefix.toLowerCase().replace(/[^a-z0-9-]+/g, '-');
  return `${safe}-${Date.now().toString(36)}-${randomBytes(3).toString('hex')}`;
}

/**
 * Removes every container (with its anonymous volumes), named volume and network labelled
 * hotswap.scope=<scope>; returns how many containers went. Other objects are left alone.
 */
export async function cleanupScope(scope: string): Promise<number> {
  const { socketPath } = await requireEngine();
  const client = new DockerClient({ socketPath });
  const label = `${LABEL_SCOPE}=${scope}`;
  try {
    const containers = await client.containers.list({ all: true, labels: [label] });
    await Promise.all(
      containers.map((c) =>
        client.containers.remove(c.Id, { force: true, v: true }).catch(() => undefined),
      ),
    );
    const volumes = await client.json<{ Volumes: { Name: string }[] | null }>({
      path: '/volumes',
      query: { filters: JSON.stringify({ label: [label] }) },
    });
    for (const v of volumes.Volumes ?? []) {
      await client
        .request({ method: 'DELETE', path: `/volumes/${encodeURIComponent(v.Name)}` })
        .catch(() => undefined);
    }
    // Private networks (issue 16): bridge subnets are a small pool shared by every test.
    const networks = await client.json<{ Id: string }[]>({
      path: '/networks',
      query: { filters: JSON.stringify({ label: [label] }) },
    });
    for (const n of networks) {
      await client.request({ method: 'DELETE', path: `/networks/${n.Id}` }).catch(() => undefined);
    }
    return containers.length;
  } finally {
    await client.close();
  }
}

export interface HttpResult {
  status: number;
  headers: http.IncomingHttpHeaders;
  body: string;
}

/** One GET on a fresh connection (no keep-alive pool left behind). */
export function httpGet(url: string, timeoutMs = 5_000): Promise<HttpResult> {
  return new Promise((resolve, reject) => {
    const req = http.get(url, { agent: false, timeout: timeoutMs }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () =>
        resolve({
          status: res.statusCode ?? 0,
          headers: res.headers,
          body: Buffer.concat(chunks).toString('utf8'),
        }),
      );
      res.on('error', reject);
    });
    req.on('timeout', () => req.destroy(new Error(`GET ${url} timed out`)));
    req.on('error', reject);
  });
}

/** GETs `url` until it answers (any status) or `timeoutMs` passes; for apps still starting. */
export async function waitForHttp(url: string, timeoutMs = 10_000): Promise<HttpResult> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    try {
      return await httpGet(url, 2_000);
    } catch (err) {
      if (Date.now() > deadline) throw err;
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
  }
}
