// Rendering: plain lines when stdout is not a TTY, a listr2 task list when it is, one JSON
// document (or NDJSON events) with --json.
import type { StreamLine } from '../api/index.js';

export interface OutputOptions {
  json: boolean;
}

export function print(text: string): void {
  process.stdout.write(text.endsWith('\n') ? text : text + '\n');
}

export function printJson(value: unknown): void {
  print(JSON.stringify(value, null, 2));
}

function clock(iso: string): string {
  return iso.slice(11, 19);
}

/**
 * Runs a streamed operation while showing its progress. In JSON mode every stream line is
 * echoed as NDJSON, so machines see the same events people do.
 */
export async function withProgress<T>(
  title: string,
  opts: OutputOptions,
  run: (onLine: (line: StreamLine) => void) => Promise<T>,
): Promise<T> {
  if (opts.json) return run((line) => print(JSON.stringify(line)));
  if (!process.stdout.isTTY) {
    return run((line) => {
      if (line.type === 'progress')
        print(`${clock(line.event.at)} ${line.event.service}: ${line.event.message}`);
    });
  }
  let result: T | undefined;
  const { Listr } = await import('listr2'); // only a terminal needs it
  const list = new Listr(
    [
      {
        title,
        task: async (_ctx, task) => {
          result = await run((line) => {
            if (line.type === 'progress')
              task.output = `${line.event.service}: ${line.event.message}`;
          });
        },
        rendererOptions: { persistentOutput: true, outputBar: 5 },
      },
    ],
    { exitOnError: true, rendererOptions: { collapseErrors: false } },
  );
  await list.run();
  return result as T;
}

/** A plain aligned table; columns sized to their widest cell. */
export function table(headers: string[], rows: string[][]): string {
  const widths = headers.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)));
  const line = (cells: string[]): string =>
    cells
      .map((c, i) => c.padEnd(widths[i]!))
      .join('  ')
      .trimEnd();
  return [line(headers), ...rows.map(line)].join('\n');
}
