// Report generation time for a 10-minute rollout at 500 req/s (issue 15's target: < 1 s).
// Synthesizes what the sampler would have stored (per-second traffic rows with every latency,
// CPU/memory of 6 instances), then times what `hotswap report --html` costs on the daemon's and
// the CLI's side: building the report from SQLite, its JSON, and the HTML page. Prints figures;
// asserts nothing about time.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { buildReport, renderHtml, uplotAssets } from '../src/report/index.js';
import { synthesizeRollout } from '../src/report/synthetic.js';
import { Store } from '../src/store/index.js';

const SECONDS = 600;
const RATE = 500;
const ROUNDS = 5;

const dir = mkdtempSync(join(tmpdir(), 'hotswap-report-bench-'));
try {
  const store = Store.open(join(dir, 'hotswap.db'));
  const t0 = performance.now();
  const id = synthesizeRollout(store, {
    service: 'web',
    seconds: SECONDS,
    ratePerSec: RATE,
    instances: 6,
  });
  const synthMs = performance.now() - t0;
  const latencies = store.reports.traffic(id).reduce((n, s) => n + s.latencies.length, 0);
  uplotAssets(); // read once, as a CLI run does
  const rounds: Array<{
    build: number;
    json: number;
    html: number;
    total: number;
    bytes: number;
    jsonBytes: number;
  }> = [];
  for (let i = 0; i < ROUNDS; i++) {
    const a = performance.now();
    const report = buildReport(store, 'web', id);
    const b = performance.now();
    const jsonBytes = JSON.stringify(report).length;
    const c = performance.now();
    const html = renderHtml(report);
    const d = performance.now();
    rounds.push({
      build: b - a,
      json: c - b,
      html: d - c,
      total: d - a,
      bytes: html.length,
      jsonBytes,
    });
  }
  store.close();
  const med = (k: 'build' | 'json' | 'html' | 'total'): number => {
    const xs = rounds.map((r) => r[k]).sort((x, y) => x - y);
    return Math.round(xs[Math.floor(xs.length / 2)]! * 10) / 10;
  };
  console.log(
    `rollout: ${SECONDS} s at ${RATE} req/s + ${SECONDS / 10} s after, ${latencies} latencies stored (synthesized in ${Math.round(synthMs)} ms)`,
  );
  console.log(
    `report generation, median of ${ROUNDS}: build ${med('build')} ms, JSON ${med('json')} ms, HTML ${med('html')} ms, total ${med('total')} ms (target < 1000 ms)`,
  );
  console.log(
    `HTML page: ${(rounds[0]!.bytes / 2 ** 20).toFixed(2)} MiB; JSON: ${(rounds[0]!.jsonBytes / 2 ** 20).toFixed(2)} MiB`,
  );
} finally {
  rmSync(dir, { recursive: true, force: true });
}
