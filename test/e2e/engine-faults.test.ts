// Issue 12 end to end, faults of what hotswap stands on, under 200 req/s through the proxy:
// - dockerd stopped (SIGTERM) and started again, at rest and in the middle of a rolling update.
//   This runs on a private dockerd of the test's own (test/helpers/private-engine.ts): the shared
//   engine serves other tests and is never restarted. With live-restore off (dockerd's default)
//   the instances stop with the engine; the daemon must bring the service back to its replicas
//   by itself, and a rollout caught by the restart must end finished or undone, nothing between.
// - the home's file system full (ENOSPC) while a canary waits at its pause: `abort` still sends
//   all traffic back to the stable revision, the error is reported, nothing crashes.
// Each case prints its row of the fault matrix (`npm run faults` prints them all).
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { ensureFixtures, FIXTURE_IMAGES, requireEngine } from '../helpers/docker.js';
import { FaultBench } from '../helpers/fault-bench.js';
import {
  CONVERGE_LIMIT_MS,
  dockerdRestartAtRest,
  dockerdRestartMidRollout,
  fullDiskAtCanaryPause,
  setUp,
  type FaultResult,
} from '../helpers/fault-scenarios.js';
import { formatRows } from '../helpers/fault-table.js';
import { PrivateEngine } from '../helpers/private-engine.js';
import { SmallDisk } from '../helpers/small-disk.js';

const print = (r: FaultResult): void => console.log(formatRows([r.row]));

describe('dockerd restarts, on a private engine', () => {
  let engine: PrivateEngine | null = null;
  let bench: FaultBench | null = null;

  before(async () => {
    const shared = await requireEngine();
    await ensureFixtures();
    engine = await PrivateEngine.create({
      images: [FIXTURE_IMAGES.v1, FIXTURE_IMAGES.v2],
      sourceSocket: shared.socketPath,
      log: (line) => console.log(line),
    });
    bench = await FaultBench.create({ socketPath: engine.socketPath });
    await setUp(bench);
  });

  after(async () => {
    await bench?.close();
    await engine?.destroy();
  });

  test('at rest: the instances stop with dockerd; the daemon brings back every replica', async () => {
    const r = await dockerdRestartAtRest(bench!, engine!);
    print(r);
    const {
      before: old,
      after: now,
      survived,
    } = r.facts as {
      before: string[];
      after: string[];
      survived: number;
    };
    assert.equal(survived, 0, 'live-restore is off: nothing runs after the restart by itself');
    assert.equal(now.length, 3);
    assert.ok(
      now.every((id) => !old.includes(id)),
      'the daemon started new instances',
    );
    assert.ok(r.row.convergeMs <= CONVERGE_LIMIT_MS);
    assert.equal(r.row.leftover, 0);
    assert.equal(r.load.afterwards.failed, 0, JSON.stringify(r.load.afterwards.errors));
  });

  test('mid rolling update: one consistent outcome, finished or undone', async () => {
    const r = await dockerdRestartMidRollout(bench!, engine!);
    print(r);
    const f = r.facts as {
      finished: boolean;
      stableBefore: number;
      stableAfter: number;
      version: string;
      target: string;
    };
    if (f.finished) assert.equal(f.version, f.target);
    else assert.equal(f.stableAfter, f.stableBefore);
    assert.deepEqual(Object.keys(r.load.afterwards.versions), [f.version]);
    assert.ok(r.row.convergeMs <= CONVERGE_LIMIT_MS);
    assert.equal(r.row.leftover, 0);
    assert.equal(r.load.afterwards.failed, 0, JSON.stringify(r.load.afterwards.errors));
  });
});

describe('a full home disk (ENOSPC) at a canary pause', () => {
  let disk: SmallDisk | null = null;
  let bench: FaultBench | null = null;

  before(async () => {
    await requireEngine();
    await ensureFixtures();
    disk = SmallDisk.mount(64);
    bench = await FaultBench.create({ home: disk.home });
    await setUp(bench);
  });

  after(async () => {
    disk?.free();
    await bench?.close();
    disk?.destroy();
  });

  test('abort sends the traffic back to the stable revision and reports the error', async () => {
    const r = await fullDiskAtCanaryPause(bench!, disk!);
    print(r);
    const f = r.facts as {
      abort: { code: number; out: string };
      up: { code: number; out: string };
      statusWhileFull: string;
      lastRollout: { status: string; reason: string | null };
    };
    console.log(
      `abort (exit ${f.abort.code}):\n${f.abort.out}status while full:\n${f.statusWhileFull}`,
    );
    console.log(`the up that ran the canary (exit ${f.up.code}):\n${f.up.out}`);
    assert.equal(f.abort.code, 0, f.abort.out);
    assert.equal(f.up.code, 3, f.up.out); // the rollout failed (undone), reported as such
    assert.match(f.abort.out, /WARNING: the store cannot write .*disk is full/);
    assert.match(f.statusWhileFull, /WARNING: the store cannot write .*disk is full/);
    assert.deepEqual(Object.keys(r.load.afterwards.versions), ['v1']);
    assert.equal(r.load.all.failed, 0, JSON.stringify(r.load.all.errors));
    assert.ok(r.row.convergeMs <= CONVERGE_LIMIT_MS);
    assert.equal(r.row.leftover, 0);
    // Once there is room, the store tells what happened: the rollout was aborted and undone.
    assert.equal(f.lastRollout.status, 'failed');
    assert.match(f.lastRollout.reason ?? '', /aborted by user/);
  });
});
