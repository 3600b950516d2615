// The daemon's logger: JSON lines in <home>/daemon.log (see src/logging).
import { createLog, type ProcessLog } from '../logging/index.js';
import type { HomePaths } from './paths.js';

/** What most of the daemon's parts take: one line (the logger is one, with levels on the side). */
export type Log = (message: string) => void;

export function daemonLog(paths: HomePaths): ProcessLog {
  return createLog({ component: 'daemon', file: paths.daemonLog });
}
