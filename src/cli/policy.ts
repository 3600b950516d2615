import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import type { Command } from 'commander';
import { HotswapError } from '../errors.js';
import type { ImagePolicy } from '../security/index.js';
import { globals, READ_ONLY, withApi } from './context.js';
import { print, printJson } from './output.js';

export function register(program: Command): void {
  const policy = program
    .command('policy')
    .description('the image policy: registries, :latest, digests, cosign signatures (set: admin)');

  policy
    .command('set')
    .description('replace the image policy with a policy.yaml; a file with errors changes nothing')
    .requiredOption('-f, --file <path>', 'policy file')
    .action(async (opts: { file: string }, cmd: Command) => {
      const file = resolve(opts.file);
      let text: string;
      try {
        text = readFileSync(file, 'utf8');
      } catch (err) {
        throw new HotswapError('USAGE', `cannot read ${file}: ${(err as Error).message}`);
      }
      const r = await withApi(cmd, (api) =>
        api.json<{ policy: ImagePolicy }>('POST', '/v1/policy', { file, text }),
      );
      if (globals(cmd).json) return printJson(r);
      print(`image policy set from ${file}`);
    });

  policy
    .command('show')
    .description('print the image policy in force')
    .action(async (_opts: unknown, cmd: Command) => {
      const r = await withApi(
        cmd,
        (api) =>
          api.json<{
            policy: ImagePolicy;
            text: string | null;
            setAt: string | null;
            setBy: string | null;
          }>('GET', '/v1/policy'),
        READ_ONLY,
      );
      if (globals(cmd).json) return printJson(r);
      if (r.text === null) return print('no image policy: every image is allowed');
      print(`# set ${r.setAt} by ${r.setBy}\n${r.text}`);
    });
}
