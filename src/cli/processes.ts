import type { Command } from 'commander';
import { runDaemon } from '../daemon/index.js';
import { paths } from './context.js';

export function register(program: Command): void {
  program
    .command('daemon')
    .description('run the controller daemon in the foreground (the CLI starts one when needed)')
    .action(async (_opts: unknown, cmd: Command) => {
      await runDaemon({ home: paths(cmd).home });
    });

  program
    .command('proxy')
    .description('run the proxy in the foreground (the daemon starts and supervises it)')
    .action(async (_opts: unknown, cmd: Command) => {
      const { runProxy } = await import('../proxy/index.js');
      const p = paths(cmd);
      await runProxy({ controlSocket: p.proxySocket, stateFile: p.routesFile });
    });
}
