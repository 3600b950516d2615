// `npm run faults`: the fault matrix of issue 12 on the real engine, under 200 req/s through the
// proxy, printed as a table (scenario | failed requests | time to converge | containers left
// over | outcome). It runs the scenarios the e2e tests run (test/helpers/fault-scenarios.ts):
// crashes of the daemon and the proxy on the shared engine; dockerd restarts on a private
// dockerd of its own (the shared one is never restarted); a full home disk on a small tmpfs.
// Needs root (a bridge, a dockerd, a tmpfs) and the fixture images. Each row takes under a
// minute; the whole run about 4. `node dist/scripts/faults.js rolling canary` runs the rows whose
// name contains one of the words. Exit 1 when a row could not be measured.
import { availableParallelism, loadavg } from 'node:os';
import { ensureEngine } from './engine.js';
import { buildFixtureImages, FIXTURE_IMAGES } from './fixture-images.js';
import { uniqueScope } from '../test/helpers/docker.js';
import { FaultBench } from '../test/helpers/fault-bench.js';
import * as s from '../test/helpers/fault-scenarios.js';
import { formatRows } from '../test/helpers/fault-table.js';
import { PrivateEngine } from '../test/helpers/private-engine.js';
import { SmallDisk } from '../test/helpers/small-disk.js';

type Run = (b: FaultBench) => Promise<s.FaultResult>;
interface Group {
  /** Makes the bench the group's rows run on; returns it with its own cleanup. */
  setUp: (socketPath: string) => Promise<{ bench: FaultBench; teardown: () => Promise<void> }>;
  rows: Array<[name: string, run: Run]>;
}

const log = (line: string): void => void process.stderr.write(`${line}\n`);

function sharedEngineGroup(): Group {
  const foreign = uniqueScope('faults-foreign');
  return {
    setUp: async (socketPath) => {
      const bench = await FaultBench.create({ socketPath });
      return { bench, teardown: () => bench.close() };
    },
    rows: [
      ['SIGKILL daemon mid rolling update', s.sigkillMidRolling],
      ['SIGKILL daemon at a canary pause', s.sigkillAtCanaryPause],
      ['SIGKILL daemon during a blue-green preview', s.sigkillBlueGreenPreview],
      ['SIGKILL daemon + proxy', s.sigkillDaemonAndProxy],
      ['SIGKILL proxy + routes.json lost', s.proxyWithoutRoutes],
      ['SIGSTOP proxy', s.hungProxy],
      ["kill an instance's process", s.killInstance],
      ['orphans', (b) => s.orphans(b, foreign)],
    ],
  };
}

function privateEngineGroup(liveRestore = false): Group {
  let engine: PrivateEngine | null = null;
  return {
    setUp: async (socketPath) => {
      engine = await PrivateEngine.create({
        images: [FIXTURE_IMAGES.v1, FIXTURE_IMAGES.v2],
        sourceSocket: socketPath,
        liveRestore,
        log,
      });
      const bench = await FaultBench.create({ socketPath: engine.socketPath });
      return {
        bench,
        teardown: async () => {
          await bench.close();
          await engine?.destroy();
        },
      };
    },
    rows: liveRestore
      ? [['restart dockerd at rest, live-restore on', (b) => s.dockerdRestartAtRest(b, engine!)]]
      : [
          ['restart dockerd at rest', (b) => s.dockerdRestartAtRest(b, engine!)],
          ['restart dockerd mid rolling update', (b) => s.dockerdRestartMidRollout(b, engine!)],
        ],
  };
}

function smallDiskGroup(): Group {
  let disk: SmallDisk | null = null;
  return {
    setUp: async (socketPath) => {
      disk = SmallDisk.mount(64);
      const bench = await FaultBench.create({ socketPath, home: disk.home });
      return {
        bench,
        teardown: async () => {
          disk?.free();
          await bench.close();
          disk?.destroy();
        },
      };
    },
    rows: [['full home disk (ENOSPC) at a canary pause', (b) => s.fullDiskAtCanaryPause(b, disk!)]],
  };
}

async function runGroup(group: Group, socketPath: string, only: string[]): Promise<s.FaultRow[]> {
  const wanted = group.rows.filter(
    ([name]) => only.length === 0 || only.some((w) => name.toLowerCase().includes(w)),
  );
  if (wanted.length === 0) return [];
  const rows: s.FaultRow[] = [];
  const { bench, teardown } = await group.setUp(socketPath);
  try {
    await s.setUp(bench);
    for (const [name, run] of wanted) {
      log(`--- ${name}`);
      try {
        const r = await run(bench);
        rows.push(r.row);
        log(formatRows([r.row]));
      } catch (err) {
        rows.push(errorRow(name, err));
        log(`${name}: ${(err as Error).message}`);
        await s.setUp(bench).catch(() => undefined); // the next row starts from a sound state
      }
    }
  } finally {
    await teardown();
  }
  return rows;
}

function errorRow(scenario: string, err: unknown): s.FaultRow {
  const message = (err as Error).message.split('\n')[0]!;
  return {
    scenario,
    requests: 0,
    failed: 0,
    convergeMs: 0,
    leftover: 0,
    outcome: `ERROR: ${message}`,
  };
}

async function main(): Promise<void> {
  const only = process.argv.slice(2).map((w) => w.toLowerCase());
  // Ctrl-C: the exit handlers of the private engine and the small disk still clean up.
  process.once('SIGINT', () => process.exit(130));
  const { socketPath } = await ensureEngine({ log });
  await buildFixtureImages({ log, socketPath });
  const started = Date.now();
  const load = loadavg()[0]!;
  const rows: s.FaultRow[] = [];
  const groups = [
    sharedEngineGroup(),
    privateEngineGroup(),
    privateEngineGroup(true),
    smallDiskGroup(),
  ];
  for (const group of groups) {
    try {
      rows.push(...(await runGroup(group, socketPath, only)));
    } catch (err) {
      rows.push(errorRow(group.rows.map(([n]) => n).join(', '), err));
    }
  }
  console.log(formatRows(rows));
  console.log(
    `\n${rows.length} scenario(s) in ${Math.round((Date.now() - started) / 1000)} s, ` +
      `${s.RATE} req/s through the proxy, 3 replicas; load average ${load.toFixed(1)} at the ` +
      `start, ${loadavg()[0]!.toFixed(1)} at the end (${availableParallelism()} cores)`,
  );
  process.exitCode = rows.some((r) => r.outcome.startsWith('ERROR')) ? 1 : 0;
}

await main();
