// Runs a service's preflight hooks on the host before any instance starts: each with the image
// reference and digest in its environment, a timeout, and its output (the last 4 KiB) in the
// journal and the progress report. A blocking failure stops the update before anything changed.
import { spawn } from 'node:child_process';
import type { Reporter } from '../controller/index.js';
import { HotswapError } from '../errors.js';
import type { PreflightSpec, ServiceSpec } from '../spec/types.js';
import type { Store } from '../store/index.js';

const KEEP_BYTES = 4096;

export interface HookResult {
  ok: boolean;
  /** exit code, or null when killed at the timeout or unable to start */
  code: number | null;
  why: string;
  output: string;
  ms: number;
}

export async function runPreflight(
  svc: ServiceSpec,
  digest: string,
  deps: { store: Store; report: Reporter },
): Promise<void> {
  for (const hook of svc.preflight ?? []) {
    const r = await runHook(hook, {
      HOTSWAP_SERVICE: svc.name,
      HOTSWAP_IMAGE: svc.image,
      HOTSWAP_IMAGE_DIGEST: digest,
    });
    const verdict = r.ok ? 'passed' : hook.onFail === 'block' ? 'failed' : 'warned';
    const message = `preflight ${JSON.stringify(hook.run)} ${verdict} (${r.why}, ${(r.ms / 1000).toFixed(1)} s)${r.ok ? '' : `: ${lastLine(r.output)}`}`;
    const entry = deps.store.journal.append({
      service: svc.name,
      event: `preflight.${verdict}`,
      data: { run: hook.run, code: r.code, why: r.why, ms: r.ms, output: r.output },
    });
    deps.report({ at: entry.at, service: svc.name, event: `preflight.${verdict}`, message });
    if (!r.ok && hook.onFail === 'block')
      throw new HotswapError('PREFLIGHT_FAILED', `service ${svc.name}: ${message}`, {
        details: { service: svc.name, run: hook.run, code: r.code, output: r.output },
      });
  }
}

export function runHook(hook: PreflightSpec, env: Record<string, string>): Promise<HookResult> {
  const t0 = Date.now();
  return new Promise((resolve) => {
    let output = '';
    const keep = (d: Buffer): void => {
      output = (output + d.toString('utf8')).slice(-KEEP_BYTES);
    };
    const child = spawn(hook.run[0]!, hook.run.slice(1), {
      env: { ...process.env, ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let timedOut = false;
    const timer = setTimeout(() => {
      timedOut = true;
      child.kill('SIGKILL');
    }, hook.timeoutMs);
    child.stdout.on('data', keep);
    child.stderr.on('data', keep);
    let settled = false;
    const done = (code: number | null, why: string): void => {
      if (settled) return; // a command that cannot start reports both error and close
      settled = true;
      clearTimeout(timer);
      resolve({ ok: code === 0 && !timedOut, code, why, output, ms: Date.now() - t0 });
    };
    child.once('error', (err) => done(null, `could not start: ${err.message}`));
    child.once('close', (code, signal) =>
      done(
        code,
        timedOut
          ? `timed out after ${hook.timeoutMs} ms`
          : code === null
            ? `killed by ${signal}`
            : `exit ${code}`,
      ),
    );
  });
}

function lastLine(output: string): string {
  return output.trim().split('\n').at(-1) ?? '';
}

/**
 * Runs the hooks of each service about to be deployed. The digest is the local image's (its
 * registry digest, else its id); an image not pulled yet gives the digest its reference pins, if any.
 */
export async function preflightServices(
  services: ServiceSpec[],
  inspect: ((image: string) => Promise<{ id: string; repoDigest: string | null }>) | undefined,
  deps: { store: Store; report: Reporter },
): Promise<void> {
  for (const svc of services) {
    if (!svc.preflight?.length) continue;
    const local = await inspect?.(svc.image).catch(() => null);
    const pinned = svc.image.includes('@') ? svc.image.slice(svc.image.indexOf('@') + 1) : '';
    await runPreflight(svc, local ? (local.repoDigest ?? local.id) : pinned, deps);
  }
}
