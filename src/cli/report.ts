import { writeFileSync } from 'node:fs';
import type { Command } from 'commander';
import { HotswapError } from '../errors.js';
import { formatReport, renderHtml, type ImpactReport } from '../report/index.js';
import { count, globals, READ_ONLY, withApi, type GlobalOptions } from './context.js';
import type { ApiClient } from './client.js';
import { print, printJson } from './output.js';

export function register(program: Command): void {
  program
    .command('report')
    .description(
      'the impact report of a rollout: steps and weights, traffic, errors and latency per revision before, during and after, CPU and memory per instance, verdicts',
    )
    .argument('<service>', 'service name')
    .option('--rollout <n>', 'rollout number (default: the latest)', count)
    .option('--html <file>', 'also write a self-contained HTML page with charts')
    .action(async (service: string, opts: { rollout?: number; html?: string }, cmd: Command) => {
      const report = await withApi(
        cmd,
        (api) => fetchReport(api, service, opts.rollout),
        READ_ONLY,
      );
      writeReport(report, opts.html, globals(cmd));
    });
}

export function fetchReport(
  api: ApiClient,
  service: string,
  rollout?: number,
): Promise<ImpactReport> {
  const query = rollout === undefined ? '' : `?rollout=${rollout}`;
  return api.json<ImpactReport>(
    'GET',
    `/v1/services/${encodeURIComponent(service)}/report${query}`,
  );
}

/** Prints the report (text or JSON) and writes the HTML page when asked. */
export function writeReport(
  report: ImpactReport,
  html: string | undefined,
  g: GlobalOptions,
): void {
  if (html !== undefined) writeHtml(report, html);
  if (g.json) return printJson(report);
  print(formatReport(report));
  if (html !== undefined) print(`\nHTML report: ${html}`);
}

export function writeHtml(report: ImpactReport, file: string): void {
  try {
    writeFileSync(file, renderHtml(report));
  } catch (err) {
    throw new HotswapError('USAGE', `--html ${file}: ${(err as Error).message}`);
  }
}
