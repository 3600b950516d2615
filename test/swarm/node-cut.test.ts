// Issue 17 on the Swarm lab: node3's link is cut while v1 → v2 rolls: the rollout finishes on the
// remaining nodes (or undoes, by its rule), and the clients of node1's and node2's proxies see no
// failed request but those already sent to node3's instance.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { CliResult } from '../helpers/cli.js';
import {
  cutNode,
  killManager,
  nodeRows,
  nodeStatus,
  restartNode,
  restoreNode,
} from '../helpers/lab.js';
import {
  answers,
  instanceNodes,
  quorumWhole,
  serving,
  sleep,
  swarmSpec,
  underClusterLoad,
  until,
  useSwarmHome,
} from '../helpers/swarm-home.js';

const PORT = 8182;
const RATE_PER_NODE = 60;

const spec = (image: string) => swarmSpec({ image, port: PORT, deadline: '30s', drain: '3s' });

const lab = useSwarmHome({
  name: 'faults',
  port: PORT,
  controlPort: 7382,
  first: (f) => spec(f.image('hotswap-fixture:v1')),
  faults: true,
});

test('node3 cut mid-rollout: the rollout ends by its rule, node1 and node2 proxies fail nothing', async () => {
  const { h, config } = lab;
  await until('3 reachable managers', () => quorumWhole(config), 180_000);
  // After the manager test, node2's engine restarted: its tasks were replaced. Start from a
  // cluster at rest again: 3 instances serve and every proxy answers.
  await until('3 instances serve', async () => (await serving(h)).count === 3, 120_000);
  await until(
    'every proxy serves web',
    async () => (await Promise.all(h.urls.map(answers))).every(Boolean),
    60_000,
  );
  await sleep(5_000);
  const next = (await serving(h)).revision === 2 ? 'hotswap-fixture:v1' : 'hotswap-fixture:v2';
  const survivors = h.urls.slice(0, 2);
  let r!: CliResult;
  let m!: Awaited<ReturnType<typeof underClusterLoad>>;
  try {
    m = await underClusterLoad(survivors, RATE_PER_NODE, async () => {
      const rollout = h.up(spec(lab.image(next)));
      await sleep(4_000);
      cutNode(3, config);
      const cutAt = Date.now();
      r = await rollout;
      console.log(`rollout ended ${Date.now() - cutAt} ms after the cut (exit ${r.code})`);
    });
  } finally {
    restoreNode(3, config);
  }
  console.log(
    `node cut: ${m.actionMs} ms; ${m.all.sent} requests through node1+node2, ${m.all.failed} failed ` +
      `${JSON.stringify(m.all.errors)}; p99 ${m.all.p99Ms.toFixed(0)} ms; versions after ${JSON.stringify(m.afterwards.versions)}`,
  );
  assert.ok([0, 3].includes(r.code), r.stderr + r.stdout);
  // Requests already sent to an instance on node3 when its link went dark wait on kept-alive
  // upstream connections: the proxies find node3's host gone within about 2 s and send them to
  // another instance (src/proxy/core/reachability.ts). 0 failed in 4 of 4 runs here; the bound
  // leaves room for a client timeout on a loaded CI machine, and nothing else may fail.
  assert.deepEqual(
    Object.keys(m.all.errors).filter((k) => k !== 'timeout'),
    [],
  );
  assert.ok(m.all.failed <= m.all.sent / 1000, `${m.all.failed} of ${m.all.sent} failed`);
  assert.equal(Object.keys(m.afterwards.versions).length, 1, 'one revision serves at the end');
  await until('3 instances serve again', async () => (await serving(h)).count === 3, 60_000);
  const stable = (await serving(h)).revision;
  const nodes = await instanceNodes(h.api, h.scope, stable);
  console.log(`after the cut: r${stable} on ${JSON.stringify(nodes)}`);
  const ready = (): boolean => {
    try {
      return nodeStatus(3, config) === 'Ready';
    } catch {
      return false; // the manager is busy with the node that came back
    }
  };
  await until('node3 Ready again', ready, 90_000).catch(async (err: Error) => {
    // Seen once on a loaded CI machine: node3's engine never reported back after a long cut.
    // An operator restarts that engine; so does the test, and says so (Swarm's, not hotswap's).
    console.log(`${err.message}; node rows ${JSON.stringify(nodeRows(config.nodes[0]!))}`);
    console.log('restarting node3 engine');
    killManager(3, config);
    await restartNode(3, config);
    await until('node3 Ready after its engine restarted', ready, 120_000);
  });
  // Back to the declared spread: an instance moves from the crowded node to node3.
  const back = Date.now();
  await until(
    `r${stable} on 3 nodes again`,
    async () => new Set(await instanceNodes(h.api, h.scope, stable)).size === 3,
    120_000,
  );
  console.log(`spread over 3 nodes again ${Date.now() - back} ms after node3 was Ready`);
});
