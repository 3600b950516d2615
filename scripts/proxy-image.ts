// Builds hotswap's proxy as an image, offline, the way the fixtures are built (issue 17): FROM
// scratch with the host's node binary, the libraries `ldd` lists for it, and the compiled proxy
// (dist/src/proxy/bin.js and every module it imports, found by following its imports; the proxy
// needs no npm package). Tag hotswap-proxy:<hash of the inputs>; an image with that tag is not
// rebuilt. The Swarm backend starts it as a global service (src/runtime/swarm/proxy-service.ts).
//   node dist/scripts/proxy-image.js        prints the tag
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { Readable } from 'node:stream';
import { DockerClient, tarChunks } from '../src/runtime/index.js';
import type { TarEntry } from '../src/runtime/index.js';
import { repoRoot, sharedLibraries } from './fixture-images.js';

export const PROXY_REPO = 'hotswap-proxy';
const NODE_IN_IMAGE = '/usr/local/bin/node';
const ROOT_IN_IMAGE = 'hotswap';

/** The compiled files bin.js needs, relative to the repository root (dist/src/...). */
export function proxyFiles(root: string = repoRoot()): string[] {
  const seen = new Set<string>();
  const visit = (file: string): void => {
    if (seen.has(file)) return;
    seen.add(file);
    const text = readFileSync(file, 'utf8');
    for (const m of text.matchAll(/(?:from|import)\s*\(?\s*'(\.{1,2}\/[^']+)'/g))
      visit(resolve(dirname(file), m[1]!));
  };
  visit(join(root, 'dist', 'src', 'proxy', 'bin.js'));
  return [...seen].map((f) => relative(root, f)).sort();
}

function dockerfile(hash: string): string {
  return [
    'FROM scratch',
    'COPY rootfs/ /',
    `LABEL hotswap.proxy-image=${hash}`,
    `ENTRYPOINT ["${NODE_IN_IMAGE}","/${ROOT_IN_IMAGE}/dist/src/proxy/bin.js"]`,
    '',
  ].join('\n');
}

function* context(
  root: string,
  files: string[],
  libs: string[],
  hash: string,
): Generator<TarEntry> {
  yield { name: 'Dockerfile', data: dockerfile(hash) };
  const dirs = new Set<string>([
    'rootfs/',
    'rootfs/usr/',
    'rootfs/usr/local/',
    'rootfs/usr/local/bin/',
  ]);
  const addDirs = (path: string): void => {
    const parts = dirname(path).split('/').filter(Boolean);
    for (let i = 1; i <= parts.length; i++) dirs.add(`rootfs/${parts.slice(0, i).join('/')}/`);
  };
  for (const lib of libs) addDirs(lib);
  for (const f of files) addDirs(`/${ROOT_IN_IMAGE}/${f}`);
  for (const d of [...dirs].sort()) yield { name: d, type: 'directory' };
  yield { name: 'rootfs/tmp/', type: 'directory', mode: 0o1777 };
  yield { name: `rootfs${NODE_IN_IMAGE}`, data: readFileSync(process.execPath), mode: 0o755 };
  for (const lib of libs) yield { name: `rootfs${lib}`, data: readFileSync(lib), mode: 0o755 };
  for (const f of files)
    yield { name: `rootfs/${ROOT_IN_IMAGE}/${f}`, data: readFileSync(join(root, f)), mode: 0o644 };
}

/** Builds (or finds) the proxy image on the engine; resolves with its tag. */
export async function buildProxyImage(
  opts: { socketPath?: string; log?: (line: string) => void } = {},
): Promise<string> {
  const root = repoRoot();
  const files = proxyFiles(root);
  const libs = sharedLibraries(process.execPath);
  const h = createHash('sha256').update(`node ${process.version}\nlibs ${libs.join(' ')}\n`);
  for (const f of files) h.update(`${f}\n`).update(readFileSync(join(root, f)));
  const hash = h.digest('hex').slice(0, 12);
  const tag = `${PROXY_REPO}:${hash}`;
  const client = new DockerClient({ socketPath: opts.socketPath });
  try {
    if (await client.images.find(tag)) return tag;
    const t0 = Date.now();
    await client.images.build(Readable.from(tarChunks(context(root, files, libs, hash))), {
      tags: [tag],
    });
    opts.log?.(
      `built ${tag} (${files.length} files) in ${((Date.now() - t0) / 1000).toFixed(1)} s`,
    );
    return tag;
  } finally {
    await client.close();
  }
}

if (process.argv[1] && resolve(process.argv[1]) === resolve(new URL(import.meta.url).pathname)) {
  try {
    console.log(await buildProxyImage({ log: (l) => console.error(l) }));
  } catch (err) {
    console.error(err instanceof Error ? err.message : String(err));
    process.exit(1);
  }
}
