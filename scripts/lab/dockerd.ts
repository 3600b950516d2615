// One dockerd per lab node, inside the node's netns, with its own data-root, exec-root, socket,
// pid file, cgroup parent and hostname, so nothing is shared with the host's engine or with the
// other nodes. Each dockerd starts its own supervised containerd under its exec-root.
//
// `ip netns exec` remounts /sys for the netns, which leaves /sys/fs/cgroup empty, and runc then
// cannot work. The wrapper written here mounts the host's cgroup hierarchies back (same types
// and options give the same hierarchies) in that private mount namespace, then enters its own
// UTS namespace for the node's hostname, then execs dockerd. The daemons' overlay and nsfs
// mounts stay in that mount namespace and never appear on the host.

import { spawn } from 'node:child_process';
import {
  chmodSync,
  closeSync,
  existsSync,
  lstatSync,
  mkdirSync,
  openSync,
  readFileSync,
  readdirSync,
  readlinkSync,
  rmSync,
  rmdirSync,
  writeFileSync,
} from 'node:fs';
import { join } from 'node:path';
import { HotswapError } from '../../src/errors.js';
import type { LabConfig, LabNode } from './config.js';
import { isAlive, livePid, run, sleep, waitFor } from './sh.js';

const CGROUP_ROOT = '/sys/fs/cgroup';

/** Shell lines that rebuild the host's /sys/fs/cgroup (read from this process's mounts). */
function cgroupMountLines(): string[] {
  const lines: string[] = [];
  const mounts = readFileSync('/proc/self/mounts', 'utf8').split('\n');
  const q = (s: string) => `'${s.replace(/'/g, `'\\''`)}'`;
  for (const line of mounts) {
    const [, target, type, options] = line.split(' ');
    if (!target || !type || !options) continue;
    if (target === CGROUP_ROOT && type === 'cgroup2') {
      return [`mount -t cgroup2 -o ${q(options)} cgroup2 ${CGROUP_ROOT}`]; // unified-only host
    }
    if (target === CGROUP_ROOT && type === 'tmpfs') {
      lines.unshift(`mount -t tmpfs -o ${q(options)} tmpfs ${CGROUP_ROOT}`);
    } else if (target.startsWith(`${CGROUP_ROOT}/`) && (type === 'cgroup' || type === 'cgroup2')) {
      lines.push(`mkdir -p ${q(target)} && mount -t ${type} -o ${q(options)} ${type} ${q(target)}`);
    }
  }
  if (lines.length === 0) {
    throw new HotswapError('UNSUPPORTED', `lab: no cgroup mounts under ${CGROUP_ROOT}`);
  }
  // Symlinks such as cpu -> cpu,cpuacct on systemd hosts.
  for (const name of readdirSync(CGROUP_ROOT)) {
    const path = join(CGROUP_ROOT, name);
    if (lstatSync(path).isSymbolicLink()) lines.push(`ln -sfn ${q(readlinkSync(path))} ${q(path)}`);
  }
  return lines;
}

export function writeWrapper(config: LabConfig): string {
  const bin = join(config.dir, 'bin');
  mkdirSync(bin, { recursive: true });
  const path = join(bin, 'dockerd-in-netns');
  const script = [
    '#!/bin/bash',
    '# Written by scripts/lab/dockerd.ts. Runs under `ip netns exec`: put back the cgroup',
    '# hierarchies it hid, take an own hostname ($LAB_HOSTNAME), exec dockerd with our arguments.',
    'set -euo pipefail',
    ...cgroupMountLines(),
    `exec unshare --uts /bin/bash -c 'hostname "$0" && exec dockerd "$@"' "$LAB_HOSTNAME" "$@"`,
    '',
  ].join('\n');
  writeFileSync(path, script);
  chmodSync(path, 0o755);
  return path;
}

function dockerdArgs(config: LabConfig, node: LabNode): string[] {
  return [
    `--data-root=${node.dir}/data`,
    `--exec-root=${node.dir}/exec`,
    `--pidfile=${node.pidFile}`,
    `--host=${node.dockerHost}`,
    `--config-file=${node.dir}/daemon.json`,
    '--iptables=true',
    `--bip=172.31.${node.index}.1/24`,
    '--default-address-pool=base=172.20.0.0/14,size=24',
    `--cgroup-parent=/${node.cgroupParent}`,
    `--insecure-registry=${config.subnet}.0/24`,
    '--storage-driver=overlay2',
    '--log-level=warn',
  ];
}

/** True when the node's engine answers on its socket. */
export function engineAnswers(node: LabNode): boolean {
  if (!existsSync(node.socketPath)) return false;
  return (
    run('docker', ['-H', node.dockerHost, 'version', '--format', '{{.Server.Version}}'], {
      allowFail: true,
      timeoutMs: 5_000,
    }).status === 0
  );
}

/** Starts the node's dockerd unless it already runs; resolves once it answers. */
export async function startDockerd(
  config: LabConfig,
  node: LabNode,
  wrapper: string,
): Promise<boolean> {
  if (livePid(node.pidFile) !== null && engineAnswers(node)) return false;
  if (existsSync('/run/containerd/containerd.sock')) {
    // dockerd 20.10 would attach to that system containerd and share it with other daemons.
    throw new HotswapError(
      'UNSUPPORTED',
      'lab: /run/containerd/containerd.sock exists (a system containerd); the lab dockerds would ' +
        'share it. Stop that containerd or run the lab on a machine without one.',
    );
  }
  const stale = livePid(node.pidFile);
  if (stale !== null) {
    // A dockerd that runs but does not answer: replace it.
    process.kill(stale, 'SIGKILL');
    await sleep(500);
  }
  // dockerd refuses to start over a pid file whose pid exists, zombie included; and it waits
  // for a supervised containerd whose pid file names a zombie (the killed daemon's, not yet
  // reaped by init) until it times out. A containerd that really runs is kept and reattached.
  rmSync(node.pidFile, { force: true });
  const containerdPid = join(node.dir, 'exec', 'containerd', 'containerd.pid');
  if (livePid(containerdPid) === null) rmSync(containerdPid, { force: true });
  for (const sub of ['data', 'exec']) mkdirSync(join(node.dir, sub), { recursive: true });
  writeFileSync(join(node.dir, 'daemon.json'), '{}\n');
  const fd = openSync(node.logFile, 'a');
  try {
    const child = spawn(
      'ip',
      ['netns', 'exec', node.netns, wrapper, ...dockerdArgs(config, node)],
      {
        detached: true,
        stdio: ['ignore', fd, fd],
        env: { ...process.env, LAB_HOSTNAME: node.name, DOCKER_HOST: undefined },
      },
    );
    child.unref();
  } finally {
    closeSync(fd);
  }
  await waitFor(
    `${node.name}'s dockerd answering on ${node.socketPath} (log: ${node.logFile})`,
    () => (engineAnswers(node) ? true : undefined),
    60_000,
    250,
  );
  return true;
}

/** SIGKILL of the node's dockerd alone: its containers go on running (a crashed manager). */
export function killDockerd(node: LabNode): number | null {
  const pid = livePid(node.pidFile);
  if (pid !== null) process.kill(pid, 'SIGKILL');
  return pid;
}

/** Cgroup folders of the node (every hierarchy), deepest first. */
function nodeCgroups(node: LabNode): string[] {
  const out: string[] = [];
  const walk = (dir: string) => {
    let entries: string[];
    try {
      entries = readdirSync(dir);
    } catch {
      return;
    }
    for (const e of entries) {
      const p = join(dir, e);
      try {
        if (lstatSync(p).isDirectory()) walk(p);
      } catch {
        // vanished meanwhile
      }
    }
    out.push(dir);
  };
  for (const ctrl of readdirSync(CGROUP_ROOT)) {
    const dir = join(CGROUP_ROOT, ctrl, node.cgroupParent);
    if (existsSync(dir)) walk(dir);
  }
  return out;
}

function pidsIn(cgroups: string[]): number[] {
  const pids = new Set<number>();
  for (const cg of cgroups) {
    try {
      for (const l of readFileSync(join(cg, 'cgroup.procs'), 'utf8').split('\n')) {
        if (l.trim()) pids.add(Number(l));
      }
    } catch {
      // gone
    }
  }
  return [...pids];
}

/** Processes whose command line names this node's folder (containerd, shims): its leftovers. */
function pidsNaming(node: LabNode): number[] {
  const pids: number[] = [];
  for (const e of readdirSync('/proc')) {
    if (!/^\d+$/.test(e) || Number(e) === process.pid) continue;
    try {
      const cmd = readFileSync(`/proc/${e}/cmdline`, 'utf8');
      if (cmd.includes(`${node.dir}/exec/`)) pids.push(Number(e));
    } catch {
      // exited
    }
  }
  return pids;
}

/**
 * Stops the nodes' dockerds together (TERM, KILL after graceMs), then kills what they left: the
 * supervised containerd and shims (by their lab paths) and the processes in the lab's cgroups,
 * and removes those cgroups. Returns the number of processes that had to be killed.
 */
export async function stopDockerds(nodes: LabNode[], graceMs = 30_000): Promise<number> {
  const pids = nodes.map((n) => livePid(n.pidFile)).filter((p): p is number => p !== null);
  for (const pid of pids) process.kill(pid, 'SIGTERM');
  const deadline = Date.now() + graceMs;
  while (pids.some(isAlive) && Date.now() < deadline) await sleep(200);
  for (const pid of pids.filter(isAlive)) process.kill(pid, 'SIGKILL');
  let killed = 0;
  for (let round = 0; round < 20; round++) {
    const left = nodes.flatMap((n) => [...pidsIn(nodeCgroups(n)), ...pidsNaming(n)]);
    if (left.length === 0) break;
    for (const pid of left) {
      try {
        process.kill(pid, 'SIGKILL');
        killed++;
      } catch {
        // already gone
      }
    }
    await sleep(250);
  }
  for (const node of nodes) {
    for (const cg of nodeCgroups(node)) {
      try {
        rmdirSync(cg);
      } catch {
        // busy or gone; reported by the caller's check
      }
    }
  }
  return killed;
}

export function leftoverCgroups(nodes: LabNode[]): string[] {
  return nodes.flatMap(nodeCgroups);
}
