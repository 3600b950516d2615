// Issue 17 on the Swarm lab: rollouts that must not go through. A canary that answers errors is
// judged on the numbers of all 3 proxies together and rolled back: the only failed requests are
// the canary's own 500s. A constraint no node satisfies fails the rollout at its deadline with
// Swarm's reason, and the old revision keeps serving on every node without a failed request.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { hotswap } from '../helpers/cli.js';
import { swarmSpec, underClusterLoad, useSwarmHome } from '../helpers/swarm-home.js';

const PORT = 8181;
const RATE_PER_NODE = 50;

interface Extra {
  env?: Record<string, string | number>;
  strategy?: string;
  placement?: string;
  deadline?: string;
}

function spec(image: string, x: Extra = {}): string {
  return swarmSpec({
    image,
    port: PORT,
    env: x.env ?? {},
    deadline: x.deadline,
    strategy: x.strategy,
    analysis: '{ minRequests: 20, errorRate: { max: 2% } }',
    placement: x.placement,
  });
}

const lab = useSwarmHome({
  name: 'failures',
  port: PORT,
  controlPort: 7381,
  first: (f) => spec(f.image('hotswap-fixture:v1')),
});

async function lastRollout(): Promise<{ status: string; reason: string | null }> {
  const out = (await hotswap(lab.h.home, ['history', 'web', '--json'])).stdout;
  return (JSON.parse(out) as { rollouts: { status: string; reason: string | null }[] })
    .rollouts[0]!;
}

test('a canary answering 20% errors is rolled back; its own 500s are the only failures', async () => {
  const { h } = lab;
  let code = -1;
  let out = '';
  const strategy =
    '{ type: canary, steps: [{ setWeight: 34 }, { analysis: { interval: 3s, count: 3 } }, { setWeight: 100 }] }';
  const m = await underClusterLoad(h.urls, RATE_PER_NODE, async () => {
    const r = await h.up(
      spec(lab.image('hotswap-fixture:v2'), {
        env: { ERROR_PERCENT: 20, VERSION: 'canary-err' },
        strategy,
      }),
    );
    code = r.code;
    out = r.stderr + r.stdout;
  });
  const failed = m.samples.filter((s) => !s.ok);
  console.log(
    `canary rollback: ${m.actionMs} ms; ${m.all.sent} requests, ${failed.length} failed ` +
      `(${failed.filter((s) => s.version === 'canary-err').length} of them the canary's 500s)`,
  );
  assert.equal(code, 3, out);
  assert.ok(failed.length > 0, 'the canary took its share of traffic on the proxies');
  assert.ok(
    failed.every((s) => s.status === 500 && s.version === 'canary-err'),
    JSON.stringify(failed.filter((s) => s.version !== 'canary-err').slice(0, 3)),
  );
  assert.deepEqual(Object.keys(m.afterwards.versions), ['v1']);
  const last = await lastRollout();
  assert.equal(last.status, 'failed');
  assert.match(last.reason ?? '', /error rate/);
});

test('a constraint no node satisfies fails at the deadline with that reason; v1 keeps serving', async () => {
  const { h } = lab;
  let code = -1;
  let out = '';
  const m = await underClusterLoad(h.urls, RATE_PER_NODE, async () => {
    const r = await h.up(
      spec(lab.image('hotswap-fixture:v2'), {
        placement: '{ constraints: ["node.labels.lab==nowhere"] }',
        deadline: '8s',
      }),
    );
    code = r.code;
    out = r.stderr + r.stdout;
  });
  console.log(
    `unsatisfiable constraint: failed after ${m.actionMs} ms; ${m.all.sent} requests, ${m.all.failed} failed`,
  );
  assert.equal(code, 3, out);
  assert.match(out, /no suitable node/);
  assert.equal(m.all.failed, 0, JSON.stringify(m.all.errors));
  assert.deepEqual(Object.keys(m.afterwards.versions), ['v1']);
  const last = await lastRollout();
  assert.equal(last.status, 'failed');
  assert.match(last.reason ?? '', /no suitable node/);
});
