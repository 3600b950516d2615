// Exec endpoints: run a command in a running container and collect its output and exit code.

import { HotswapError } from '../../errors.js';
import type { DockerClient } from './client.js';
import { collectOutput } from './stream.js';

export interface ExecCreateOptions {
  Cmd: string[];
  Env?: string[];
  WorkingDir?: string;
  User?: string;
  Tty?: boolean;
  AttachStdout?: boolean;
  AttachStderr?: boolean;
  Privileged?: boolean;
}

export interface ExecInspect {
  ID: string;
  Running: boolean;
  ExitCode: number | null;
  Pid: number;
  ContainerID: string;
}

export interface ExecResult {
  exitCode: number;
  stdout: string;
  stderr: string;
  /** stdout and stderr interleaved. */
  output: string;
}

export interface RunOptions {
  env?: Record<string, string>;
  workingDir?: string;
  user?: string;
  /** Give up waiting after this long (the process may keep running: the API cannot kill it). */
  timeoutMs?: number;
  signal?: AbortSignal;
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

export class ExecApi {
  constructor(private readonly client: DockerClient) {}

  async create(containerId: string, opts: ExecCreateOptions): Promise<string> {
    const res = await this.client.json<{ Id: string }>({
      method: 'POST',
      path: `/containers/${encodeURIComponent(containerId)}/exec`,
      body: { AttachStdout: true, AttachStderr: true, Tty: false, ...opts },
    });
    return res.Id;
  }

  async inspect(execId: string): Promise<ExecInspect> {
    return this.client.json<ExecInspect>({ path: `/exec/${encodeURIComponent(execId)}/json` });
  }

  /**
   * Runs `cmd` in the container and waits for it to finish. A command that cannot be started
   * (missing binary) gives exit code 126/127 as with `docker exec`.
   */
  async run(containerId: string, cmd: string[], opts: RunOptions = {}): Promise<ExecResult> {
    const execId = await this.create(containerId, {
      Cmd: cmd,
      Env: opts.env && Object.entries(opts.env).map(([k, v]) => `${k}=${v}`),
      WorkingDir: opts.workingDir,
      User: opts.user,
    });
    const timeoutMs = opts.timeoutMs ?? 60_000;
    const timeout = AbortSignal.timeout(timeoutMs);
    const signal = opts.signal ? AbortSignal.any([opts.signal, timeout]) : timeout;
    let out;
    try {
      const res = await this.client.stream({
        method: 'POST',
        path: `/exec/${encodeURIComponent(execId)}/start`,
        body: { Detach: false, Tty: false },
        signal,
      });
      out = await collectOutput(res.body);
    } catch (err) {
      if (timeout.aborted && !opts.signal?.aborted) {
        throw new HotswapError('TIMEOUT', `exec ${cmd.join(' ')} ran longer than ${timeoutMs} ms`, {
          details: { containerId, execId },
        });
      }
      throw err;
    }
    // The stream ends when the process exits; the exit code may lag behind by a moment.
    let info = await this.inspect(execId);
    for (let i = 0; info.Running && i < 100; i++) {
      await sleep(20);
      info = await this.inspect(execId);
    }
    return {
      exitCode: info.ExitCode ?? -1,
      stdout: out.stdout,
      stderr: out.stderr,
      output: out.combined,
    };
  }
}
