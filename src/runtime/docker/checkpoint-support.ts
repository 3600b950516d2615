// Whether `docker checkpoint` (CRIU) can work on this host, found out once at daemon start.
// It needs an engine with experimental features on and a CRIU that works with the running
// kernel: `criu check` is the test CRIU itself offers (CRIU 3.17 fails on some kernels' vDSO).
import { spawn } from 'node:child_process';
import type { DockerClient } from './client.js';

export interface CheckpointSupport {
  supported: boolean;
  /** Why not (every reason found), or what was found when supported. */
  reason: string;
}

export interface CriuCheck {
  /** null: no criu binary. */
  version: string | null;
  ok: boolean;
  output: string;
}

const CRIU_TIMEOUT_MS = 10_000;

export async function detectCheckpointSupport(
  client: Pick<DockerClient, 'json'>,
  criu: () => Promise<CriuCheck> = runCriuCheck,
): Promise<CheckpointSupport> {
  const reasons: string[] = [];
  const info = await client
    .json<{ ExperimentalBuild?: boolean }>({ path: '/info' })
    .catch((err: Error) => ({ error: err.message }));
  if ('error' in info) reasons.push(`the Docker engine did not answer /info: ${info.error}`);
  else if (!info.ExperimentalBuild)
    reasons.push('the Docker engine runs without experimental features (dockerd --experimental)');
  const check = await criu();
  if (check.version === null) reasons.push('criu is not installed');
  else if (!check.ok)
    reasons.push(`criu check failed (CRIU ${check.version}): ${firstError(check.output)}`);
  return reasons.length
    ? { supported: false, reason: reasons.join('; ') }
    : { supported: true, reason: `engine experimental, CRIU ${check.version} passes criu check` };
}

/** The line that says what went wrong, not the stack of callers after it. */
function firstError(output: string): string {
  const lines = output
    .split('\n')
    .map((l) => l.trim())
    .filter(Boolean);
  return lines.find((l) => /error/i.test(l)) ?? lines[0] ?? 'no output';
}

export async function runCriuCheck(): Promise<CriuCheck> {
  const version = await run(['--version']);
  if (version === null) return { version: null, ok: false, output: '' };
  const v = /Version:\s*(\S+)/.exec(version.output)?.[1] ?? 'unknown';
  const check = await run(['check']);
  return { version: v, ok: check?.code === 0, output: check?.output ?? '' };
}

function run(args: string[]): Promise<{ code: number; output: string } | null> {
  return new Promise((resolve) => {
    const child = spawn('criu', args, { stdio: ['ignore', 'pipe', 'pipe'] });
    let output = '';
    child.stdout.on('data', (d: Buffer) => (output += d.toString()));
    child.stderr.on('data', (d: Buffer) => (output += d.toString()));
    const timer = setTimeout(() => child.kill('SIGKILL'), CRIU_TIMEOUT_MS);
    child.on('error', () => {
      clearTimeout(timer);
      resolve(null);
    });
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code: code ?? -1, output });
    });
  });
}
