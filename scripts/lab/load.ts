// Load on lab addresses from a child process. The lab helpers call the docker CLI with
// spawnSync, which blocks the event loop (for seconds when a manager is cut off or in an
// election); a LoadGenerator in the same process would stall with it and report gaps and
// resets on every node that are its own. The child runs one LoadGenerator per URL (bounded in
// time like any LoadGenerator) and sends the samples back when told to stop.

import { fork } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import type { LoadOptions, Sample } from '../../src/assess/index.js';
import { HotswapError } from '../../src/errors.js';
import { labConfig } from './config.js';
import type { LabConfig } from './config.js';

export interface LabLoadOptions {
  /** http://<lab address>:<port>/… one generator each: the lab's own subnet or loopback only. */
  urls: string[];
  /** Per URL. */
  ratePerSec: number;
  connections?: LoadOptions['connections'];
  timeoutMs?: number;
  maxDurationMs?: number;
}

export interface LabLoad {
  /** Stops the generators (in-flight requests finish) and resolves with samples per URL. */
  stop(): Promise<Sample[][]>;
  /** ms since the child's generators started (from the parent's clock, approximately). */
  now(): number;
}

export async function startLabLoad(
  opts: LabLoadOptions,
  config: LabConfig = labConfig(),
): Promise<LabLoad> {
  for (const url of opts.urls) {
    const host = new URL(url).hostname;
    if (!host.startsWith(`${config.subnet}.`) && !['127.0.0.1', '[::1]'].includes(host)) {
      throw new HotswapError('USAGE', `lab load: ${url} is outside lab ${config.subnet}.0/24`);
    }
  }
  const child = fork(fileURLToPath(new URL('./load-child.js', import.meta.url)), [], {
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
    serialization: 'advanced',
  });
  const started = await new Promise<number>((resolve, reject) => {
    child.once('message', () => resolve(performance.now()));
    child.once('error', reject);
    child.once('exit', (code) => reject(new Error(`lab load child exited (${code})`)));
    child.send({ type: 'start', opts });
  });
  child.removeAllListeners('exit');
  return {
    now: () => performance.now() - started,
    stop: () =>
      new Promise<Sample[][]>((resolve, reject) => {
        child.once('message', (m: { samples: Sample[][] }) => {
          resolve(m.samples);
          child.disconnect();
        });
        child.once('exit', (code) => reject(new Error(`lab load child exited (${code})`)));
        child.send({ type: 'stop' });
      }),
  };
}
