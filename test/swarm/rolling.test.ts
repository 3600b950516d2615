// Issue 17 end to end on the 3-node Swarm lab: hotswap's Swarm backend rolls v1 → v2 of 3
// replicas spread over the 3 nodes, under load from the root netns to the proxy task on every
// node: no request fails on any node, the new revision ends up one instance per node, and the
// time to converge is printed (README figures).
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { getText, hotswap } from '../helpers/cli.js';
import { instanceNodes, swarmSpec, underClusterLoad, useSwarmHome } from '../helpers/swarm-home.js';

const PORT = 8180;
const RATE_PER_NODE = 60;

const spec = (image: string) => swarmSpec({ image, port: PORT });

const lab = useSwarmHome({ name: 'rolling', port: PORT, controlPort: 7380 });

test('first deploy: 3 instances of v1, one per node, each proxy serves them', async () => {
  const { h } = lab;
  const t0 = Date.now();
  const r = await h.up(spec(lab.image('hotswap-fixture:v1')));
  assert.equal(r.code, 0, r.stderr + r.stdout);
  console.log(
    `first deploy (daemon start, proxy service on 3 nodes, 3 instances): ${Date.now() - t0} ms`,
  );
  for (const url of h.urls) assert.equal((await getText(url)).version, 'v1', url);
  assert.equal(new Set(await instanceNodes(h.api, h.scope, 1)).size, 3);
});

test('rolling v1 → v2 under load on all 3 proxies: 0 failed requests, v2 spread over 3 nodes', async () => {
  const { h } = lab;
  let code = -1;
  let out = '';
  const m = await underClusterLoad(h.urls, RATE_PER_NODE, async () => {
    const r = await h.up(spec(lab.image('hotswap-fixture:v2')));
    code = r.code;
    out = r.stderr + r.stdout;
  });
  console.log(
    `rolling v1→v2: converged in ${m.actionMs} ms; ${m.all.sent} requests, ${m.all.failed} failed; ` +
      `p50 ${m.all.p50Ms.toFixed(1)} ms p99 ${m.all.p99Ms.toFixed(1)} ms; per node ` +
      JSON.stringify(
        Object.fromEntries(Object.entries(m.perNode).map(([k, v]) => [k, `${v.sent}/${v.failed}`])),
      ),
  );
  assert.equal(code, 0, out);
  assert.equal(m.all.failed, 0, JSON.stringify(m.all.errors));
  assert.ok(m.all.sent > RATE_PER_NODE * 3 * 5, `enough load was sent (${m.all.sent})`);
  assert.deepEqual(Object.keys(m.afterwards.versions), ['v2']);
  assert.equal(new Set(await instanceNodes(h.api, h.scope, 2)).size, 3);
  assert.deepEqual(await instanceNodes(h.api, h.scope, 1), []);
});

test('rollback to r1 under load on all 3 proxies: 0 failed requests', async () => {
  const { h } = lab;
  let code = -1;
  let out = '';
  const m = await underClusterLoad(h.urls, RATE_PER_NODE, async () => {
    const r = await hotswap(h.home, ['rollback', 'web']);
    code = r.code;
    out = r.stderr + r.stdout;
  });
  console.log(`rollback r2→r1: ${m.actionMs} ms; ${m.all.sent} requests, ${m.all.failed} failed`);
  assert.equal(code, 0, out);
  assert.equal(m.all.failed, 0, JSON.stringify(m.all.errors));
  assert.deepEqual(Object.keys(m.afterwards.versions), ['v1']);
});
