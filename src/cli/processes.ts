import type { Command } from 'commander';
import { globals, paths, withApi } from './context.js';
import { print, printJson } from './output.js';

export function register(program: Command): void {
  program
    .command('daemon')
    .description('run the controller daemon in the foreground (the CLI starts one when needed)')
    .action(async (_opts: unknown, cmd: Command) => {
      // Loaded on demand: the daemon's modules (SQLite, the API server) would slow every other verb.
      const { runDaemon } = await import('../daemon/index.js');
      await runDaemon({ home: paths(cmd).home });
    });

  const proxy = program
    .command('proxy')
    .description('the proxy process: run it, upgrade it in place, or show it');

  proxy
    .command('run')
    .description('run the proxy in the foreground (the daemon starts and supervises it)')
    .action(async (_opts: unknown, cmd: Command) => {
      const { runProxy } = await import('../proxy/index.js');
      const p = paths(cmd);
      const running = await runProxy({ controlSocket: p.proxySocket, stateFile: p.routesFile });
      await running.closed;
    });

  proxy
    .command('upgrade')
    .description('hand the listening sockets to a new proxy process; the old one drains and exits')
    .action(async (_opts: unknown, cmd: Command) => {
      const r = await withApi(cmd, (api) =>
        api.json<{ oldPid: number; newPid: number; ms: number }>('POST', '/v1/proxy/upgrade', {}),
      );
      if (globals(cmd).json) return printJson(r);
      print(`proxy upgraded: pid ${r.oldPid} → ${r.newPid} in ${r.ms} ms`);
    });

  proxy
    .command('status')
    .description('show the proxy process')
    .action(async (_opts: unknown, cmd: Command) => {
      const r = await withApi(cmd, (api) =>
        api.json<{ pid: number; uptimeMs: number }>('GET', '/v1/proxy'),
      );
      if (globals(cmd).json) return printJson(r);
      print(`proxy pid ${r.pid}, up ${(r.uptimeMs / 1000).toFixed(1)} s`);
    });
}
