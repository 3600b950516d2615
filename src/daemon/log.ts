/** Plain timestamped lines: the daemon and proxy write to their log files through stderr. */
export type Log = (message: string) => void;

export function makeLog(component: string): Log {
  return (message) =>
    process.stderr.write(`${new Date().toISOString()} ${component}: ${message}\n`);
}
