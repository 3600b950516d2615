import type { Command } from 'commander';
import { specJsonSchema } from '../spec/index.js';
import { globals } from './context.js';
import { print, printJson } from './output.js';
import { readSpecFile, SPEC_FILE_HELP } from './spec-file.js';

export function register(program: Command): void {
  program
    .command('validate')
    .description('check a spec file; errors name file:line:col and the field (exit code 2)')
    .option('-f, --file <path>', SPEC_FILE_HELP)
    .action((opts: { file?: string }, cmd: Command) => {
      const { spec, file } = readSpecFile(opts.file);
      if (globals(cmd).json) return printJson({ ok: true, file, services: spec.services });
      print(`${file}: ok (${spec.services.map((s) => s.name).join(', ')})`);
    });

  program
    .command('schema')
    .description('print the JSON Schema of hotswap.yaml, for editors')
    .action(() => printJson(specJsonSchema()));
}
