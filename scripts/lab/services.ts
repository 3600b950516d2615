// Small helpers for Swarm services in the lab (tests, the baseline bench): create one with
// host-mode ports, wait until its tasks run a given image, read its update status, remove it.
// Every service carries hotswap.scope=<scope> so a test removes only its own.

import { LABEL_SCOPE } from '../../src/runtime/index.js';
import type { LabConfig, LabNode } from './config.js';
import { engineAnswers } from './dockerd.js';
import { waitFor } from './sh.js';
import { dockerOn } from './swarm.js';

/** A manager mid-election can hang a CLI call for a minute: give up sooner and ask again. */
const CLI_TIMEOUT = { timeoutMs: 15_000 };

export interface HostServiceOptions {
  name: string;
  image: string;
  scope: string;
  replicas?: number;
  /** Published on every node's address in host mode (no IPVS: no routing mesh). */
  port?: number;
  targetPort?: number;
  /** More `docker service create` flags, e.g. ['--update-order', 'stop-first']. */
  extra?: string[];
}

export interface TaskRow {
  ID: string;
  Name: string;
  Image: string;
  Node: string;
  DesiredState: string;
  CurrentState: string;
  Error: string;
}

/** A manager that answers (node1 unless it is cut or killed). */
export function anyManager(config: LabConfig): LabNode {
  const node = config.nodes.find((n) => engineAnswers(n));
  if (!node) throw new Error(`lab ${config.prefix}: no engine answers`);
  return node;
}

export function createHostService(config: LabConfig, o: HostServiceOptions): string {
  const replicas = o.replicas ?? config.nodes.length;
  const args = [
    'service',
    'create',
    '--detach',
    '--name',
    o.name,
    '--label',
    `${LABEL_SCOPE}=${o.scope}`,
    '--container-label',
    `${LABEL_SCOPE}=${o.scope}`,
    '--replicas',
    String(replicas),
    '--replicas-max-per-node',
    '1',
    ...(o.port
      ? ['--publish', `mode=host,target=${o.targetPort ?? 8080},published=${o.port}`]
      : []),
    ...(o.extra ?? []),
    o.image,
  ];
  return dockerOn(anyManager(config), args).stdout.trim();
}

export function serviceTasks(config: LabConfig, name: string): TaskRow[] {
  const out = dockerOn(
    anyManager(config),
    ['service', 'ps', name, '--no-trunc', '--format', '{{json .}}'],
    CLI_TIMEOUT,
  ).stdout;
  return out
    .split('\n')
    .filter(Boolean)
    .map((l) => JSON.parse(l) as TaskRow);
}

/** Tasks desired and actually Running with `image` (a digest is matched as a substring). */
export function runningWith(config: LabConfig, name: string, image: string): TaskRow[] {
  const digest = /@(sha256:[0-9a-f]{64})/.exec(image)?.[1] ?? image;
  return serviceTasks(config, name).filter(
    (t) =>
      t.DesiredState === 'Running' &&
      t.CurrentState.startsWith('Running') &&
      t.Image.includes(digest),
  );
}

/** Resolves once `count` tasks run `image`; returns how long that took. */
export async function waitRunning(
  config: LabConfig,
  name: string,
  image: string,
  count: number,
  timeoutMs = 120_000,
): Promise<number> {
  const started = Date.now();
  await waitFor(
    `${count} tasks of ${name} running ${image}`,
    () => (runningWith(config, name, image).length >= count ? true : undefined),
    timeoutMs,
    250,
  );
  return Date.now() - started;
}

/** UpdateStatus.State of the service ("updating", "completed", "rollback_completed", …) or null. */
export function updateState(config: LabConfig, name: string): string | null {
  const out = dockerOn(
    anyManager(config),
    ['service', 'inspect', '--format', '{{if .UpdateStatus}}{{.UpdateStatus.State}}{{end}}', name],
    CLI_TIMEOUT,
  ).stdout.trim();
  return out || null;
}

/**
 * Removes the services labelled with `scope`; returns their names. Retried for up to
 * `retryMs`: right after a manager restarts, raft may be electing a leader ("node lost leader
 * status", "the swarm does not have a leader") for some seconds.
 */
export async function removeScopedServices(
  config: LabConfig,
  scope: string,
  retryMs = 60_000,
): Promise<string[]> {
  const deadline = Date.now() + retryMs;
  for (;;) {
    try {
      const node = anyManager(config);
      const names = dockerOn(
        node,
        ['service', 'ls', '--filter', `label=${LABEL_SCOPE}=${scope}`, '--format', '{{.Name}}'],
        CLI_TIMEOUT,
      )
        .stdout.split('\n')
        .filter(Boolean);
      if (names.length > 0) dockerOn(node, ['service', 'rm', ...names], CLI_TIMEOUT);
      return names;
    } catch (err) {
      if (Date.now() > deadline) throw err;
      await new Promise((r) => setTimeout(r, 1_000));
    }
  }
}
