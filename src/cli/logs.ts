import type { Command } from 'commander';
import type { StreamLine } from '../api/index.js';
import { HotswapError } from '../errors.js';
import { parseDuration } from '../spec/index.js';
import { count, globals, READ_ONLY, withApi } from './context.js';
import { print, printJson } from './output.js';
import { addTimeoutOption, withTimeout } from './timeout.js';

interface LogsOptions {
  tail: number;
  follow?: boolean;
  since?: number;
  timestamps?: boolean;
  timeout?: number;
}

export function register(program: Command): void {
  const logs = program
    .command('logs')
    .description("print the logs of a service's instances; -f follows them, new instances too")
    .argument('<service>', 'service name')
    .option('-n, --tail <lines>', 'lines per instance', count, 100)
    .option('-f, --follow', 'keep printing new lines (Ctrl-C to stop)')
    .option(
      '--since <when>',
      'only lines since a duration ago (10m, 1h30m) or a time (2026-01-02T15:04:05Z)',
      parseSince,
    )
    .option('-t, --timestamps', 'prefix each line with its time');
  addTimeoutOption(logs).action(async (service: string, opts: LogsOptions, cmd: Command) => {
    const json = globals(cmd).json;
    const tail = opts.tail;
    const name = encodeURIComponent(service);
    if (opts.follow) {
      const body = { tail, since: opts.since, timestamps: opts.timestamps };
      const show = (line: StreamLine) => {
        if (line.type !== 'log') return;
        print(json ? JSON.stringify(line) : `${line.instance} r${line.revision} | ${line.text}`);
      };
      await withTimeout(opts.timeout, `logs -f ${service}`, () =>
        withApi(
          cmd,
          (api) => api.stream(`/v1/services/${name}/logs/follow`, body, show),
          READ_ONLY,
        ),
      );
      return;
    }
    const query = new URLSearchParams({ tail: String(tail) });
    if (opts.since !== undefined) query.set('since', String(opts.since));
    if (opts.timestamps) query.set('timestamps', '1');
    const { logs: out } = await withApi(
      cmd,
      (api) =>
        api.json<{ logs: Array<{ instance: string; revision: number; text: string }> }>(
          'GET',
          `/v1/services/${name}/logs?${query.toString()}`,
        ),
      READ_ONLY,
    );
    if (json) return printJson({ logs: out });
    for (const l of out) {
      for (const line of l.text.split('\n').filter(Boolean))
        print(`${l.instance} r${l.revision} | ${line}`);
    }
  });
}

/** Unix seconds for --since: a duration back from now, or a date Date.parse reads. */
export function parseSince(value: string): number {
  const ago = parseDuration(value);
  if (typeof ago === 'number') return Math.floor((Date.now() - ago) / 1000);
  const at = Date.parse(value);
  if (Number.isNaN(at))
    throw new HotswapError(
      'USAGE',
      `--since: expected a duration like 10m or a time like 2026-01-02T15:04:05Z, got "${value}"`,
    );
  return Math.floor(at / 1000);
}
