// Bringing the whole lab up and down. Both are idempotent: up builds only what is missing (and
// restarts a dead node's dockerd), down removes whatever of the lab is left, even after a crash
// half-way through up. Nothing of the host's own engine is used or changed.

import { existsSync, rmSync } from 'node:fs';
import { HotswapError } from '../../src/errors.js';
import { labConfig } from './config.js';
import type { LabConfig } from './config.js';
import { leftoverCgroups, startDockerd, stopDockerds, writeWrapper } from './dockerd.js';
import { netnsExists, networkDown, networkUp } from './network.js';
import { startRegistry, stopRegistry } from './registry.js';
import { run } from './sh.js';
import { swarmUp } from './swarm.js';

export interface LabRunOptions {
  config?: LabConfig;
  log?: (line: string) => void;
}

const REQUIRED = ['ip', 'dockerd', 'docker', 'unshare', 'mount'];

function preflight(): void {
  if (process.getuid?.() !== 0) {
    throw new HotswapError('UNSUPPORTED', 'the lab needs root (network namespaces, dockerd)');
  }
  const missing = REQUIRED.filter(
    (c) => run('sh', ['-c', `command -v ${c}`], { allowFail: true }).status !== 0,
  );
  if (missing.length > 0) {
    throw new HotswapError(
      'UNSUPPORTED',
      `the lab needs ${missing.join(', ')} (Debian: apt-get install iproute2 docker.io util-linux)`,
    );
  }
}

const secs = (ms: number) => `${(ms / 1000).toFixed(1)} s`;

export async function labUp(opts: LabRunOptions = {}): Promise<LabConfig> {
  const config = opts.config ?? labConfig();
  const log = opts.log ?? (() => undefined);
  const started = Date.now();
  const step = (what: string) =>
    log(`[lab ${config.prefix}] ${secs(Date.now() - started)} ${what}`);
  preflight();
  const made = networkUp(config);
  step(
    `network ${config.subnet}.0/24: ${made.length ? `made ${made.join(', ')}` : 'already there'}`,
  );
  const wrapper = writeWrapper(config);
  const [registryStarted, ...engines] = await Promise.all([
    startRegistry(config, log),
    ...config.nodes.map((n) => startDockerd(config, n, wrapper)),
  ]);
  step(`registry ${config.registry}: ${registryStarted ? 'started' : 'already up'}`);
  step(
    `dockerd: ${config.nodes.map((n, i) => `${n.name} ${engines[i] ? 'started' : 'up'}`).join(', ')}`,
  );
  const changes = await swarmUp(config);
  step(
    `swarm of ${config.nodes.length} (${config.managers} managers, heartbeat ${config.heartbeat}): ` +
      `${changes.length ? changes.join('; ') : 'already formed'}`,
  );
  return config;
}

export async function labDown(opts: LabRunOptions = {}): Promise<void> {
  const config = opts.config ?? labConfig();
  const log = opts.log ?? (() => undefined);
  const started = Date.now();
  const step = (what: string) =>
    log(`[lab ${config.prefix}] ${secs(Date.now() - started)} ${what}`);
  if (process.getuid?.() !== 0) throw new HotswapError('UNSUPPORTED', 'the lab needs root');
  const killed = await stopDockerds(config.nodes);
  step(`dockerd stopped${killed ? ` (${killed} leftover processes killed)` : ''}`);
  if (stopRegistry(config)) step('registry stopped');
  const removed = networkDown(config);
  step(`network: ${removed.length ? `removed ${removed.join(', ')}` : 'nothing left'}`);
  if (existsSync(config.dir)) {
    rmSync(config.dir, { recursive: true, force: true });
    step(`removed ${config.dir}`);
  }
  const left = [
    ...leftoverCgroups(config.nodes),
    ...[config.hubNetns, ...config.nodes.map((n) => n.netns)].filter(netnsExists),
  ];
  if (left.length > 0) {
    throw new HotswapError('INTERNAL', `lab down left behind: ${left.join(', ')}`);
  }
}
