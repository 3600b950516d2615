// Runs the real CLI (bin/hotswap.js) as a child process, asynchronously, so load generated in the
// test process keeps its schedule while a rollout runs.
import { spawn } from 'node:child_process';
import { createServer } from 'node:net';
import { fileURLToPath } from 'node:url';

export const REPO_ROOT = fileURLToPath(new URL('../../../', import.meta.url));
const BIN = fileURLToPath(new URL('../../../bin/hotswap.js', import.meta.url));

export interface CliResult {
  code: number;
  stdout: string;
  stderr: string;
  ms: number;
}

export function hotswap(
  home: string,
  args: string[],
  opts: { cwd?: string; echo?: boolean; env?: NodeJS.ProcessEnv } = {},
): Promise<CliResult> {
  const t0 = Date.now();
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [BIN, '--home', home, ...args], {
      cwd: opts.cwd ?? REPO_ROOT,
      stdio: ['ignore', 'pipe', 'pipe'],
      env: { ...process.env, ...opts.env, HOTSWAP_HOME: home },
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => {
      stdout += d.toString();
      if (opts.echo) process.stdout.write(d);
    });
    child.stderr.on('data', (d: Buffer) => {
      stderr += d.toString();
      if (opts.echo) process.stderr.write(d);
    });
    child.on('error', reject);
    child.on('close', (code) => resolve({ code: code ?? -1, stdout, stderr, ms: Date.now() - t0 }));
  });
}

/** A free TCP port on 127.0.0.1 (closed again before use, so racy in theory but fine for tests). */
export async function freePort(): Promise<number> {
  const srv = createServer();
  await new Promise<void>((r) => srv.listen(0, '127.0.0.1', r));
  const port = (srv.address() as { port: number }).port;
  await new Promise<void>((r) => srv.close(() => r()));
  return port;
}

export async function getText(
  url: string,
): Promise<{ status: number; body: string; version: string | null }> {
  const res = await fetch(url, { headers: { connection: 'close' } });
  return { status: res.status, body: await res.text(), version: res.headers.get('x-version') };
}

/**
 * Starts this home's daemon in the background, as systemd (or a mutating verb) would after a
 * crash: read-only verbs never start one. Resolves once `status` answers.
 */
export async function startDaemon(home: string, env: NodeJS.ProcessEnv = {}): Promise<void> {
  const child = spawn(process.execPath, [BIN, '--home', home, 'daemon'], {
    cwd: REPO_ROOT,
    detached: true,
    stdio: 'ignore',
    env: { ...process.env, ...env, HOTSWAP_HOME: home },
  });
  child.unref();
  const deadline = Date.now() + 20_000;
  for (;;) {
    if ((await hotswap(home, ['status'], { env })).code === 0) return;
    if (Date.now() > deadline) throw new Error(`the daemon of ${home} did not start in 20 s`);
    await new Promise((r) => setTimeout(r, 100));
  }
}
