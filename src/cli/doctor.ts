import { existsSync } from 'node:fs';
import type { Command } from 'commander';
import { runChecks, type CheckResult } from '../doctor/index.js';
import { HotswapError } from '../errors.js';
import { globals, paths } from './context.js';
import { print, printJson } from './output.js';
import { readSpecFile, SPEC_FILE_HELP } from './spec-file.js';

export function register(program: Command): void {
  program
    .command('doctor')
    .description(
      "check this host: Node.js, the engine and its API version, the home's permissions, the spec's listen ports, disk space (exit code 6 if a check fails)",
    )
    .option('-f, --file <path>', `${SPEC_FILE_HELP}; its listen ports are checked`)
    .action(async (opts: { file?: string }, cmd: Command) => {
      const listens = specListens(opts.file);
      const results = await runChecks(paths(cmd), listens);
      const failed = results.filter((r) => r.state === 'fail');
      if (globals(cmd).json) printJson({ ok: failed.length === 0, checks: results });
      else results.forEach((r) => print(render(r)));
      if (failed.length > 0) {
        const message = `${failed.length} check(s) failed: ${failed.map((r) => r.name).join(', ')}`;
        if (globals(cmd).json) process.exitCode = 6;
        else throw new HotswapError('DOCKER_UNAVAILABLE', message);
      }
    });
}

// Ports are only checked when there is a spec to read them from; a bad spec is reported as is.
function specListens(file: string | undefined): string[] {
  if (file === undefined && !existsSync('hotswap.yaml') && !existsSync('hotswap.yml')) return [];
  const { spec } = readSpecFile(file);
  return spec.services.flatMap((s) => [
    s.listen,
    ...(s.strategy.type === 'blue-green' && s.strategy.previewListen
      ? [s.strategy.previewListen]
      : []),
  ]);
}

const MARK = { ok: 'ok  ', warn: 'warn', fail: 'FAIL' } as const;

function render(r: CheckResult): string {
  const line = `${MARK[r.state]}  ${r.name}: ${r.detail}`;
  return r.fix ? `${line}\n      fix: ${r.fix}` : line;
}
