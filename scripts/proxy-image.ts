// Builds hotswap's proxy image, hotswap-proxy:<version>, the same offline way as the fixtures
// (scripts/fixture-images.ts): FROM scratch, the host's node binary and the libraries `ldd`
// lists, the compiled project (dist/src, no tests) and the npm packages the proxy imports at run
// time (PROXY_PACKAGES and what they depend on: today pino, its logger). Used
// where the proxy runs as a container, e.g. a global service on a Swarm (issue 17).
//   docker run hotswap-proxy:<v>            # node dist/src/proxy/bin.js --control … --state …
//   docker run hotswap-proxy:<v> <other entry.js> [args]   # the ENTRYPOINT is node alone
// An image whose hotswap.image.hash label matches the inputs is not rebuilt.

import { createHash } from 'node:crypto';
import { readFileSync, readdirSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import { Readable } from 'node:stream';
import { HotswapError } from '../src/errors.js';
import { PROXY_NODE_FLAGS } from '../src/proxy/node-flags.js';
import { DockerClient, tarChunks } from '../src/runtime/index.js';
import type { TarEntry } from '../src/runtime/index.js';
import { NODE_IN_IMAGE, nodeRuntimeEntries, repoRoot, sharedLibraries } from './fixture-images.js';

export const PROXY_REPO = 'hotswap-proxy';
/** Inside the image: the project's root (dist/src/… below it). */
export const PROXY_APP_DIR = '/hotswap';
export const PROXY_CONTROL_SOCKET = '/run/hotswap/control.sock';
export const PROXY_STATE_FILE = '/var/lib/hotswap/routes.json';
const HASH_LABEL = 'hotswap.image.hash';

export interface BuildProxyImageOptions {
  log?: (line: string) => void;
  socketPath?: string;
  force?: boolean;
}

function projectVersion(root: string): string {
  return (JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as { version: string })
    .version;
}

/** dist/src's runtime files (no tests, no source maps), relative to the project root. */
function distFiles(root: string): string[] {
  const out: string[] = [];
  const walk = (dir: string) => {
    for (const name of readdirSync(dir).sort()) {
      const p = join(dir, name);
      if (statSync(p).isDirectory()) walk(p);
      else if (name.endsWith('.js') && !name.endsWith('.test.js')) out.push(relative(root, p));
    }
  };
  const dist = join(root, 'dist', 'src');
  try {
    walk(dist);
  } catch {
    throw new HotswapError('NOT_FOUND', `no ${dist}: run npm run build first`);
  }
  if (!out.includes('dist/src/proxy/bin.js')) {
    throw new HotswapError(
      'NOT_FOUND',
      `no dist/src/proxy/bin.js under ${root}: run npm run build`,
    );
  }
  return out;
}

/** npm packages the proxy's code imports (src/logging uses pino); their dependencies follow. */
const PROXY_PACKAGES = ['pino'];

/**
 * Every file of the packages the proxy needs and of their dependencies, relative to the project
 * root, as npm laid them out (a nested node_modules/ first, then the top one).
 */
export function packageFiles(root: string, names: readonly string[] = PROXY_PACKAGES): string[] {
  const dirs = new Set<string>();
  const visit = (name: string, from: string) => {
    const candidates = [join(from, 'node_modules', name), join(root, 'node_modules', name)];
    const dir = candidates.find((d) => statSync(d, { throwIfNoEntry: false })?.isDirectory());
    if (dir === undefined)
      throw new HotswapError('NOT_FOUND', `npm package ${name} is not installed: run npm ci`);
    if (dirs.has(dir)) return;
    dirs.add(dir);
    const manifest = JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8')) as {
      dependencies?: Record<string, string>;
    };
    for (const dep of Object.keys(manifest.dependencies ?? {})) visit(dep, dir);
  };
  for (const name of names) visit(name, root);
  const out: string[] = [];
  const walk = (dir: string) => {
    for (const name of readdirSync(dir).sort()) {
      const p = join(dir, name);
      if (name === 'node_modules') continue; // nested packages are visited as packages
      if (statSync(p).isDirectory()) walk(p);
      else out.push(relative(root, p));
    }
  };
  for (const dir of [...dirs].sort()) walk(dir);
  return out;
}

function dockerfile(version: string, hash: string): string {
  const cmd = [
    ...PROXY_NODE_FLAGS,
    `${PROXY_APP_DIR}/dist/src/proxy/bin.js`,
    '--control',
    PROXY_CONTROL_SOCKET,
    '--state',
    PROXY_STATE_FILE,
  ];
  return [
    'FROM scratch',
    'COPY rootfs/ /',
    `WORKDIR ${PROXY_APP_DIR}`,
    `LABEL hotswap.image=proxy hotswap.version=${version} ${HASH_LABEL}=${hash}`,
    `ENTRYPOINT ["${NODE_IN_IMAGE}"]`,
    `CMD ${JSON.stringify(cmd)}`,
    '',
  ].join('\n');
}

function* contextEntries(
  root: string,
  files: string[],
  libs: string[],
  text: string,
): Generator<TarEntry> {
  yield { name: 'Dockerfile', data: text };
  const dirs = new Set<string>([
    `rootfs${PROXY_APP_DIR}/`,
    'rootfs/run/',
    'rootfs/run/hotswap/',
    'rootfs/var/',
    'rootfs/var/lib/',
    'rootfs/var/lib/hotswap/',
  ]);
  for (const f of files) {
    const parts = f.split('/').slice(0, -1);
    for (let i = 1; i <= parts.length; i++) {
      dirs.add(`rootfs${PROXY_APP_DIR}/${parts.slice(0, i).join('/')}/`);
    }
  }
  yield* nodeRuntimeEntries(libs, [...dirs]);
  // The package.json says "type": "module", which dist/ needs.
  yield {
    name: `rootfs${PROXY_APP_DIR}/package.json`,
    data: readFileSync(join(root, 'package.json')),
  };
  for (const f of files) {
    yield { name: `rootfs${PROXY_APP_DIR}/${f}`, data: readFileSync(join(root, f)), mode: 0o644 };
  }
}

/** Builds hotswap-proxy:<version> (skipped when up to date); resolves with its tag. */
export async function buildProxyImage(opts: BuildProxyImageOptions = {}): Promise<string> {
  const log = opts.log ?? (() => undefined);
  const root = repoRoot();
  const version = projectVersion(root);
  const tag = `${PROXY_REPO}:${version}`;
  const files = [...distFiles(root), ...packageFiles(root)];
  const libs = sharedLibraries(process.execPath);
  const h = createHash('sha256');
  h.update(`node ${process.version}\nlibs ${libs.join(' ')}\n${dockerfile(version, '<hash>')}`);
  for (const f of files) h.update(`file ${f}\n`).update(readFileSync(join(root, f)));
  const hash = h.digest('hex').slice(0, 16);
  const client = new DockerClient({ socketPath: opts.socketPath });
  try {
    const existing = await client.images.find(tag);
    if (!opts.force && existing?.Config?.Labels?.[HASH_LABEL] === hash) {
      log(`${tag} is up to date (hash ${hash})`);
      return tag;
    }
    const started = Date.now();
    log(`building ${tag} (hash ${hash}, ${files.length} files of dist/src and node_modules)`);
    const id = await client.images.build(
      Readable.from(tarChunks(contextEntries(root, files, libs, dockerfile(version, hash)))),
      { tags: [tag] },
    );
    log(`built ${tag} ${id.slice(0, 19)} in ${((Date.now() - started) / 1000).toFixed(1)} s`);
    if (existing && existing.Id !== id)
      await client.images.remove(existing.Id).catch(() => undefined);
    return tag;
  } finally {
    await client.close();
  }
}
