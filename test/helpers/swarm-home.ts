// A hotswap home on the Swarm lab (issue 17): config.yaml with `runtime: swarm` pointed at node1
// (a manager), the lab's proxy image, and load from the root netns to the proxy on every node.
import assert from 'node:assert/strict';
import { chmodSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before } from 'node:test';
import { summarize, type LoadSummary, type Sample } from '../../src/assess/index.js';
import { homePaths } from '../../src/daemon/paths.js';
import { DockerClient, LABEL_SCOPE, SwarmApi } from '../../src/runtime/index.js';
import { getText, hotswap, type CliResult } from './cli.js';
import {
  labImages,
  nodeRows,
  requireLab,
  restartNode,
  restoreNode,
  startLabLoad,
  type LabConfig,
} from './lab.js';

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
  opts: { port: number; controlPort: number; name: string; extraPorts?: number[] },
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
      `    ports: [${[opts.port, ...(opts.extraPorts ?? [])].join(', ')}]`,
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

export interface SwarmSpecOptions {
  image: string;
  /** The listener port (`listen: 0.0.0.0:<port>`), one of the home's proxy ports. */
  port: number;
  replicas?: number;
  /** Strategy as YAML flow text, or an object (written as JSON). Default rolling, surge 1. */
  strategy?: string | Record<string, unknown>;
  /** The health probe's deadline. Default 60s. */
  deadline?: string;
  /** drain.timeout and stopGracePeriod. Default 5s. */
  drain?: string;
  env?: Record<string, string | number>;
  /** `analysis:` as YAML flow text. */
  analysis?: string;
  /** `placement:` as YAML flow text. */
  placement?: string;
  keepPrevious?: string;
}

const flow = (v: string | Record<string, unknown>) =>
  typeof v === 'string' ? v : JSON.stringify(v);

/** The spec of service `web` (fixture port 8080) the Swarm e2e files roll out. */
export function swarmSpec(o: SwarmSpecOptions): string {
  const drain = o.drain ?? '5s';
  const lines = [
    'services:',
    '  web:',
    `    image: ${o.image}`,
    `    replicas: ${o.replicas ?? 3}`,
    '    port: 8080',
    `    listen: 0.0.0.0:${o.port}`,
    o.env && `    env: ${JSON.stringify(o.env)}`,
    `    health: { http: /healthz, interval: 300ms, healthyThreshold: 2, deadline: ${o.deadline ?? '60s'} }`,
    `    strategy: ${flow(o.strategy ?? '{ type: rolling, maxSurge: 1, maxUnavailable: 0 }')}`,
    o.analysis && `    analysis: ${o.analysis}`,
    `    drain: { timeout: ${drain} }`,
    `    stopGracePeriod: ${drain}`,
    o.keepPrevious && `    keepPrevious: ${o.keepPrevious}`,
    o.placement && `    placement: ${o.placement}`,
  ];
  return lines.filter((l) => l).join('\n') + '\n';
}

/** What a Swarm e2e file works with; filled in by useSwarmHome's before hook. */
export interface SwarmFile {
  config: LabConfig;
  h: SwarmHome;
  /** The lab registry's reference of a local tag (`hotswap-fixture:v2`). */
  image(tag: string): string;
}

export interface SwarmFileOptions {
  name: string;
  port: number;
  controlPort: number;
  /** More proxy listener ports (a blue-green preview). */
  extraPorts?: number[];
  /** Wait this long for 3 reachable managers before the first deploy. */
  quorumMs?: number;
  /** The spec deployed in before (none: the file's first test deploys). */
  first?: (f: SwarmFile) => string;
  /** The first deploy gets one more try (a task on a just restarted engine can stay starting). */
  retryFirst?: boolean;
  /** The file cuts or kills nodes: after it, every link is restored and node2's engine started. */
  faults?: boolean;
}

/**
 * Registers a Swarm e2e file's before and after hooks: the lab is required, a home made (and its
 * first spec deployed); afterwards the nodes are restored when the file cuts them, and the home
 * is taken down.
 */
export function useSwarmHome(opts: SwarmFileOptions): SwarmFile {
  const file = {} as SwarmFile;
  before(async () => {
    const config = await requireLab();
    file.config = config;
    file.image = (tag) => labImage(tag, config);
    file.h = swarmHome(config, opts);
    if (opts.quorumMs)
      await until('3 reachable managers', () => quorumWhole(config), opts.quorumMs);
    if (!opts.first) return;
    let r = await file.h.up(opts.first(file));
    if (r.code !== 0 && opts.retryFirst) {
      console.log(`first deploy failed, once more:\n${r.stderr}`);
      r = await file.h.up(opts.first(file));
    }
    assert.equal(r.code, 0, r.stderr + r.stdout);
  });
  after(async () => {
    const config = file.config;
    if (config && opts.faults) {
      for (const n of [1, 2, 3]) restoreNode(n, config);
      await restartNode(2, config).catch(() => undefined);
    }
    await file.h?.down();
  });
  return file;
}

/** Every manager Ready and reachable (a node just back shows Unreachable for a few seconds). */
export function quorumWhole(config: LabConfig): boolean {
  let rows: ReturnType<typeof nodeRows>;
  try {
    rows = nodeRows(config.nodes[0]!);
  } catch {
    return false; // the manager is busy (a node just came back): ask again
  }
  return (
    rows.length === 3 &&
    rows.every((r) => r.Status === 'Ready' && /Leader|Reachable/.test(r.ManagerStatus))
  );
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
  /** When the action started, on the samples' clock (their `at`). */
  actionStart: number;
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
    actionStart: from,
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
