// Swarm's own rolling update, measured in the lab (issue 17): the figures hotswap's Swarm
// backend is compared with. A service of 3 replicas, one per node (host-mode port 8080, no
// routing mesh: the kernel has no IPVS), `docker service update --image` v1 -> v2 -> v1 …
// with parallelism 1, delay 0 s and stop-first (start-first deadlocks on a host port), under a
// bounded open-loop load from the root netns to the 3 node addresses (rate/3 each).
//
// Faults (optional, once per run, during the update):
//   --fault cut   cut node N's link (`ip link set … down` at the hub) --fault-after-ms after
//                 the update starts; restored once the update settles; reports what the
//                 surviving nodes' clients saw, when the node was seen Down and when the
//                 service was back to 3 running tasks after the restore
//   --fault kill  SIGKILL node N's dockerd (a lost manager; its containers keep running), and
//                 start it again once the update settled
//
//   node dist/bench/swarm-baseline.js [--runs 3] [--rate 300] [--connections keep-alive]
//        [--fault cut|kill] [--node 1..3|leader] [--fault-after-ms 3000] [--json]
// Needs the lab up (npm run lab:up; HOTSWAP_LAB_PREFIX/SUBNET as there). Leaves nothing behind:
// the service carries a unique hotswap.scope label and is removed at the end.

import { writeFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { summarize } from '../src/assess/index.js';
import type { Sample } from '../src/assess/index.js';
import {
  createHostService,
  cutNode,
  killManager,
  labImages,
  nodeRows,
  nodeStatus,
  removeScopedServices,
  requireLab,
  restartNode,
  restoreNode,
  startLabLoad,
  runningWith,
  updateState,
  waitRunning,
  dockerOn,
  anyManager,
} from '../test/helpers/lab.js';
import type { LabConfig } from '../test/helpers/lab.js';

const { values } = parseArgs({
  options: {
    runs: { type: 'string', default: '3' },
    rate: { type: 'string', default: '300' },
    connections: { type: 'string', default: 'keep-alive' },
    fault: { type: 'string' },
    node: { type: 'string', default: '3' },
    'fault-after-ms': { type: 'string', default: '3000' },
    json: { type: 'boolean', default: false },
    samples: { type: 'string' },
  },
});

const runs = Number(values.runs);
const rate = Number(values.rate);
let faultNode = Number(values.node);
const faultAfterMs = Number(values['fault-after-ms']);
const connections = values.connections as 'keep-alive' | 'new' | 'mixed';
if (!['keep-alive', 'new', 'mixed'].includes(connections)) usage('--connections');
if (values.fault !== undefined && !['cut', 'kill'].includes(values.fault)) usage('--fault');
if (!(runs >= 1 && runs <= 10) || !(rate > 0 && rate <= 3000)) usage('--runs 1..10, --rate');

function usage(what: string): never {
  console.error(`swarm-baseline: bad ${what}`);
  process.exit(2);
}

const log = (line: string) => console.error(`${new Date().toISOString().slice(11, 23)} ${line}`);
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const PORT = 8080;
const CONVERGE_TIMEOUT_MS = 180_000;

interface NodeFigures {
  node: string;
  sent: number;
  failed: number;
  longestGapMs: number;
  errors: Record<string, number>;
}

interface RunFigures {
  run: number;
  from: string;
  to: string;
  fault: string | null;
  sent: number;
  failed: number;
  /** Failed requests to the nodes that were not faulted (all nodes when no fault). */
  failedSurvivors: number;
  longestGapMs: number;
  convergeMs: number | null;
  updateState: string | null;
  p50Ms: number;
  p99Ms: number;
  errors: Record<string, number>;
  perNode: NodeFigures[];
  faultTimes?: Record<string, number | null>;
}

/** Longest time without a successful completion, from the first sample to the last. */
function longestGap(samples: Sample[]): number {
  const done = samples
    .filter((s) => s.ok)
    .map((s) => s.at + s.latencyMs)
    .sort((a, b) => a - b);
  if (samples.length === 0) return 0;
  let gap = 0;
  let prev = samples[0]?.at ?? 0;
  for (const t of done) {
    gap = Math.max(gap, t - prev);
    prev = t;
  }
  return Math.round(gap);
}

/**
 * Time until the update settles: UpdateStatus completed with every replica running the new
 * image, or (with a node gone, where one replica cannot be placed) completed and stable for
 * 10 s; null when it paused, rolled back or ran out of time.
 */
async function converge(
  config: LabConfig,
  name: string,
  image: string,
  faulted: () => boolean,
): Promise<number | null> {
  const started = Date.now();
  let completedAt: number | null = null;
  // With a node gone, Swarm's update can wait for it for ever: give up after 60 s.
  const timeoutMs = () => (faulted() ? 60_000 : CONVERGE_TIMEOUT_MS);
  while (Date.now() - started < timeoutMs()) {
    let state: string | null = null;
    let running = 0;
    try {
      state = updateState(config, name);
      running = runningWith(config, name, image).length;
    } catch {
      // a manager busy with an election: ask again
    }
    if (state === 'completed' && running === config.nodes.length) return Date.now() - started;
    if (state === 'completed' && faulted()) {
      completedAt ??= Date.now();
      if (Date.now() - completedAt > 10_000) return completedAt - started;
    } else completedAt = null;
    if (state === 'paused' || state === 'rollback_completed') return null;
    await sleep(250);
  }
  return null;
}

/** The lab node that is the raft leader now. */
function leaderIndex(config: LabConfig): number {
  const leader = nodeRows(anyManager(config)).find((r) => r.ManagerStatus === 'Leader');
  const node = config.nodes.find((n) => n.name === leader?.Hostname);
  if (!node) throw new Error('no leader in docker node ls');
  return node.index;
}

/** fn's value, or `fallback` when it throws (a CLI call that timed out mid-election). */
function tryOr<T, F>(fn: () => T, fallback: F): T | F {
  try {
    return fn();
  } catch {
    return fallback;
  }
}

async function waitUntil(fn: () => boolean, timeoutMs: number): Promise<number | null> {
  const started = Date.now();
  while (Date.now() - started < timeoutMs) {
    try {
      if (fn()) return Date.now() - started;
    } catch {
      // retry
    }
    await sleep(250);
  }
  return null;
}

async function oneRun(
  config: LabConfig,
  name: string,
  run: number,
  labels: { from: string; to: string },
  to: string,
): Promise<RunFigures> {
  // In a child process: the docker CLI calls below block this one's event loop.
  const load = await startLabLoad(
    {
      urls: config.nodes.map((n) => `http://${n.address}:${PORT}/`),
      ratePerSec: rate / config.nodes.length,
      connections,
      timeoutMs: 5_000,
      maxDurationMs: CONVERGE_TIMEOUT_MS + 120_000,
    },
    config,
  );
  await sleep(2_000);
  const fault = values.fault ?? null;
  const faultTimes: Record<string, number | null> = {};
  const updateStart = Date.now();
  dockerOn(anyManager(config), ['service', 'update', '--detach', '--image', to, name]);
  let faultAt = 0;
  const faultDone = (async () => {
    if (!fault) return;
    await sleep(faultAfterMs);
    faultAt = Date.now();
    if (fault === 'cut') {
      cutNode(faultNode, config);
      faultTimes['downAfterMs'] = await waitUntil(
        () => nodeStatus(faultNode, config) === 'Down',
        60_000,
      );
    } else {
      killManager(faultNode, config);
      // How long the other managers' API is unusable (raft elects a new leader if needed).
      faultTimes['apiBackAfterMs'] = await waitUntil(
        () => updateState(config, name) !== null,
        120_000,
      );
    }
    log(`${fault} node${faultNode} at +${faultAt - updateStart} ms`);
  })();
  const convergeMs = await converge(config, name, to, () => faultAt > 0);
  await faultDone;
  const state = tryOr(() => updateState(config, name), null);
  if (fault) {
    // What the running tasks look like with the node still gone, then bring it back.
    faultTimes['runningWithNodeGone'] = tryOr(() => runningWith(config, name, to).length, null);
    faultTimes['faultAtMs'] = faultAt - updateStart;
    const back = Date.now();
    if (fault === 'cut') restoreNode(faultNode, config);
    else await restartNode(faultNode, config);
    faultTimes['readyAfterRestoreMs'] = await waitUntil(
      () => nodeStatus(faultNode, config) === 'Ready',
      90_000,
    );
    // Back to the declared spread: every replica runs the new image and the update completed.
    faultTimes['convergedAfterRestoreMs'] = await waitUntil(
      () =>
        runningWith(config, name, to).length === config.nodes.length &&
        updateState(config, name) === 'completed',
      120_000,
    );
    log(`node${faultNode} back: ${JSON.stringify(faultTimes)} (${Date.now() - back} ms)`);
  }
  await sleep(2_000);
  const perNodeSamples = await load.stop();
  const all = perNodeSamples.flat();
  if (values.samples) {
    // Raw per-request samples (node, scheduled ms, latency, ok, error), plus the update start.
    const rows = perNodeSamples.flatMap((samples, i) =>
      samples.map(
        (x) =>
          `${i + 1},${x.at.toFixed(1)},${x.latencyMs.toFixed(1)},${x.ok},${x.error ?? x.status}`,
      ),
    );
    writeFileSync(
      `${values.samples}.run${run}.csv`,
      `node,at,latency,ok,error\n${rows.join('\n')}\n`,
    );
  }
  const sum = summarize(all);
  const perNode = perNodeSamples.map((samples, i) => {
    const s = summarize(samples);
    return {
      node: config.nodes[i]!.name,
      sent: s.sent,
      failed: s.failed,
      longestGapMs: longestGap(samples),
      errors: s.errors,
    };
  });
  const survivors = perNode.filter((p) => !fault || p.node !== `node${faultNode}`);
  // Latency of the surviving nodes only: requests to a cut node wait for their timeout.
  const survivorSum = summarize(
    perNodeSamples.filter((_, i) => !fault || config.nodes[i]!.index !== faultNode).flat(),
  );
  return {
    run,
    from: labels.from,
    to: labels.to,
    fault: fault ? `${fault} node${faultNode}` : null,
    sent: sum.sent,
    failed: sum.failed,
    failedSurvivors: survivors.reduce((a, p) => a + p.failed, 0),
    longestGapMs: Math.max(...survivors.map((p) => p.longestGapMs)),
    convergeMs,
    updateState: state,
    p50Ms: survivorSum.p50Ms,
    p99Ms: survivorSum.p99Ms,
    errors: sum.errors,
    perNode,
    ...(fault ? { faultTimes } : {}),
  };
}

async function main(): Promise<void> {
  const config = await requireLab();
  if (values.node === 'leader') faultNode = leaderIndex(config);
  if (!config.nodes.some((n) => n.index === faultNode)) usage('--node 1..3|leader');
  const images = labImages(config);
  const v1 = images['hotswap-fixture:v1']?.digestRef;
  const v2 = images['hotswap-fixture:v2']?.digestRef;
  if (!v1 || !v2) throw new Error('lab images lack hotswap-fixture:v1/v2: run npm run lab:up');
  const scope = `swarmbl-${process.pid}`;
  const name = `${scope}-web`;
  const results: RunFigures[] = [];
  try {
    createHostService(config, {
      name,
      image: v1,
      scope,
      port: PORT,
      extra: [
        '--update-parallelism=1',
        '--update-delay=0s',
        '--update-order=stop-first',
        '--update-failure-action=pause',
      ],
    });
    await waitRunning(config, name, v1, config.nodes.length, 90_000);
    await sleep(2_000); // the image's healthcheck passes before load starts
    for (let run = 1; run <= runs; run++) {
      const labels = run % 2 === 1 ? { from: 'v1', to: 'v2' } : { from: 'v2', to: 'v1' };
      log(`run ${run}: ${labels.from} -> ${labels.to} under ${rate} req/s (${connections})`);
      const r = await oneRun(config, name, run, labels, labels.to === 'v2' ? v2 : v1);
      results.push(r);
      log(
        `run ${run}: ${r.failed}/${r.sent} failed (survivors ${r.failedSurvivors}), ` +
          `converged in ${r.convergeMs ?? '-'} ms (${r.updateState}), longest gap ` +
          `${r.longestGapMs} ms, errors ${JSON.stringify(r.errors)}`,
      );
      await sleep(2_000);
    }
  } finally {
    await removeScopedServices(config, scope);
  }
  if (values.json) {
    console.log(JSON.stringify({ rate, connections, results }));
    return;
  }
  console.log(
    '| run | update | fault | sent | failed | failed (surviving nodes) | longest gap ms (surviving) | converge ms | p50 / p99 ms (surviving) | errors |',
  );
  console.log('|---|---|---|---|---|---|---|---|---|---|');
  for (const r of results) {
    console.log(
      `| ${r.run} | ${r.from}->${r.to} | ${r.fault ?? '-'} | ${r.sent} | ${r.failed} | ` +
        `${r.failedSurvivors} | ${r.longestGapMs} | ${r.convergeMs ?? `none (${r.updateState})`} | ` +
        `${r.p50Ms} / ${r.p99Ms} | ${Object.entries(r.errors)
          .map(([k, v]) => `${k}:${v}`)
          .join(' ')} |`,
    );
    for (const p of r.perNode) {
      const errors = Object.entries(p.errors)
        .map(([k, v]) => `${k}:${v}`)
        .join(' ');
      console.log(
        `|   | ${p.node} | | ${p.sent} | ${p.failed} | | ${p.longestGapMs} | | | ${errors} |`,
      );
    }
    if (r.faultTimes)
      console.log(`|   | fault times | ${JSON.stringify(r.faultTimes)} | | | | | | | |`);
  }
}

main().catch((err) => {
  console.error(`swarm-baseline failed: ${err instanceof Error ? err.message : String(err)}`);
  process.exit(1);
});
