import type { Command } from 'commander';
import { count, globals, READ_ONLY, withApi } from './context.js';
import { print, printJson } from './output.js';

export function register(program: Command): void {
  program
    .command('logs')
    .description("print the recent logs of a service's instances")
    .argument('<service>', 'service name')
    .option('-n, --tail <lines>', 'lines per instance', count, 100)
    .action(async (service: string, opts: { tail: number }, cmd: Command) => {
      const { logs } = await withApi(
        cmd,
        (api) =>
          api.json<{ logs: Array<{ instance: string; revision: number; text: string }> }>(
            'GET',
            `/v1/services/${encodeURIComponent(service)}/logs?tail=${opts.tail}`,
          ),
        READ_ONLY,
      );
      if (globals(cmd).json) return printJson({ logs });
      for (const l of logs) {
        for (const line of l.text.split('\n').filter(Boolean))
          print(`${l.instance} r${l.revision} | ${line}`);
      }
    });
}
