// The Swarm lab itself (issue 17): 3 Ready managers with their labels, images pulled by digest
// from the lab registry, host-mode ports answering on every node address from the root netns,
// and the node-cut fault: Down within seconds, tasks rescheduled, Ready again after restore.
import assert from 'node:assert/strict';
import http from 'node:http';
import { after, before, test } from 'node:test';
import { uniqueScope } from '../helpers/docker.js';
import {
  createHostService,
  cutNode,
  engineAnswers,
  killManager,
  restartNode,
  serviceTasks,
  dockerOn,
  labImages,
  nodeRows,
  nodeStatus,
  removeScopedServices,
  requireLab,
  restoreNode,
  runningWith,
  swarmInfo,
  waitRunning,
} from '../helpers/lab.js';
import type { LabConfig } from '../helpers/lab.js';

const scope = uniqueScope('lab');
let config: LabConfig;

function get(url: string, timeoutMs = 2_000): Promise<string> {
  return new Promise((resolve, reject) => {
    const req = http.get(url, { timeout: timeoutMs, agent: false }, (res) => {
      let body = '';
      res.on('data', (b: Buffer) => (body += b.toString()));
      res.on('end', () => resolve(`${res.statusCode} ${body.trim()}`));
    });
    req.on('timeout', () => req.destroy(new Error('timeout')));
    req.on('error', reject);
  });
}

/** Polls fn (an error counts as false: a manager mid-election may time out a CLI call). */
async function until(what: string, fn: () => boolean, timeoutMs: number): Promise<number> {
  const started = Date.now();
  const check = () => {
    try {
      return fn();
    } catch {
      return false;
    }
  };
  while (!check()) {
    if (Date.now() - started > timeoutMs) assert.fail(`${what}: not within ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, 250));
  }
  return Date.now() - started;
}

async function untilAsync(what: string, fn: () => Promise<boolean>, timeoutMs: number) {
  const started = Date.now();
  while (!(await fn())) {
    if (Date.now() - started > timeoutMs) assert.fail(`${what}: not within ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, 250));
  }
  return Date.now() - started;
}

before(async () => {
  config = await requireLab();
});

after(async () => {
  if (!config) return;
  for (const node of config.nodes) restoreNode(node.index, config);
  await restartNode(2, config); // in case the kill test failed half-way
  await removeScopedServices(config, scope);
});

test('three Ready managers, one per node, each with its lab label', () => {
  const first = config.nodes[0]!;
  const rows = nodeRows(first);
  assert.deepEqual(rows.map((r) => r.Hostname).sort(), ['node1', 'node2', 'node3']);
  assert.ok(
    rows.every((r) => r.Status === 'Ready'),
    JSON.stringify(rows),
  );
  assert.ok(
    rows.every((r) => r.ManagerStatus !== ''),
    'every node is a manager',
  );
  for (const node of config.nodes) assert.equal(swarmInfo(node).ControlAvailable, true);
  const labels = dockerOn(first, [
    'node',
    'inspect',
    '--format',
    '{{.Description.Hostname}}={{index .Spec.Labels "lab"}}',
    ...rows.map((r) => r.ID),
  ]).stdout;
  assert.deepEqual(labels.trim().split('\n').sort(), ['node1=node1', 'node2=node2', 'node3=node3']);
});

test('a host-mode service pulled by digest answers on every node; a cut node is rescheduled', async () => {
  const v1 = labImages(config)['hotswap-fixture:v1']!.digestRef;
  const name = `${scope}-web`;
  createHostService(config, { name, image: v1, scope, port: 8080 });
  const ms = await waitRunning(config, name, v1, 3, 60_000);
  console.log(`3 tasks of ${v1} running after ${ms} ms`);
  for (const node of config.nodes) {
    assert.match(await get(`http://${node.address}:8080/`), /^200 /, node.name);
  }

  // A second service without host ports, 3 replicas: after node3 is cut, its task moves.
  const spread = `${scope}-spread`;
  createHostService(config, {
    name: spread,
    image: v1,
    scope,
    extra: ['--replicas-max-per-node', '0'],
  });
  await waitRunning(config, spread, v1, 3, 60_000);

  const cutAt = Date.now();
  cutNode(3, config);
  const downMs = await until('node3 Down', () => nodeStatus(3, config) === 'Down', 30_000);
  await assert.rejects(get(`http://${config.nodes[2]!.address}:8080/`, 1_000));
  const onOthers = () =>
    runningWith(config, spread, v1).filter((t) => !t.Node.includes('node3')).length === 3;
  await until('3 tasks of the spread service on node1/node2', onOthers, 60_000);
  const rescheduleMs = Date.now() - cutAt;
  console.log(`node3 cut: Down after ${downMs} ms, tasks rescheduled after ${rescheduleMs} ms`);

  restoreNode(3, config);
  const readyMs = await until('node3 Ready', () => nodeStatus(3, config) === 'Ready', 30_000);
  console.log(`node3 restored: Ready after ${readyMs} ms`);
  assert.match(await get(`http://${config.nodes[2]!.address}:8080/`), /^200 /);
});

test('a killed manager: its tasks keep serving, the others keep quorum, restartNode brings it back', async () => {
  const name = `${scope}-web`; // from the test above: one task per node on port 8080
  const node2 = config.nodes[1]!;
  assert.ok(killManager(2, config), 'a dockerd pid was killed');
  assert.equal(engineAnswers(node2), false);
  assert.match(await get(`http://${node2.address}:8080/`), /^200 /, "node2's task still serves");
  const apiMs = await until(
    'the other managers answer',
    () => {
      try {
        return serviceTasks(config, name).length > 0;
      } catch {
        return false;
      }
    },
    60_000,
  );
  await restartNode(2, config);
  const readyMs = await until('node2 Ready', () => nodeStatus(2, config) === 'Ready', 60_000);
  // Without live-restore, the restarted dockerd stops the containers it finds; Swarm then
  // starts the task again, so node2's port is back after a short outage.
  const servesMs = await untilAsync(
    'node2 serving again',
    async () => {
      try {
        return /^200 /.test(await get(`http://${node2.address}:8080/`));
      } catch {
        return false;
      }
    },
    60_000,
  );
  console.log(
    `node2's dockerd killed: API of the others after ${apiMs} ms; restarted: Ready after ` +
      `${readyMs} ms, its task serving again after ${servesMs} ms`,
  );
});

test("hotswap's proxy image, pulled by digest from the lab registry, opens its control socket", async () => {
  const entry = Object.entries(labImages(config)).find(([tag]) => tag.startsWith('hotswap-proxy:'));
  assert.ok(entry, 'lab:up pushed a hotswap-proxy image');
  const node2 = config.nodes[1]!; // node2 pulls it (node1 only pushed it)
  const name = `${scope}-proxy`;
  dockerOn(node2, [
    'run',
    '-d',
    '--name',
    name,
    '--label',
    `hotswap.scope=${scope}`,
    entry[1].digestRef,
  ]);
  try {
    const probe = [
      'exec',
      name,
      '/usr/local/bin/node',
      '-e',
      "require('net').connect('/run/hotswap/control.sock').on('connect', () => process.exit(0)).on('error', () => process.exit(1))",
    ];
    const ms = await until(
      'the control socket answers',
      () => dockerOn(node2, probe, { allowFail: true }).status === 0,
      30_000,
    );
    console.log(`proxy container on node2: control socket answering after ${ms} ms`);
  } finally {
    dockerOn(node2, ['rm', '-f', name], { allowFail: true });
  }
});
