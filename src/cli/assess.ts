// hotswap assess: the CI gate. Drives an open-loop load at the service's listener, updates the
// service to --to IMAGE meanwhile (the daemon's ordinary rollout), writes the impact report and
// exits non-zero (3) when the rollout failed, any request failed or a threshold was broken.
import type { Command } from 'commander';
import {
  judgeRun,
  LoadGenerator,
  loopbackUrl,
  parseLoadDuration,
  parseRate,
  parseShare,
  type GateResult,
} from '../assess/index.js';
import type { DeployResult, ServiceStatus } from '../controller/index.js';
import { HotswapError } from '../errors.js';
import type { ImpactReport } from '../report/index.js';
import type { ServiceSpec, Spec } from '../spec/types.js';
import type { ApiClient } from './client.js';
import { count, globals, withApi } from './context.js';
import { print, printJson, withProgress } from './output.js';
import { fetchReport, writeHtml } from './report.js';
import { readSpecFile, SPEC_FILE_HELP } from './spec-file.js';

interface AssessOptions {
  file?: string;
  to: string;
  rate: number;
  duration: number;
  keepAliveShare: number;
  maxFailed: number;
  maxP99Increase?: number;
  html?: string;
}

/** Share of the run before the update starts, for the baseline (bounded to 1..10 s). */
const BASELINE_SHARE = 0.2;
/** How long the load may go on in all, whatever the update does. */
const MAX_RUN_MS = 60 * 60_000;

export function register(program: Command): void {
  program
    .command('assess')
    .description(
      'CI gate: update a service under an open-loop load, write the impact report, exit 3 on any failed request, a broken threshold or a failed rollout',
    )
    .argument('[service]', 'the service to update (default: the spec has only one)')
    .option('-f, --file <path>', SPEC_FILE_HELP)
    .requiredOption('--to <image>', 'the image to update to')
    .option('--rate <n/s>', 'requests per second, e.g. 500/s', parseRate, 100)
    .option('--duration <d>', 'length of the load run, e.g. 60s', parseLoadDuration, 30_000)
    .option(
      '--keep-alive-share <share>',
      'share of requests on kept-alive connections, e.g. 0.5 or 50%',
      (v: string) => parseShare(v, '--keep-alive-share', 1),
      0.5,
    )
    .option('--max-failed <n>', 'failed requests allowed', count, 0)
    .option(
      '--max-p99-increase <pct>',
      'allowed rise of p99 during the update over the baseline, e.g. 20%',
      (v: string) => parseShare(v, '--max-p99-increase'),
    )
    .option('--html <file>', 'HTML report (default hotswap-assess-<service>.html)')
    .action(async (service: string | undefined, opts: AssessOptions, cmd: Command) => {
      const g = globals(cmd);
      const { spec } = readSpecFile(opts.file);
      const svc = pickService(spec, service);
      const url = loopbackUrl(svc.listen);
      if (svc.mode === 'tcp' || svc.tls)
        throw new HotswapError(
          'USAGE',
          `assess drives plain HTTP; service ${svc.name} is ${svc.tls ? 'TLS' : 'TCP'}`,
        );
      const updated: Spec = {
        ...spec,
        services: spec.services.map((s) => (s === svc ? { ...s, image: opts.to } : s)),
      };
      const run = await withApi(cmd, async (api) => {
        await requireDeployed(api, svc.name);
        return assessRun(api, updated, svc.name, url, opts, g.json);
      });
      const html = opts.html ?? `hotswap-assess-${svc.name}.html`;
      if (run.report) writeHtml(run.report, html);
      if (g.json)
        printJson({ result: { deploy: run.result, gate: run.gate, report: run.report, html } });
      else printGate(run.gate, run.result, html);
      if (run.result.outcome === 'failed')
        throw new HotswapError('ROLLOUT_FAILED', `${svc.name}: ${run.result.reason}`);
      if (!run.gate.passed)
        throw new HotswapError(
          'ANALYSIS_FAILED',
          `assess failed: ${run.gate.breaches.join('; ')}`,
          {
            details: { gate: run.gate },
          },
        );
    });
}

function pickService(spec: Spec, name: string | undefined): ServiceSpec {
  if (name !== undefined) {
    const s = spec.services.find((x) => x.name === name);
    if (!s) throw new HotswapError('NOT_FOUND', `${spec.file} has no service ${name}`);
    return s;
  }
  if (spec.services.length !== 1)
    throw new HotswapError(
      'USAGE',
      `${spec.file} has ${spec.services.length} services: name the one to assess (${spec.services.map((s) => s.name).join(', ')})`,
    );
  return spec.services[0]!;
}

async function requireDeployed(api: ApiClient, name: string): Promise<void> {
  const { services } = await api.json<{ services: ServiceStatus[] }>('GET', '/v1/services');
  if (!services.some((s) => s.name === name && s.stableRevision !== null))
    throw new HotswapError(
      'NOT_FOUND',
      `service ${name} is not deployed: run \`hotswap up\` first, then assess the update`,
    );
}

interface RunResult {
  result: DeployResult;
  gate: GateResult;
  report: ImpactReport | null;
}

async function assessRun(
  api: ApiClient,
  spec: Spec,
  service: string,
  url: string,
  opts: AssessOptions,
  json: boolean,
): Promise<RunResult> {
  const load = new LoadGenerator({
    url,
    ratePerSec: opts.rate,
    connections: 'mixed',
    keepAliveShare: opts.keepAliveShare,
    maxDurationMs: opts.duration + MAX_RUN_MS,
    maxRequests: Math.ceil((opts.rate * (opts.duration + MAX_RUN_MS)) / 1000),
  });
  load.start();
  let updateStart: number;
  let updateEnd: number;
  let results: DeployResult[];
  try {
    await sleep(Math.min(10_000, Math.max(1000, opts.duration * BASELINE_SHARE)));
    updateStart = load.now();
    results = await withProgress('Assessing', { json }, (onLine) =>
      api.stream<DeployResult[]>('/v1/apply', { spec, service }, onLine),
    );
    updateEnd = load.now();
    // The rest of the run is the after window; an update longer than the run gets 1 s of it.
    await sleep(Math.max(1000, opts.duration - load.now()));
  } finally {
    await load.stop();
  }
  const result = results.find((r) => r.service === service)!;
  const gate = judgeRun(load.samples, updateStart, updateEnd, {
    maxFailed: opts.maxFailed,
    maxP99Increase: opts.maxP99Increase ?? null,
  });
  const report =
    result.rolloutId === null ? null : await fetchReport(api, service, result.rolloutId);
  return { result, gate, report };
}

function printGate(gate: GateResult, result: DeployResult, html: string): void {
  const line = (name: string, s: GateResult['all']): string =>
    `${name.padEnd(9)} ${String(s.sent).padStart(7)} sent  ${String(s.failed).padStart(5)} failed  p50 ${s.p50Ms} ms  p99 ${s.p99Ms} ms`;
  print(
    `update: ${result.outcome} (r${result.revision}, rollout ${result.rolloutId === null ? '-' : `#${result.rolloutId}`}, ${(result.durationMs / 1000).toFixed(1)} s)`,
  );
  print(line('baseline', gate.baseline));
  print(line('during', gate.during));
  print(line('after', gate.after));
  print(line('all', gate.all));
  if (gate.p99IncreasePct !== null) print(`p99 change during the update: ${gate.p99IncreasePct}%`);
  for (const n of gate.notJudged) print(`not judged: ${n}`);
  for (const b of gate.breaches) print(`BREACH: ${b}`);
  const where = result.rolloutId === null ? 'no rollout (the image was already running)' : html;
  print(`${gate.passed && result.outcome !== 'failed' ? 'PASS' : 'FAIL'}; report: ${where}`);
}

function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}
