// The one logger of a hotswap process (the daemon, the proxy): pino writing JSON lines with
// `service`, `rollout` and `revision` fields where they apply, into the process's log file in
// the home (size-capped), and plain lines on stderr when a person may read it there (a TTY, or
// journald under systemd) rather than stderr being that same file.
import { pino } from 'pino';
import { CappedFile, DEFAULT_LOG_MAX_BYTES } from './capped-file.js';
import { formatRecord, parseLine, type LogFields } from './record.js';

/** Callable as a plain `(message) => void` (what most modules take), with levels on the side. */
export interface Log {
  (message: string, fields?: LogFields): void;
  warn(message: string, fields?: LogFields): void;
  error(message: string, fields?: LogFields): void;
}

export interface LoggerOptions {
  /** `daemon` or `proxy`: the `component` field of every line. */
  component: string;
  /** The log file in the home; absent: JSON (or plain, on a TTY) to stderr only. */
  file?: string;
  /** Cap of the file before it is rotated to `<file>.1`; default env HOTSWAP_LOG_MAX_BYTES or 10 MiB. */
  maxBytes?: number;
  /** false: nothing on stderr (tests). Default: as described above. */
  stderr?: boolean;
}

export interface ProcessLog extends Log {
  close(): void;
}

export function createLog(opts: LoggerOptions): ProcessLog {
  const file = opts.file ? new CappedFile(opts.file, opts.maxBytes ?? maxBytesFromEnv()) : null;
  const echo = opts.stderr ?? true;
  const plainOnStderr = echo && (file ? !file.isSameFile(2) : process.stderr.isTTY === true);
  const jsonOnStderr = echo && !file && !plainOnStderr;
  const destination = {
    write(line: string): void {
      file?.write(line);
      if (jsonOnStderr) process.stderr.write(line);
      else if (plainOnStderr)
        process.stderr.write(formatRecord(parseLine(line.trimEnd(), opts.component)) + '\n');
    },
  };
  const logger = pino(
    {
      base: { component: opts.component, pid: process.pid },
      timestamp: pino.stdTimeFunctions.isoTime,
      formatters: { level: (label) => ({ level: label }) },
    },
    destination,
  );
  const log = ((message: string, fields?: LogFields) =>
    logger.info(fields ?? {}, message)) as ProcessLog;
  log.warn = (message, fields) => logger.warn(fields ?? {}, message);
  log.error = (message, fields) => logger.error(fields ?? {}, message);
  log.close = () => file?.close();
  return log;
}

function maxBytesFromEnv(): number {
  const n = Number(process.env.HOTSWAP_LOG_MAX_BYTES);
  return Number.isInteger(n) && n > 0 ? n : DEFAULT_LOG_MAX_BYTES;
}
