// Issue 17 on the Swarm lab: blue-green and instant rollback with the same spec as on one host.
// v2's group starts at full size beside v1's and answers on the preview listener of every node's
// proxy while the main listeners serve v1 only; `hotswap promote` moves all traffic at once; the
// old group stays warm (scaleDownDelay), so `hotswap rollback` flips back to it: no failed
// request on any proxy, and the flip's time is printed (README's Swarm table).
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { getText, hotswap, type CliResult } from '../helpers/cli.js';
import {
  answers,
  swarmSpec,
  underClusterLoad,
  until,
  useSwarmHome,
} from '../helpers/swarm-home.js';

const PORT = 8184;
const PREVIEW = 8185;
const RATE_PER_NODE = 60;

const spec = (image: string) =>
  swarmSpec({
    image,
    port: PORT,
    strategy: { type: 'blue-green', previewListen: `0.0.0.0:${PREVIEW}`, scaleDownDelay: '5m' },
  });

const lab = useSwarmHome({
  name: 'bluegreen',
  port: PORT,
  controlPort: 7384,
  extraPorts: [PREVIEW],
  first: (f) => spec(f.image('hotswap-fixture:v1')),
});

const previewUrls = () => lab.config.nodes.map((n) => `http://${n.address}:${PREVIEW}/`);

async function lastRollout(): Promise<{ kind: string; strategy: string; status: string }> {
  const out = (await hotswap(lab.h.home, ['history', 'web', '--json'])).stdout;
  return (JSON.parse(out) as { rollouts: { kind: string; strategy: string; status: string }[] })
    .rollouts[0]!;
}

test('blue-green v1 → v2: preview on every proxy, promote under load, 0 failed requests', async () => {
  const { h } = lab;
  let r!: CliResult;
  let promoteMs = 0;
  const m = await underClusterLoad(h.urls, RATE_PER_NODE, async () => {
    const running = h.up(spec(lab.image('hotswap-fixture:v2')));
    const previews = previewUrls();
    await until(
      'v2 on the preview listener of every proxy',
      async () =>
        (
          await Promise.all(
            previews.map((u) =>
              getText(u).then(
                (t) => t.version === 'v2',
                () => false,
              ),
            ),
          )
        ).every(Boolean),
      90_000,
    );
    // Previewed: the main listeners still serve v1 only.
    for (const url of h.urls)
      for (let i = 0; i < 5; i++) assert.equal((await getText(url)).version, 'v1', url);
    const promotedAt = Date.now();
    const p = await hotswap(h.home, ['promote', 'web']);
    assert.equal(p.code, 0, p.stderr + p.stdout);
    r = await running;
    promoteMs = Date.now() - promotedAt;
  });
  console.log(
    `blue-green v1→v2: ${m.actionMs} ms (promote to done ${promoteMs} ms); ` +
      `${m.all.sent} requests, ${m.all.failed} failed; p50 ${m.all.p50Ms.toFixed(1)} ms ` +
      `p99 ${m.all.p99Ms.toFixed(1)} ms; per node ` +
      JSON.stringify(
        Object.fromEntries(Object.entries(m.perNode).map(([k, v]) => [k, `${v.sent}/${v.failed}`])),
      ),
  );
  assert.equal(r.code, 0, r.stderr + r.stdout);
  assert.equal(m.all.failed, 0, JSON.stringify(m.all.errors));
  assert.ok(m.all.sent > RATE_PER_NODE * 3 * 5, `enough load was sent (${m.all.sent})`);
  assert.deepEqual(Object.keys(m.afterwards.versions), ['v2']);
  for (const url of h.urls) assert.equal((await getText(url)).version, 'v2', url);
  for (const url of previewUrls())
    assert.equal(await answers(url), false, `the preview listener closes at promotion: ${url}`);
  assert.equal((await lastRollout()).status, 'succeeded');
});

test('instant rollback after promotion: back to v1 on every proxy, 0 failed, flip timed', async () => {
  const { h } = lab;
  let r!: CliResult;
  const m = await underClusterLoad(h.urls, RATE_PER_NODE, async () => {
    r = await hotswap(h.home, ['rollback', 'web', '--json']);
  });
  assert.equal(r.code, 0, r.stderr + r.stdout);
  const result = (
    JSON.parse(r.stdout.trim().split('\n').at(-1)!) as {
      result: { flipMs: number; revision: number; durationMs: number };
    }
  ).result;
  const v2 = m.samples.filter((s) => s.version === 'v2');
  const lastV2 = Math.max(...v2.map((s) => s.at + s.latencyMs)) - m.actionStart;
  console.log(
    `instant rollback r2→r1: flip ${result.flipMs} ms (rollback ${result.durationMs} ms, command ` +
      `${r.ms} ms); last v2 answer ${Math.round(lastV2)} ms after the command started; ` +
      `${m.all.sent} requests, ${m.all.failed} failed`,
  );
  assert.equal(result.revision, 1);
  assert.ok(result.flipMs < 2000, `flip took ${result.flipMs} ms`);
  assert.equal(m.all.failed, 0, JSON.stringify(m.all.errors));
  assert.deepEqual(Object.keys(m.afterwards.versions), ['v1']);
  for (const url of h.urls) assert.equal((await getText(url)).version, 'v1', url);
  const last = await lastRollout();
  assert.equal(last.kind, 'rollback');
  assert.equal(last.strategy, 'instant');
});
