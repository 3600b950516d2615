// A Swarm task seen as a hotswap instance. One instance is one Swarm service with one replica
// (see runtime.ts for why), so an instance's state is the state of its service's latest task.
import type { Instance, InstanceHealth, InstanceState } from '../types.js';
import { LABEL_PORT, LABEL_REVISION, LABEL_SERVICE } from '../docker/labels.js';
import type { SwarmService, SwarmTask } from './api.js';

const STARTING = new Set([
  'new',
  'allocated',
  'pending',
  'assigned',
  'accepted',
  'preparing',
  'ready',
  'starting',
]);

/** The task that stands for the service now: the newest one. */
export function latestTask(tasks: readonly SwarmTask[]): SwarmTask | null {
  let best: SwarmTask | null = null;
  for (const t of tasks) if (best === null || t.CreatedAt > best.CreatedAt) best = t;
  return best;
}

/**
 * Whether a service scaled to 0 may be removed now: no task runs or starts, and none waits for
 * Swarm's task reaper. The scale to 0 sets its tasks' desired state to remove, and the reaper
 * deletes them soon after they stop. Removing the service while it does can crash the leader
 * (dockerd 20.10, seen in the lab: swarmkit's SetServiceTasksRemove lists the service's tasks,
 * then updates each by id, and a task the reaper deleted in between is a nil pointer; fixed
 * upstream in moby/swarmkit#3222). With no task left to reap, there is nothing to race.
 */
export function removableAfterStop(tasks: readonly SwarmTask[]): boolean {
  return tasks.every(
    (t) =>
      t.DesiredState !== 'remove' && t.Status.State !== 'running' && !STARTING.has(t.Status.State),
  );
}

/**
 * The task's state in the words of the Runtime contract. A task on a node the managers see as
 * down is dead: its container may still run, but nothing the cluster knows can reach it.
 */
export function taskState(task: SwarmTask | null, nodeDown: boolean): InstanceState {
  if (task === null) return 'created';
  const s = task.Status.State;
  if (s === 'running') {
    if (nodeDown) return 'dead';
    return task.DesiredState === 'running' ? 'running' : 'removing';
  }
  if (STARTING.has(s)) return task.DesiredState === 'running' ? 'created' : 'removing';
  if (s === 'complete' || s === 'shutdown' || s === 'failed') return 'exited';
  return 'dead'; // rejected, orphaned, remove
}

/** The task's address on the overlay network: "10.0.1.5:8080", or null. */
export function taskAddress(
  task: SwarmTask | null,
  networkId: string,
  port: number,
): string | null {
  const attachment = task?.NetworksAttachments?.find((a) => a.Network.ID === networkId);
  const cidr = attachment?.Addresses?.[0];
  return cidr ? `${cidr.split('/')[0]}:${port}` : null;
}

/** What Swarm says of the task's health: it holds a task in `starting` until its HEALTHCHECK passes. */
function taskHealth(task: SwarmTask | null): InstanceHealth {
  if (task === null) return 'none';
  if (task.Status.State === 'starting') return 'starting';
  if (/unhealthy/i.test(task.Status.Err ?? '')) return 'unhealthy';
  return 'none';
}

/** Why a task is not running, in Swarm's own words ("no suitable node (…)", an exit error). */
export function taskReason(task: SwarmTask | null): string {
  if (task === null) return 'no task yet';
  const err = task.Status.Err ? `: ${task.Status.Err}` : '';
  return `task ${task.Status.State} (${task.Status.Message ?? ''}${err})`;
}

export function toInstance(
  service: SwarmService,
  task: SwarmTask | null,
  opts: { networkId: string; nodeDown: boolean },
): Instance {
  const labels = service.Spec.Labels;
  const port = Number(labels[LABEL_PORT] ?? 0);
  const state = taskState(task, opts.nodeDown);
  const exit = task?.Status.ContainerStatus?.ExitCode;
  return {
    id: service.ID,
    name: service.Spec.Name,
    service: labels[LABEL_SERVICE] ?? '',
    revision: Number(labels[LABEL_REVISION] ?? 0),
    state,
    exitCode: state === 'exited' || state === 'dead' ? (exit ?? null) : null,
    address: state === 'running' ? taskAddress(task, opts.networkId, port) : null,
    createdAt: new Date(service.CreatedAt).toISOString(),
    health: taskHealth(task),
  };
}
