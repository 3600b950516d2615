// The lab's image registry: Debian's docker-registry (distribution 2.8) serving plain HTTP on
// the hub address, inside the hub netns. The binary is the installed one when the package is
// there, else extracted from the .deb (apt-get download + dpkg-deb -x) into a cache that
// outlives the lab, so nothing is installed and no service starts.
//   HOTSWAP_LAB_REGISTRY_BIN  use this binary
//   HOTSWAP_LAB_REGISTRY=extract  extract even when the package is installed
//   HOTSWAP_LAB_CACHE  cache folder (default /var/cache/hotswap-lab)

import { spawn } from 'node:child_process';
import { closeSync, existsSync, mkdirSync, openSync, readdirSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import { join } from 'node:path';
import { HotswapError } from '../../src/errors.js';
import type { LabConfig } from './config.js';
import { livePid, run, waitFor } from './sh.js';

const EXTRACTED = 'usr/bin/docker-registry';

function cacheDir(env: NodeJS.ProcessEnv): string {
  return env['HOTSWAP_LAB_CACHE'] || '/var/cache/hotswap-lab';
}

function extract(log: (line: string) => void, env: NodeJS.ProcessEnv): string {
  const dir = join(cacheDir(env), 'docker-registry');
  const bin = join(dir, 'root', EXTRACTED);
  if (existsSync(bin)) return bin;
  mkdirSync(dir, { recursive: true });
  const debs = () => readdirSync(dir).filter((f) => /^docker-registry_.*\.deb$/.test(f));
  if (debs().length === 0) {
    log('registry: apt-get download docker-registry');
    const first = run('apt-get', ['download', 'docker-registry'], { allowFail: true, cwd: dir });
    if (first.status !== 0) {
      run('apt-get', ['update', '-qq'], { timeoutMs: 300_000 });
      run('apt-get', ['download', 'docker-registry'], { cwd: dir, timeoutMs: 300_000 });
    }
  }
  const deb = debs()[0];
  if (!deb) throw new HotswapError('NOT_FOUND', `lab: no docker-registry .deb in ${dir}`);
  run('dpkg-deb', ['-x', join(dir, deb), join(dir, 'root')]);
  if (!existsSync(bin)) throw new HotswapError('NOT_FOUND', `lab: ${deb} holds no /${EXTRACTED}`);
  log(`registry: extracted ${deb} into ${dir}/root`);
  return bin;
}

export function registryBinary(log: (line: string) => void, env = process.env): string {
  const given = env['HOTSWAP_LAB_REGISTRY_BIN'];
  if (given) return given;
  const cached = join(cacheDir(env), 'docker-registry', 'root', EXTRACTED);
  if (existsSync(cached)) return cached;
  if (env['HOTSWAP_LAB_REGISTRY'] !== 'extract') {
    const installed = run('sh', ['-c', 'command -v docker-registry'], { allowFail: true });
    if (installed.status === 0 && installed.stdout.trim()) return installed.stdout.trim();
  }
  return extract(log, env);
}

export function registryAnswers(config: LabConfig, timeoutMs = 2_000): Promise<boolean> {
  return new Promise((resolve) => {
    const req = http.get(`http://${config.registry}/v2/`, { timeout: timeoutMs }, (res) => {
      res.resume();
      resolve(res.statusCode === 200);
    });
    req.on('timeout', () => req.destroy());
    req.on('error', () => resolve(false));
  });
}

function pidFile(config: LabConfig): string {
  return join(config.dir, 'registry', 'registry.pid');
}

/** Starts the registry unless it answers already; true when started now. */
export async function startRegistry(
  config: LabConfig,
  log: (line: string) => void,
): Promise<boolean> {
  if (await registryAnswers(config)) return false;
  const dir = join(config.dir, 'registry');
  mkdirSync(join(dir, 'data'), { recursive: true });
  const bin = registryBinary(log);
  const cfg = join(dir, 'config.yml');
  writeFileSync(
    cfg,
    [
      'version: 0.1',
      'log:',
      '  level: warn',
      '  accesslog:',
      '    disabled: true',
      'storage:',
      '  filesystem:',
      `    rootdirectory: ${dir}/data`,
      '  delete:',
      '    enabled: true',
      'http:',
      `  addr: ${config.registry}`,
      '',
    ].join('\n'),
  );
  const fd = openSync(join(dir, 'registry.log'), 'a');
  try {
    // `ip netns exec` execs the binary: the child's pid is the registry's.
    const child = spawn('ip', ['netns', 'exec', config.hubNetns, bin, 'serve', cfg], {
      detached: true,
      stdio: ['ignore', fd, fd],
    });
    child.unref();
    writeFileSync(pidFile(config), `${child.pid}\n`);
  } finally {
    closeSync(fd);
  }
  await waitFor(
    `registry answering on http://${config.registry}/v2/ (log: ${dir}/registry.log)`,
    async () => ((await registryAnswers(config, 500)) ? true : undefined),
    20_000,
    200,
  );
  return true;
}

export function stopRegistry(config: LabConfig): boolean {
  const pid = livePid(pidFile(config));
  if (pid === null) return false;
  process.kill(pid, 'SIGKILL'); // no state worth a graceful stop: blobs are written atomically
  return true;
}
