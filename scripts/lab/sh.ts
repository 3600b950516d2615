// Running the few host commands the lab needs (ip, docker, mount, apt-get) with their output
// captured, so a failure reports the command and what it printed.

import { spawn, spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { HotswapError } from '../../src/errors.js';

export interface RunOptions {
  input?: string | Buffer;
  env?: NodeJS.ProcessEnv;
  cwd?: string;
  /** Return the result instead of throwing on a non-zero exit. */
  allowFail?: boolean;
  timeoutMs?: number;
}

export interface RunResult {
  status: number;
  stdout: string;
  stderr: string;
}

export function run(cmd: string, args: string[], opts: RunOptions = {}): RunResult {
  const res = spawnSync(cmd, args, {
    input: opts.input,
    env: opts.env ?? process.env,
    cwd: opts.cwd,
    encoding: 'utf8',
    maxBuffer: 64 * 1024 * 1024,
    timeout: opts.timeoutMs ?? 120_000,
  });
  const timedOut = res.error !== undefined && 'code' in res.error && res.error.code === 'ETIMEDOUT';
  if (timedOut && opts.allowFail) {
    return {
      status: 124,
      stdout: res.stdout ?? '',
      stderr: `timed out after ${opts.timeoutMs} ms`,
    };
  }
  if (res.error) {
    throw new HotswapError('INTERNAL', `cannot run ${cmd}: ${res.error.message}`, {
      cause: res.error,
    });
  }
  const out = { status: res.status ?? 1, stdout: res.stdout ?? '', stderr: res.stderr ?? '' };
  if (out.status !== 0 && !opts.allowFail) {
    const text = `${out.stderr}${out.stdout}`.trim().split('\n').slice(-5).join('\n');
    throw new HotswapError(
      'INTERNAL',
      `\`${cmd} ${args.join(' ')}\` failed (${out.status}): ${text}`,
    );
  }
  return out;
}

/** True when the command exits 0 (output discarded). */
export function succeeds(cmd: string, args: string[]): boolean {
  return run(cmd, args, { allowFail: true }).status === 0;
}

/** Async variant for commands that may run long (docker push, docker save | load). */
export function runAsync(cmd: string, args: string[], opts: RunOptions = {}): Promise<RunResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, args, { env: opts.env ?? process.env });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (b: Buffer) => (stdout += b.toString()));
    child.stderr.on('data', (b: Buffer) => (stderr += b.toString()));
    child.on('error', reject);
    child.on('close', (code) => {
      const out = { status: code ?? 1, stdout, stderr };
      if (out.status !== 0 && !opts.allowFail) {
        const text = `${stderr}${stdout}`.trim().split('\n').slice(-5).join('\n');
        reject(new HotswapError('INTERNAL', `\`${cmd} ${args.join(' ')}\` failed: ${text}`));
      } else resolve(out);
    });
    if (opts.input !== undefined) child.stdin.end(opts.input);
    else child.stdin.end();
  });
}

export const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Polls `check` every `everyMs` until it returns a value (not undefined) or `timeoutMs` passes. */
export async function waitFor<T>(
  what: string,
  check: () => T | undefined | Promise<T | undefined>,
  timeoutMs: number,
  everyMs = 200,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await check();
    if (value !== undefined) return value;
    if (Date.now() > deadline) {
      throw new HotswapError('TIMEOUT', `lab: ${what} not reached within ${timeoutMs} ms`);
    }
    await sleep(everyMs);
  }
}

/** The pid in a pid file when that process is alive (a zombie is not), else null. */
export function livePid(pidFile: string): number | null {
  let pid: number;
  try {
    pid = Number(readFileSync(pidFile, 'utf8').trim());
  } catch {
    return null;
  }
  if (!Number.isInteger(pid) || pid <= 0) return null;
  return isAlive(pid) ? pid : null;
}

/**
 * True when the process runs and is not a zombie. A killed dockerd whose parent is gone stays
 * a zombie until init reaps it, which this machine's init may do late; dockerd's own pid-file
 * check would take it for a running daemon.
 */
export function isAlive(pid: number): boolean {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // "pid (comm) S …": the state follows the last ')'.
    return stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3) !== 'Z';
  } catch {
    return false;
  }
}
