import assert from 'node:assert/strict';
import { test } from 'node:test';
import { HotswapError } from '../../errors.js';
import type { SwarmApi, SwarmNode, SwarmService, SwarmTask } from './api.js';
import { repositoryOf } from './images.js';
import { assertManager } from './manager-check.js';
import { instanceServiceSpec } from './service-spec.js';
import { spreadConstraints } from './spread.js';
import { latestTask, removableAfterStop, taskAddress, taskState, toInstance } from './tasks.js';

const node = (id: string, labels: Record<string, string>, state = 'ready'): SwarmNode => ({
  ID: id,
  Spec: { Labels: labels, Availability: 'active' },
  Description: { Hostname: `host-${id}` },
  Status: { State: state, Addr: `10.0.0.${id}` },
});

test('spread: constraints steer away from nodes the revision already crowds', () => {
  const nodes = [node('1', { zone: 'a' }), node('2', { zone: 'b' }), node('3', { zone: 'b' })];
  assert.deepEqual(spreadConstraints(nodes, [], 'node.id'), []);
  assert.deepEqual(spreadConstraints(nodes, ['1'], 'node.id'), ['node.id!=1']);
  assert.deepEqual(spreadConstraints(nodes, ['1', '2'], 'node.id'), ['node.id!=1', 'node.id!=2']);
  assert.deepEqual(spreadConstraints(nodes, ['1', '2', '3'], 'node.id'), []);
  assert.deepEqual(spreadConstraints(nodes, ['2'], 'node.labels.zone'), ['node.labels.zone!=b']);
  assert.deepEqual(spreadConstraints(nodes, ['1'], 'node.hostname'), ['node.hostname!=host-1']);
  // A node that is down neither counts nor is avoided.
  const down = [node('1', {}), node('2', {}), node('3', {}, 'down')];
  assert.deepEqual(spreadConstraints(down, ['1', '3'], 'node.id'), ['node.id!=1']);
});

const task = (over: Partial<SwarmTask> & { state: string }): SwarmTask => ({
  ID: 't',
  ServiceID: 's',
  NodeID: '1',
  CreatedAt: '2026-01-01T00:00:00Z',
  DesiredState: 'running',
  Status: { State: over.state, ContainerStatus: { ExitCode: 3 } },
  NetworksAttachments: [{ Network: { ID: 'net' }, Addresses: ['172.24.1.9/24'] }],
  ...over,
});

test('a task as an instance: state, overlay address, exit code, node down', () => {
  assert.equal(taskState(task({ state: 'running' }), false), 'running');
  assert.equal(taskState(task({ state: 'running' }), true), 'dead');
  assert.equal(taskState(task({ state: 'running', DesiredState: 'shutdown' }), false), 'removing');
  assert.equal(taskState(task({ state: 'pending' }), false), 'created');
  assert.equal(taskState(task({ state: 'failed' }), false), 'exited');
  assert.equal(taskState(task({ state: 'rejected' }), false), 'dead');
  assert.equal(taskState(null, false), 'created');
  assert.equal(taskAddress(task({ state: 'running' }), 'net', 8080), '172.24.1.9:8080');
  assert.equal(taskAddress(task({ state: 'running' }), 'other', 8080), null);
  const newest = latestTask([
    task({ state: 'failed', ID: 'old' }),
    task({ state: 'running', ID: 'new', CreatedAt: '2026-01-02T00:00:00Z' }),
  ]);
  assert.equal(newest?.ID, 'new');
  const service = {
    ID: 'svc',
    Version: { Index: 1 },
    CreatedAt: '2026-01-01T00:00:00Z',
    Spec: {
      Name: 'hs-web',
      Labels: { 'hotswap.service': 'web', 'hotswap.revision': '2', 'hotswap.port': '8080' },
    },
  } as unknown as SwarmService;
  const i = toInstance(service, task({ state: 'failed' }), { networkId: 'net', nodeDown: false });
  assert.deepEqual(
    [i.service, i.revision, i.state, i.exitCode, i.address],
    ['web', 2, 'exited', 3, null],
  );
});

test('a stopped service is removed only once Swarm reaped its tasks (a removal racing the reaper crashes 20.10 managers)', () => {
  const reaped = task({ state: 'shutdown', DesiredState: 'remove' });
  assert.equal(removableAfterStop([]), true, 'every task reaped');
  assert.equal(removableAfterStop([task({ state: 'running', DesiredState: 'remove' })]), false);
  assert.equal(removableAfterStop([task({ state: 'starting', DesiredState: 'remove' })]), false);
  assert.equal(removableAfterStop([reaped]), false, 'stopped, but the reaper has yet to delete it');
  assert.equal(
    removableAfterStop([task({ state: 'failed', DesiredState: 'shutdown' })]),
    true,
    'a task kept as history is not reaped: no race, no wait',
  );
  assert.equal(removableAfterStop([task({ state: 'running', DesiredState: 'shutdown' })]), false);
});

test('an instance request as a one-replica dnsrr service with labels, limits and placement', () => {
  const spec = instanceServiceSpec(
    {
      service: 'web',
      revision: 2,
      image: 'reg:5000/app@sha256:' + 'a'.repeat(64),
      env: { A: '1' },
      command: ['serve'],
      port: 8080,
      volumes: [],
      stopGracePeriodMs: 5000,
      resources: { cpus: 0.5, memory: 64 * 1024 * 1024 },
    },
    { scope: 'sc', name: 'hs-sc-web-r2-x', networkId: 'net', constraints: ['node.labels.zone==a'] },
  );
  assert.deepEqual(spec.Mode, { Replicated: { Replicas: 1 } });
  assert.deepEqual(spec.EndpointSpec, { Mode: 'dnsrr' });
  assert.equal(spec.Labels['hotswap.scope'], 'sc');
  assert.equal(spec.Labels['hotswap.revision'], '2');
  assert.deepEqual(spec.TaskTemplate.ContainerSpec.Args, ['serve']);
  assert.equal(spec.TaskTemplate.ContainerSpec.StopGracePeriod, 5e9);
  assert.deepEqual(spec.TaskTemplate.Resources?.Limits, {
    NanoCPUs: 5e8,
    MemoryBytes: 64 * 1024 * 1024,
  });
  assert.deepEqual(spec.TaskTemplate.Placement, { Constraints: ['node.labels.zone==a'] });
  assert.deepEqual(spec.TaskTemplate.RestartPolicy, { Condition: 'none' });
  assert.throws(
    () =>
      instanceServiceSpec(
        {
          service: 'web',
          revision: 1,
          image: 'x',
          env: {},
          command: null,
          port: 1,
          volumes: [],
          stopGracePeriodMs: 0,
          files: [{ path: '/a', data: new Uint8Array() }],
        },
        { scope: 'sc', name: 'n', networkId: 'net', constraints: [] },
      ),
    (err: Error) => err instanceof HotswapError && err.code === 'UNSUPPORTED',
  );
});

test('the repository of an image reference, registry port kept', () => {
  assert.equal(repositoryOf('10.0.0.2:5000/app:v1'), '10.0.0.2:5000/app');
  assert.equal(repositoryOf('10.0.0.2:5000/app'), '10.0.0.2:5000/app');
  assert.equal(repositoryOf('reg/app:v1@sha256:abc'), 'reg/app');
});

test('a daemon pointed at an engine outside a Swarm, or at a worker, is told what to do', async () => {
  const api = (swarm: object) =>
    ({ info: () => Promise.resolve({ Swarm: swarm }) }) as unknown as SwarmApi;
  await assert.rejects(
    assertManager(api({ LocalNodeState: 'inactive' }), 'unix:///x.sock'),
    (err: Error) => {
      assert.ok(err instanceof HotswapError && err.code === 'DOCKER_UNAVAILABLE');
      assert.match(
        err.message,
        /not part of an active Swarm \(state inactive\); run `docker swarm init`/,
      );
      return true;
    },
  );
  await assert.rejects(
    assertManager(api({ LocalNodeState: 'active', ControlAvailable: false }), 'unix:///x.sock'),
    /is a Swarm worker, not a manager/,
  );
  await assertManager(api({ LocalNodeState: 'active', ControlAvailable: true }), 'unix:///x.sock');
});
