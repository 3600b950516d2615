// `npm run demo`: builds the fixture images, brings up a 3-replica service, and under a steady
// 200 req/s load (keep-alive and new connections) rolls v1 → v2, tries a never-healthy image,
// and rolls back to revision 1. Prints requests, failures and latency per phase.
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { LoadGenerator, summarize, type LoadSummary } from '../src/assess/index.js';
import { table } from '../src/cli/output.js';
import { freePort, hotswap } from '../test/helpers/cli.js';
import { ensureEngine } from './engine.js';
import { buildFixtureImages } from './fixture-images.js';

const RATE = 200;
const log = (line: string): void => console.log(`demo: ${line}`);

function spec(image: string, port: number): string {
  return `services:
  demo:
    image: ${image}
    replicas: 3
    port: 8080
    listen: 127.0.0.1:${port}
    health: { http: /healthz, interval: 250ms, healthyThreshold: 2, deadline: 8s }
    strategy: { type: rolling, maxSurge: 1, maxUnavailable: 0 }
    drain: { timeout: 10s }
    stopGracePeriod: 10s
`;
}

async function main(): Promise<void> {
  await ensureEngine({ log });
  log('building fixture images (FROM scratch, offline)');
  await buildFixtureImages({ log });
  const home = mkdtempSync(join(tmpdir(), 'hotswap-demo-'));
  const dir = mkdtempSync(join(tmpdir(), 'hotswap-demo-spec-'));
  const file = join(dir, 'hotswap.yaml');
  const port = await freePort();
  const url = `http://127.0.0.1:${port}/`;
  const cli = async (args: string[], expect: number): Promise<void> => {
    log(`$ hotswap ${args.join(' ')}`);
    const r = await hotswap(home, args, { echo: true });
    if (r.code !== expect)
      throw new Error(`hotswap ${args.join(' ')} exited ${r.code}, expected ${expect}`);
  };
  const phases: Array<[string, LoadSummary]> = [];
  const phase = async (name: string, action: () => Promise<void>): Promise<void> => {
    const load = new LoadGenerator({
      url,
      ratePerSec: RATE,
      connections: 'mixed',
      maxDurationMs: 180_000,
    });
    load.start();
    await new Promise((r) => setTimeout(r, 1000));
    const from = load.now();
    await action();
    const to = load.now();
    await new Promise((r) => setTimeout(r, 1000));
    const samples = await load.stop();
    // Counts and latency cover the whole load window (1 s before to 1 s after the action);
    // duration is the action's own wall time.
    const s = { ...summarize(samples), durationMs: Math.round(to - from) };
    phases.push([name, s]);
    log(
      `${name}: sent ${s.sent}, failed ${s.failed}, versions served ${JSON.stringify(s.versions)}`,
    );
  };

  try {
    log(`home ${home}, service listening on ${url}`);
    writeFileSync(file, spec('hotswap-fixture:v1', port));
    await cli(['up', '-f', file], 0);
    await phase('steady v1 (no change)', () => new Promise((r) => setTimeout(r, 3000)));
    writeFileSync(file, spec('hotswap-fixture:v2', port));
    await phase('rolling v1 → v2', () => cli(['up', '-f', file], 0));
    writeFileSync(file, spec('hotswap-fixture:bad', port));
    await phase('rollout to :bad (fails)', () => cli(['up', '-f', file], 3));
    await phase('rollback --to 1', () => cli(['rollback', 'demo', '--to', '1'], 0));
    await cli(['history', 'demo'], 0);
    console.log(
      '\nPer phase (load 200 req/s, half keep-alive, half new connections; from 1 s before to 1 s after each action; duration = the action itself):',
    );
    console.log(
      table(
        ['PHASE', 'SENT', 'FAILED', 'P50 ms', 'P99 ms', 'ACTION s'],
        phases.map(([n, s]) => [
          n,
          String(s.sent),
          String(s.failed),
          s.p50Ms.toFixed(2),
          s.p99Ms.toFixed(2),
          (s.durationMs / 1000).toFixed(1),
        ]),
      ),
    );
  } finally {
    await hotswap(home, ['down']);
  }
  const failed = phases.reduce((n, [, s]) => n + s.failed, 0);
  if (failed > 0) process.exitCode = 1;
}

await main();
