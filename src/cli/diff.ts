// `hotswap diff` and `up --dry-run`: what `up` would change, service by service.
import type { Command } from 'commander';
import type { ServicePlan } from '../controller/index.js';
import type { Spec } from '../spec/types.js';
import { globals, withApi } from './context.js';
import { print, printJson } from './output.js';
import { readSpecFile, SPEC_FILE_HELP } from './spec-file.js';

export function register(program: Command): void {
  program
    .command('diff')
    .description('show what `up` would change: new revision or not, which fields, which strategy')
    .argument('[service]', 'only this service')
    .option('-f, --file <path>', SPEC_FILE_HELP)
    .action(async (service: string | undefined, opts: { file?: string }, cmd: Command) => {
      const { spec } = readSpecFile(opts.file);
      await showPlan(cmd, spec, service);
    });
}

export async function showPlan(
  cmd: Command,
  spec: Spec,
  service: string | undefined,
): Promise<void> {
  const { plans } = await withApi(cmd, (api) =>
    api.json<{ plans: ServicePlan[] }>('POST', '/v1/plan', { spec, service }),
  );
  if (globals(cmd).json) return printJson({ plans });
  for (const p of plans) print(describe(p));
}

function describe(p: ServicePlan): string {
  const head =
    p.action === 'create'
      ? `${p.service}: new service, first revision rolled out (${p.strategy})`
      : p.action === 'rollout'
        ? `${p.service}: new revision replaces r${p.currentRevision ?? '-'} (${p.strategy})`
        : p.action === 'none'
          ? `${p.service}: unchanged`
          : `${p.service}: same revision r${p.currentRevision ?? '-'}, ${p.action === 'scale' ? 'scaled' : 'settings updated'}`;
  const pull = p.imageMissing ? ['  image not on this host: it will be pulled first'] : [];
  const changes = p.action === 'create' ? [] : p.changes.map((c) => `  ${c}`);
  return [head, ...pull, ...changes].join('\n');
}
