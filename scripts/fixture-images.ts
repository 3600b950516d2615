// Builds the test fixture images hotswap-fixture:v1, :v2 and :bad without a registry: FROM
// scratch with the host's own node binary, the libraries `ldd` lists for it (at their absolute
// paths, dynamic loader included) and the app in test/fixtures/app. The build context is a tar
// made in memory and sent to the Engine API's /build. An image whose hotswap.fixture.hash label
// matches the current inputs is not rebuilt, so repeated test runs cost one inspect per image.

import { createHash } from 'node:crypto';
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync, readdirSync, statSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { Readable } from 'node:stream';
import { fileURLToPath } from 'node:url';
import { HotswapError } from '../src/errors.js';
import { DockerClient, tarChunks } from '../src/runtime/index.js';
import type { TarEntry } from '../src/runtime/index.js';

export const FIXTURE_REPO = 'hotswap-fixture';
export const FIXTURE_IMAGES = {
  v1: `${FIXTURE_REPO}:v1`,
  v2: `${FIXTURE_REPO}:v2`,
  bad: `${FIXTURE_REPO}:bad`,
} as const;

export interface BuildFixtureOptions {
  log?: (line: string) => void;
  /** Engine socket; default from DOCKER_HOST or /var/run/docker.sock. */
  socketPath?: string;
  /** Rebuild even when the hash label matches. */
  force?: boolean;
}

interface Variant {
  tag: keyof typeof FIXTURE_IMAGES;
  env: Record<string, string>;
}

const VARIANTS: Variant[] = [
  { tag: 'v1', env: { VERSION: 'v1' } },
  { tag: 'v2', env: { VERSION: 'v2' } },
  { tag: 'bad', env: { VERSION: 'bad', HEALTH_FAIL: '1' } },
];

export const NODE_IN_IMAGE = '/usr/local/bin/node';
const HASH_LABEL = 'hotswap.fixture.hash';

/** The repository root: the first folder above this file holding hotswap's package.json. */
export function repoRoot(from: string = dirname(fileURLToPath(import.meta.url))): string {
  for (let dir = from; ; dir = dirname(dir)) {
    const pkg = join(dir, 'package.json');
    if (existsSync(pkg)) {
      try {
        // Known by its command, which stays `hotswap` whatever the npm name is.
        const json = JSON.parse(readFileSync(pkg, 'utf8')) as { bin?: Record<string, string> };
        if (json.bin?.['hotswap'] !== undefined) {
          return dir;
        }
      } catch {
        // unreadable package.json: keep walking up
      }
    }
    if (dirname(dir) === dir) {
      throw new HotswapError('NOT_FOUND', `no hotswap package.json above ${from}`);
    }
  }
}

export function fixtureAppDir(): string {
  return join(repoRoot(), 'test', 'fixtures', 'app');
}

/** Absolute paths of the shared libraries (and loader) the binary needs, from `ldd`. */
export function sharedLibraries(binary: string): string[] {
  const res = spawnSync('ldd', [binary], { encoding: 'utf8' });
  if (res.error) {
    throw new HotswapError(
      'INTERNAL',
      `cannot run ldd to list ${binary}'s libraries: ${res.error.message}`,
    );
  }
  const text = `${res.stdout}${res.stderr}`;
  if (/not a dynamic executable|statically linked/.test(text)) return [];
  if (res.status !== 0) throw new HotswapError('INTERNAL', `ldd ${binary} failed: ${text.trim()}`);
  const libs: string[] = [];
  for (const line of text.split('\n')) {
    if (/=>\s*not found/.test(line)) {
      throw new HotswapError('INTERNAL', `ldd ${binary}: ${line.trim()}`);
    }
    const m = /(?:=>\s*)?(\/\S+)\s+\(0x[0-9a-f]+\)/.exec(line);
    if (m?.[1]) libs.push(m[1]);
  }
  return [...new Set(libs)].sort();
}

function appFiles(dir: string): { name: string; data: Buffer }[] {
  return readdirSync(dir)
    .filter((name) => statSync(join(dir, name)).isFile())
    .sort()
    .map((name) => ({ name, data: readFileSync(join(dir, name)) }));
}

function dockerfile(v: Variant, hash: string): string {
  const env = Object.entries(v.env)
    .map(([k, val]) => `${k}=${val}`)
    .join(' ');
  return [
    'FROM scratch',
    'COPY rootfs/ /',
    `ENV ${env}`,
    'EXPOSE 8080',
    `LABEL hotswap.fixture=true ${HASH_LABEL}=${hash} hotswap.fixture.variant=${v.tag}`,
    `HEALTHCHECK --interval=2s --timeout=2s --start-period=2s --retries=2 CMD ["${NODE_IN_IMAGE}","/app/health.js"]`,
    `ENTRYPOINT ["${NODE_IN_IMAGE}","/app/server.js"]`,
    '',
  ].join('\n');
}

function variantHash(v: Variant, app: { name: string; data: Buffer }[], libs: string[]): string {
  const h = createHash('sha256');
  h.update(`node ${process.version}\n`);
  h.update(`libs ${libs.join(' ')}\n`);
  h.update(dockerfile(v, '<hash>'));
  for (const f of app) h.update(`file ${f.name} ${f.data.length}\n`).update(f.data);
  return h.digest('hex').slice(0, 16);
}

/**
 * The rootfs/ part every FROM-scratch node image shares: the folders, /tmp, the node binary at
 * /usr/local/bin/node and its libraries at their absolute paths (also used by proxy-image.ts).
 */
export function* nodeRuntimeEntries(libs: string[], extraDirs: string[] = []): Generator<TarEntry> {
  const dirs = new Set<string>(['rootfs/', 'rootfs/usr/local/bin/', ...extraDirs]);
  for (const lib of libs) {
    const parts = dirname(lib).split('/').filter(Boolean);
    for (let i = 1; i <= parts.length; i++) dirs.add(`rootfs/${parts.slice(0, i).join('/')}/`);
  }
  for (const name of ['rootfs/usr/', 'rootfs/usr/local/']) dirs.add(name);
  for (const d of [...dirs].sort()) yield { name: d, type: 'directory' };
  yield { name: 'rootfs/tmp/', type: 'directory', mode: 0o1777 };
  // Files are read when the tar stream reaches them (the node binary is ~100 MB).
  yield { name: `rootfs${NODE_IN_IMAGE}`, data: readFileSync(process.execPath), mode: 0o755 };
  for (const lib of libs) {
    yield { name: `rootfs${lib}`, data: readFileSync(lib), mode: statSync(lib).mode & 0o777 };
  }
}

function* contextEntries(
  app: { name: string; data: Buffer }[],
  libs: string[],
  dockerfiles: Map<string, string>,
): Generator<TarEntry> {
  for (const [name, text] of dockerfiles) yield { name, data: text };
  yield* nodeRuntimeEntries(libs, ['rootfs/app/']);
  for (const f of app) yield { name: `rootfs/app/${f.name}`, data: f.data, mode: 0o644 };
}

/**
 * Builds (or finds up to date) hotswap-fixture:v1, :v2 and :bad; resolves with their names.
 */
export async function buildFixtureImages(opts: BuildFixtureOptions = {}): Promise<string[]> {
  const log = opts.log ?? (() => undefined);
  const app = appFiles(fixtureAppDir());
  if (!app.some((f) => f.name === 'server.js')) {
    throw new HotswapError('NOT_FOUND', `no server.js in ${fixtureAppDir()}`);
  }
  const libs = sharedLibraries(process.execPath);
  const client = new DockerClient({ socketPath: opts.socketPath });
  try {
    const todo: { v: Variant; hash: string; oldId: string | null }[] = [];
    for (const v of VARIANTS) {
      const hash = variantHash(v, app, libs);
      const ref = FIXTURE_IMAGES[v.tag];
      const existing = await client.images.find(ref);
      if (!opts.force && existing?.Config?.Labels?.[HASH_LABEL] === hash) {
        log(`${ref} is up to date (hash ${hash})`);
      } else {
        todo.push({ v, hash, oldId: existing?.Id ?? null });
      }
    }
    if (todo.length > 0) {
      const files = new Map(
        todo.map(({ v, hash }) => [`Dockerfile.${v.tag}`, dockerfile(v, hash)]),
      );
      log(
        `build context: node ${process.version} from ${process.execPath}, ` +
          `${libs.length} libraries (${libs.join(', ')}), app ${app.map((f) => f.name).join(', ')}`,
      );
      for (const { v, hash, oldId } of todo) {
        const ref = FIXTURE_IMAGES[v.tag];
        const started = Date.now();
        log(`building ${ref} (hash ${hash})`);
        const id = await client.images.build(
          Readable.from(tarChunks(contextEntries(app, libs, files))),
          {
            tags: [ref],
            dockerfile: `Dockerfile.${v.tag}`,
            onLine: (line) => {
              if (/^(Step|Successfully|ERROR)/i.test(line)) log(`  ${line}`);
            },
          },
        );
        log(`built ${ref} ${id.slice(0, 19)} in ${((Date.now() - started) / 1000).toFixed(1)} s`);
        if (oldId && oldId !== id) {
          // The previous build of this fixture is now untagged: drop it (in use → keep it).
          await client.images.remove(oldId).catch(() => undefined);
        }
      }
    }
    return VARIANTS.map((v) => FIXTURE_IMAGES[v.tag]);
  } finally {
    await client.close();
  }
}
