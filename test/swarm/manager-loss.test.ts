// Issue 17 on the Swarm lab: a manager lost mid-rollout (node2's dockerd killed; quorum kept with
// 2 of 3) does not lose the rollout, and the proxies' clients see no failed request. Afterwards
// node2's engine is started again and the file waits until Swarm has replaced node2's tasks, so
// the next file starts on a cluster at rest.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import type { CliResult } from '../helpers/cli.js';
import {
  killManager,
  nodeRows,
  requireLab,
  restartNode,
  restoreNode,
  type LabConfig,
} from '../helpers/lab.js';
import {
  answers,
  labImage,
  serving,
  sleep,
  swarmHome,
  underClusterLoad,
  until,
  type SwarmHome,
} from '../helpers/swarm-home.js';

const PORT = 8183;
const RATE_PER_NODE = 60;

function spec(image: string): string {
  return `services:
  web:
    image: ${image}
    replicas: 3
    port: 8080
    listen: 0.0.0.0:${PORT}
    health: { http: /healthz, interval: 300ms, healthyThreshold: 2, deadline: 30s }
    strategy: { type: rolling, maxSurge: 1, maxUnavailable: 0 }
    drain: { timeout: 3s }
    stopGracePeriod: 3s
`;
}

let config: LabConfig;
let h: SwarmHome;

async function newProxyOnNode2(since: string): Promise<boolean> {
  const node2 = (await h.api.nodes()).find((n) => n.Description?.Hostname === 'node2');
  const proxies = await h.api.services([`hotswap.scope=${h.scope}`, 'hotswap.role=proxy']);
  if (!node2 || proxies.length === 0) return false;
  const tasks = await h.api.tasks({ service: proxies.map((p) => p.ID) });
  return tasks.some(
    (t) => t.NodeID === node2.ID && t.Status.State === 'running' && t.CreatedAt > since,
  );
}

before(async () => {
  config = await requireLab();
  h = swarmHome(config, { port: PORT, controlPort: 7383, name: 'manager' });
  // The file before this one (lab.test) kills and restarts a manager: start from a whole quorum.
  await until('3 reachable managers', quorumWhole, 120_000);
  let r = await h.up(spec(labImage('hotswap-fixture:v1', config)));
  if (r.code !== 0) {
    // A task on the node whose engine was just restarted can stay "starting" past the deadline:
    // setup gets one more try (the rollout under test is the next one).
    console.log(`first deploy failed, once more:\n${r.stderr}`);
    r = await h.up(spec(labImage('hotswap-fixture:v1', config)));
  }
  assert.equal(r.code, 0, r.stderr + r.stdout);
});

after(async () => {
  if (config) for (const n of [1, 2, 3]) restoreNode(n, config);
  if (config) await restartNode(2, config).catch(() => undefined);
  await h?.down();
});

/** Every manager Ready and reachable (a node just back shows Unreachable for a few seconds). */
function quorumWhole(): boolean {
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

test('a manager lost mid-rollout (quorum kept) does not lose the rollout', async () => {
  await until('3 reachable managers', quorumWhole, 120_000);
  // node3's proxy task may have been replaced when it came back: every proxy serves first.
  await until(
    'every proxy serves web',
    async () => (await Promise.all(h.urls.map(answers))).every(Boolean),
    60_000,
  );
  const before = (await serving(h)).revision;
  const next = before === 2 ? 'hotswap-fixture:v1' : 'hotswap-fixture:v2';
  let r!: CliResult;
  const m = await underClusterLoad(h.urls, RATE_PER_NODE, async () => {
    const rollout = h.up(spec(labImage(next, config)));
    await sleep(3_000);
    assert.notEqual(killManager(2, config), null);
    r = await rollout;
  });
  console.log(
    `manager lost: ${m.actionMs} ms (exit ${r.code}); ${m.all.sent} requests, ${m.all.failed} failed ` +
      `${JSON.stringify(m.all.errors)}; per node ${JSON.stringify(Object.fromEntries(Object.entries(m.perNode).map(([k, v]) => [k, v.errors])))}`,
  );
  // The rollout is not lost: it ends by its rule, recorded. It finishes when its new instances
  // land on node1 or node3; one placed on node2 just before the kill cannot report running, and
  // the rollout is undone at its deadline with the old revision serving.
  assert.ok([0, 3].includes(r.code), r.stderr + r.stdout);
  const now = (await serving(h)).revision;
  assert.equal(now, r.code === 0 ? before + 1 : before);
  await until('3 instances serve', async () => (await serving(h)).count === 3, 90_000);
  // The clients of node1's and node3's proxies: nothing fails but the odd request already sent
  // to an instance on node2 when the others' overlay dropped node2 (its engine is gone). node2's
  // own proxy keeps running without its engine: its overlay learns no new task, so requests
  // it sends to the new revision's instances fail; that node's loss is reported, not asserted.
  const lost = config.nodes[1]!.address;
  const kept = Object.entries(m.perNode).filter(([host]) => host !== lost);
  const sent = kept.reduce((n, [, v]) => n + v.sent, 0);
  const failed = kept.reduce((n, [, v]) => n + v.failed, 0);
  const kinds = new Set(kept.flatMap(([, v]) => Object.keys(v.errors)));
  console.log(`through node1+node3: ${sent} requests, ${failed} failed [${[...kinds].join(', ')}]`);
  assert.deepEqual(
    [...kinds].filter((k) => k !== 'timeout'),
    [],
  );
  assert.ok(failed <= sent / 1000, `${failed} of ${sent} failed through node1+node3`);
  const restarted = new Date().toISOString();
  await until(
    'node2 engine back',
    () =>
      restartNode(2, config).then(
        () => true,
        () => false,
      ),
    120_000,
  );
  // Its engine restarted, node2's tasks are replaced by Swarm (the proxy task among them): wait
  // for a proxy task on node2 made after the restart, so the next test file starts at rest.
  await until('a new proxy task on node2', () => newProxyOnNode2(restarted), 120_000).catch(
    (err: Error) => console.log(`not seen: ${err.message}`),
  );
  await sleep(3_000);
});
