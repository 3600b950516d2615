import type { Command } from 'commander';
import { specJsonSchema } from '../spec/index.js';
import { globals } from './context.js';
import { print, printJson } from './output.js';
import { DEFAULT_SPEC_FILE, readSpecFile } from './spec-file.js';

export function register(program: Command): void {
  program
    .command('validate')
    .description('check a spec file; errors name file:line:col and the field (exit code 2)')
    .option('-f, --file <path>', 'spec file', DEFAULT_SPEC_FILE)
    .action((opts: { file: string }, cmd: Command) => {
      const { spec } = readSpecFile(opts.file);
      if (globals(cmd).json)
        return printJson({ ok: true, file: opts.file, services: spec.services });
      print(`${opts.file}: ok (${spec.services.map((s) => s.name).join(', ')})`);
    });

  program
    .command('schema')
    .description('print the JSON Schema of hotswap.yaml, for editors')
    .action(() => printJson(specJsonSchema()));
}
