// Builds hotswap-nginx:test for the reload e2e test without a registry, the way
// fixture-images.ts packages node: FROM scratch with the host's Debian nginx binary, the
// libraries `ldd` lists for it, and the few paths nginx opens at start (temp folders, pid file,
// passwd for its worker user). It runs in the foreground; its config is /etc/nginx/nginx.conf.
// An image whose hash label matches the current inputs is not rebuilt.

import { createHash } from 'node:crypto';
import { existsSync, readFileSync, statSync } from 'node:fs';
import { dirname } from 'node:path';
import { Readable } from 'node:stream';
import { HotswapError } from '../src/errors.js';
import { DockerClient, tarChunks } from '../src/runtime/index.js';
import type { TarEntry } from '../src/runtime/index.js';
import { sharedLibraries } from './fixture-images.js';

export const NGINX_IMAGE = 'hotswap-nginx:test';
const NGINX = '/usr/sbin/nginx';
const HASH_LABEL = 'hotswap.fixture.hash';

/** The config the image starts with when none is copied in: answers "nginx" on port 8080. */
export const DEFAULT_NGINX_CONF = `daemon off;
master_process on;
worker_processes 1;
user nobody nogroup;
pid /run/nginx.pid;
error_log stderr warn;
events { worker_connections 512; }
http {
  access_log off;
  default_type text/plain;
  server {
    listen 8080;
    location / { return 200 "nginx\\n"; }
  }
}
`;

const FILES: Record<string, string> = {
  'etc/passwd':
    'root:x:0:0:root:/:/usr/sbin/nologin\nnobody:x:65534:65534:nobody:/:/usr/sbin/nologin\n',
  'etc/group': 'root:x:0:\nnogroup:x:65534:\n',
  'etc/nsswitch.conf': 'passwd: files\ngroup: files\n',
  'etc/nginx/nginx.conf': DEFAULT_NGINX_CONF,
};
const DIRS = ['tmp', 'run', 'var/lib/nginx', 'var/log/nginx', 'var/lock', 'etc/nginx'];

const DOCKERFILE = (hash: string) =>
  [
    'FROM scratch',
    'COPY rootfs/ /',
    'EXPOSE 8080',
    `LABEL hotswap.fixture=true ${HASH_LABEL}=${hash}`,
    'STOPSIGNAL SIGQUIT',
    `ENTRYPOINT ["${NGINX}"]`,
    '',
  ].join('\n');

function* context(libs: string[], hash: string): Generator<TarEntry> {
  yield { name: 'Dockerfile', data: DOCKERFILE(hash) };
  const dirs = new Set<string>(['rootfs/']);
  for (const path of [...DIRS, ...libs.map((l) => dirname(l).slice(1)), 'usr/sbin']) {
    const parts = path.split('/').filter(Boolean);
    for (let i = 1; i <= parts.length; i++) dirs.add(`rootfs/${parts.slice(0, i).join('/')}/`);
  }
  for (const d of [...dirs].sort())
    yield { name: d, type: 'directory', mode: d === 'rootfs/tmp/' ? 0o1777 : 0o755 };
  yield { name: `rootfs${NGINX}`, data: readFileSync(NGINX), mode: 0o755 };
  for (const lib of libs)
    yield { name: `rootfs${lib}`, data: readFileSync(lib), mode: statSync(lib).mode & 0o777 };
  for (const [name, data] of Object.entries(FILES)) yield { name: `rootfs/${name}`, data };
}

/** Builds (or finds up to date) hotswap-nginx:test; throws when the host has no nginx. */
export async function buildNginxImage(
  opts: { socketPath?: string; log?: (line: string) => void } = {},
): Promise<string> {
  if (!existsSync(NGINX))
    throw new HotswapError('NOT_FOUND', `${NGINX} is missing: apt-get install -y nginx`);
  const libs = sharedLibraries(NGINX);
  const h = createHash('sha256').update(DOCKERFILE('')).update(libs.join(' '));
  h.update(JSON.stringify(FILES)).update(String(statSync(NGINX).size));
  const hash = h.digest('hex').slice(0, 16);
  const client = new DockerClient({ socketPath: opts.socketPath });
  try {
    const existing = await client.images.find(NGINX_IMAGE);
    if (existing?.Config?.Labels?.[HASH_LABEL] === hash) return NGINX_IMAGE;
    opts.log?.(`building ${NGINX_IMAGE} from ${NGINX} and ${libs.length} libraries`);
    await client.images.build(Readable.from(tarChunks(context(libs, hash))), {
      tags: [NGINX_IMAGE],
      dockerfile: 'Dockerfile',
    });
    if (existing && existing.Id) await client.images.remove(existing.Id).catch(() => undefined);
    return NGINX_IMAGE;
  } finally {
    await client.close();
  }
}
