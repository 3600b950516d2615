// What a reload needs of the runtime beyond the Runtime contract: copy files in, read them back,
// run a command. The Docker backend has all three (the Engine's archive and exec APIs).
import { HotswapError } from '../errors.js';
import type { Runtime } from '../runtime/types.js';

export interface ReloadRuntime {
  signalInstance(id: string, signal: string): Promise<void>;
  /** For a verify by the service's own probe (a docker-healthcheck probe inspects). */
  inspectInstance: Runtime['inspectInstance'];
  /** Writes files (names relative to `dir`) into the instance; parent folders are created. */
  putFiles(id: string, dir: string, files: Record<string, string | Uint8Array>): Promise<void>;
  readFile(id: string, path: string): Promise<Buffer>;
  exec(
    id: string,
    cmd: string[],
    opts?: { timeoutMs?: number; signal?: AbortSignal; env?: Record<string, string> },
  ): Promise<{ exitCode: number; stdout: string; output: string }>;
}

/** The runtime as a ReloadRuntime, or a clear refusal when its backend cannot copy files in. */
export function reloadRuntime(runtime: Runtime): ReloadRuntime {
  const r = runtime as Partial<ReloadRuntime> & Runtime;
  if (typeof r.putFiles !== 'function' || typeof r.readFile !== 'function' || !r.exec)
    throw new HotswapError('USAGE', 'this runtime cannot copy files into instances (reload)');
  return r as ReloadRuntime;
}
