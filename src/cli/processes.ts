import type { Command } from 'commander';
import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { systemdUnit } from '../daemon/systemd-unit.js';
import { HotswapError } from '../errors.js';
import { toHotswapError } from '../errors.js';
import { globals, paths, READ_ONLY, withApi } from './context.js';
import { registerDaemonLogs } from './daemon-logs.js';
import { print, printJson } from './output.js';

const MAIN = fileURLToPath(new URL('./main.js', import.meta.url));

function writeUnit(path: string, text: string): void {
  try {
    mkdirSync(dirname(path), { recursive: true });
    writeFileSync(path, text, { mode: 0o644 });
  } catch (err) {
    const e = err as NodeJS.ErrnoException;
    throw new HotswapError(
      'USAGE',
      `cannot write ${path} (${e.code ?? e.message}): run as root, use --user, or --print and ` +
        'install the unit yourself',
    );
  }
}

export function register(program: Command): void {
  const daemon = program
    .command('daemon')
    .description('run the controller daemon in the foreground (the CLI starts one when needed)')
    .action(async (_opts: unknown, cmd: Command) => {
      // Loaded on demand: the daemon's modules (SQLite, the API server) would slow every other verb.
      const d = await import('../daemon/index.js');
      try {
        await d.runDaemon({ home: paths(cmd).home, requireEngine: d.spawnedByCli() });
      } catch (err) {
        // A CLI waiting for this daemon gets the reason at once; the log keeps it too.
        const e = toHotswapError(err);
        process.stderr.write(
          `${new Date().toISOString()} daemon: cannot start: ${e.code}: ${e.message}\n`,
        );
        await d.reportStartFailure(e);
        process.exit(e.exitCode);
      }
      d.reportStarted();
    });

  registerDaemonLogs(daemon);

  daemon
    .command('install')
    .description('write a systemd unit that starts the daemon at boot (--print: only print it)')
    .option('--print', 'print the unit instead of writing it')
    .option('--user', 'a user unit (systemctl --user) instead of a system one')
    .action((opts: { print?: boolean; user?: boolean }, cmd: Command) => {
      const unit = systemdUnit({
        paths: paths(cmd),
        node: process.execPath,
        main: MAIN,
        user: opts.user ?? process.getuid?.() !== 0,
      });
      if (globals(cmd).json) {
        if (!opts.print) writeUnit(unit.path, unit.text);
        return printJson({ ...unit, written: !opts.print });
      }
      if (opts.print) return print(unit.text);
      writeUnit(unit.path, unit.text);
      print(`wrote ${unit.path}; to start it now and at every boot:`);
      for (const line of unit.enable) print(`  ${line}`);
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
      const running = await runProxy({
        controlSocket: p.proxySocket,
        stateFile: p.routesFile,
        logFile: p.proxyLog,
      });
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
      const r = await withApi(
        cmd,
        (api) => api.json<{ pid: number; uptimeMs: number }>('GET', '/v1/proxy'),
        READ_ONLY,
      );
      if (globals(cmd).json) return printJson(r);
      print(`proxy pid ${r.pid}, up ${(r.uptimeMs / 1000).toFixed(1)} s`);
    });
}
