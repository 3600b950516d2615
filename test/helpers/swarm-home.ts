// A hotswap home on the Swarm lab (issue 17): config.yaml with `runtime: swarm` pointed at node1
// (a manager), the lab's proxy image, and load from the root netns to the proxy on every node.
import assert from 'node:assert/strict';
import { chmodSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { summarize, type LoadSummary, type Sample } from '../../src/assess/index.js';
import { homePaths } from '../../src/daemon/paths.js';
import { DockerClient, LABEL_SCOPE, SwarmApi } from '../../src/runtime/index.js';
import { getText, hotswap, type CliResult } from './cli.js';
import { labImages, startLabLoad, type LabConfig } from './lab.js';

export interface SwarmHome {
  home: string;
  file: string;
  scope: string;
  /** http://<node address>:<port>/ for each node: the proxy tasks' listeners. */
  urls: string[];
  up(spec: string): Promise<CliResult>;
  /** hotswap down, then anything of this home's scope still on the Swarm is removed. */
  down(): Promise<void>;
  api: SwarmApi;
}

/** The lab registry's reference of a local image tag (`hotswap-fixture:v2`). */
export function labImage(tag: string, config?: LabConfig): string {
  const images = labImages(config);
  const key =
    tag === 'proxy' ? Object.keys(images).find((k) => k.startsWith('hotswap-proxy:')) : tag;
  const found = key ? images[key] : undefined;
  if (!found) throw new Error(`the lab registry has no ${tag}: run npm run lab:up`);
  return found.tagRef;
}

export function swarmHome(
  config: LabConfig,
  opts: { port: number; controlPort: number; name: string },
): SwarmHome {
  const home = mkdtempSync(join(tmpdir(), `hotswap-swarm-${opts.name}-`));
  chmodSync(home, 0o700);
  const manager = config.nodes[0]!;
  writeFileSync(
    join(home, 'config.yaml'),
    [
      'runtime:',
      '  type: swarm',
      `  host: ${manager.dockerHost}`,
      '  proxy:',
      `    image: ${labImage('proxy', config)}`,
      `    ports: [${opts.port}]`,
      `    controlPort: ${opts.controlPort}`,
      '',
    ].join('\n'),
  );
  const file = join(
    mkdtempSync(join(tmpdir(), `hotswap-swarm-${opts.name}-spec-`)),
    'hotswap.yaml',
  );
  const scope = homePaths(home).scope;
  const client = new DockerClient({ socketPath: manager.socketPath });
  const api = new SwarmApi(client);
  return {
    home,
    file,
    scope,
    urls: config.nodes.map((n) => `http://${n.address}:${opts.port}/`),
    api,
    up(spec: string) {
      writeFileSync(file, spec);
      return hotswap(home, ['up', '-f', file]);
    },
    async down() {
      const r = await hotswap(home, ['down', '--timeout', '90s']);
      if (r.code !== 0) console.log(`hotswap down (exit ${r.code}): ${r.stderr}${r.stdout}`);
      for (const s of await api.services([`${LABEL_SCOPE}=${scope}`]).catch(() => []))
        await api.removeService(s.ID).catch(() => undefined);
      await client.close();
    },
  };
}

export interface ClusterLoad {
  /** Over all proxies. */
  all: LoadSummary;
  during: LoadSummary;
  afterwards: LoadSummary;
  /** Per proxy (node address), the whole run. */
  perNode: Record<string, LoadSummary>;
  samples: Sample[];
  actionMs: number;
}

/**
 * Fixed-rate load on every proxy at once (ratePerNode each), from 1 s before `action` to 1 s
 * after it; summaries over all of them and per node. The load runs in a child process: the lab
 * helpers (cutNode, nodeRows…) block this one's event loop while they call the docker CLI.
 */
export async function underClusterLoad(
  urls: string[],
  ratePerNode: number,
  action: () => Promise<void>,
): Promise<ClusterLoad> {
  const load = await startLabLoad({
    urls,
    ratePerSec: ratePerNode,
    connections: 'mixed',
    maxDurationMs: 300_000,
    timeoutMs: 5_000,
  });
  await new Promise((r) => setTimeout(r, 1000));
  const from = load.now();
  const t0 = Date.now();
  let to: number;
  let per: Sample[][] = [];
  try {
    await action();
  } finally {
    to = load.now();
    await new Promise((r) => setTimeout(r, 1000));
    per = await load.stop();
  }
  const samples = per.flat();
  return {
    all: summarize(samples),
    during: summarize(samples, from, to),
    afterwards: summarize(samples, to + 200),
    perNode: Object.fromEntries(urls.map((u, i) => [new URL(u).hostname, summarize(per[i]!)])),
    samples,
    actionMs: Date.now() - t0,
  };
}

/** Nodes the running instances of a revision are on (one Swarm service per instance). */
export async function instanceNodes(
  api: SwarmApi,
  scope: string,
  revision: number,
): Promise<string[]> {
  const services = await api.services([`${LABEL_SCOPE}=${scope}`, `hotswap.revision=${revision}`]);
  if (services.length === 0) return [];
  const tasks = await api.tasks({ service: services.map((s) => s.ID) });
  return tasks
    .filter((t) => t.Status.State === 'running' && t.DesiredState === 'running')
    .map((t) => t.NodeID ?? '?')
    .sort();
}

export const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Waits until `fn` holds, polling every 250 ms; fails the test after `ms`. */
export async function until(
  what: string,
  fn: () => boolean | Promise<boolean>,
  ms: number,
): Promise<void> {
  const deadline = Date.now() + ms;
  while (!(await fn())) {
    if (Date.now() > deadline) assert.fail(`${what}: not within ${ms} ms`);
    await sleep(250);
  }
}

/** Whether the URL answers 200 now. */
export async function answers(url: string): Promise<boolean> {
  try {
    return (await getText(url)).status === 200;
  } catch {
    return false;
  }
}

/** The service's stable revision and how many of its instances run and serve. */
export async function serving(
  h: SwarmHome,
  service = 'web',
): Promise<{ revision: number; count: number }> {
  const status = await hotswap(h.home, ['status', service, '--json']);
  const parsed = JSON.parse(status.stdout) as {
    service: {
      stableRevision: number | null;
      instances: { revision: number; serving: boolean; state: string }[];
    };
  };
  const live = parsed.service.instances.filter((i) => i.serving && i.state === 'running');
  return { revision: parsed.service.stableRevision ?? 0, count: live.length };
}
