// `hotswap daemon logs`: the daemon's and the proxy's own log lines. They are files in the home
// (JSON lines, see src/logging), read here directly: no daemon needs to run, so the lines of
// one that failed to start can be read too. A remote daemon's logs are on its own host.
import type { Command } from 'commander';
import {
  followLogs,
  formatRecord,
  matches,
  readLog,
  selectRecords,
  type LogFilter,
  type LogRecord,
  type LogSource,
} from '../logging/index.js';
import { count, globals, paths } from './context.js';
import { parseSince } from './logs.js';
import { print } from './output.js';
import { addTimeoutOption, withTimeout } from './timeout.js';

interface DaemonLogsOptions {
  tail: number;
  follow?: boolean;
  since?: number;
  service?: string;
  timeout?: number;
}

export function registerDaemonLogs(daemon: Command): void {
  const cmd = daemon
    .command('logs')
    .description("the daemon's and the proxy's log lines, merged in time order")
    .option('-n, --tail <lines>', 'the last lines', count, 100)
    .option('-f, --follow', 'keep printing new lines (Ctrl-C to stop)')
    .option(
      '--since <when>',
      'only lines since a duration ago (10m, 1h30m) or a time (2026-01-02T15:04:05Z)',
      parseSince,
    )
    .option('--service <name>', 'only the lines about one service');
  addTimeoutOption(cmd).action(async (opts: DaemonLogsOptions, c: Command) => {
    const home = paths(c);
    const sources: LogSource[] = [
      { component: 'daemon', path: home.daemonLog },
      { component: 'proxy', path: home.proxyLog },
    ];
    const filter: LogFilter = {
      service: opts.service,
      sinceMs: opts.since === undefined ? undefined : opts.since * 1000,
    };
    const show = render(globals(c).json);
    for (const r of selectRecords(sources.map(readLog), filter, opts.tail)) show(r);
    if (!opts.follow) return;
    const stop = new AbortController();
    process.once('SIGINT', () => stop.abort());
    await withTimeout(opts.timeout, 'daemon logs -f', () =>
      followLogs(sources, (r) => (matches(r, filter) ? show(r) : undefined), stop.signal),
    );
  });
}

/** --json: each record as one JSON line; otherwise a plain line. */
function render(json: boolean): (r: LogRecord) => void {
  return json ? (r) => print(JSON.stringify(r)) : (r) => print(formatRecord(r));
}
