// Getting a service's image onto the host by its pull policy: missing (default) pulls only what
// is not here, always asks the registry each time (a digest pin already here is never re-asked:
// it cannot change), never only looks. Progress is folded from per-layer lines into a few
// readable ones: the engine sends hundreds per image.
import { HotswapError } from '../../errors.js';
import { parseImageRef, pullReference } from '../../spec/image-ref.js';
import type { ImageInfo, PullPolicy } from '../types.js';
import type { DockerClient } from './client.js';
import { registryAuth, usesCredentialHelper } from './credentials.js';
import type { ImageInspect, PullEvent } from './images.js';

const PROGRESS_EVERY_MS = 1000;

export async function ensureImage(
  client: DockerClient,
  image: string,
  policy: PullPolicy,
  progress: (message: string) => void = () => undefined,
): Promise<ImageInfo> {
  const ref = parseImageRef(image);
  if (typeof ref === 'string') throw new HotswapError('SPEC_INVALID', `image "${image}": ${ref}`);
  const { repository, tagOrDigest } = pullReference(ref);
  const local = policy === 'always' && ref.digest === null ? null : await client.images.find(image);
  if (local) return infoOf(local, repository);
  if (policy === 'never') {
    throw new HotswapError(
      'IMAGE_NOT_FOUND',
      `image ${image} is not on this host and the service says pull: never (run docker pull ${image}, or set pull: missing)`,
      { details: { image } },
    );
  }
  const auth = registryAuth(ref.registry);
  progress(`pulling ${image}${auth ? ` as ${auth.username}` : ''}`);
  const folder = new ProgressFolder(progress);
  let digest: string | null;
  try {
    digest = await client.images.pull({
      repository,
      tagOrDigest,
      auth,
      onEvent: (e) => folder.add(e),
    });
  } catch (err) {
    if (!auth && err instanceof HotswapError && usesCredentialHelper(ref.registry)) {
      err.message +=
        '; note: hotswap does not run docker credential helpers (credsStore), only "auths" entries';
    }
    throw err;
  }
  const pulled = await client.images.inspect(image);
  const info = infoOf(pulled, repository);
  progress(`pulled ${image} (${digest ?? info.repoDigest ?? info.id})`);
  return info;
}

// The repo digest that names this repository, since an image can be known by several.
function infoOf(img: ImageInspect, repository: string): ImageInfo {
  const digests = img.RepoDigests ?? [];
  const own = digests.find((d) => d.startsWith(`${repository}@`));
  return { id: img.Id, repoDigest: own ?? digests[0] ?? null };
}

/** Sums the bytes of every layer and reports at most once a second. */
class ProgressFolder {
  private readonly layers = new Map<string, { current: number; total: number; done: boolean }>();
  private last = 0;

  constructor(private readonly progress: (message: string) => void) {}

  add(e: PullEvent): void {
    if (e.id === undefined || /^(sha256:|Digest|Status)/.test(e.status)) return;
    const layer = this.layers.get(e.id) ?? { current: 0, total: 0, done: false };
    if (e.status === 'Downloading' && e.total)
      Object.assign(layer, { current: e.current ?? 0, total: e.total });
    if (/^(Pull complete|Already exists|Download complete)$/.test(e.status)) {
      layer.done = e.status !== 'Download complete' || layer.done;
      layer.current = layer.total;
    }
    this.layers.set(e.id, layer);
    const now = Date.now();
    if (now - this.last < PROGRESS_EVERY_MS) return;
    this.last = now;
    this.progress(this.summary());
  }

  private summary(): string {
    const all = [...this.layers.values()];
    const mb = (n: number) => (n / 1e6).toFixed(1);
    const current = all.reduce((a, l) => a + l.current, 0);
    const total = all.reduce((a, l) => a + l.total, 0);
    const done = all.filter((l) => l.done).length;
    return `${done}/${all.length} layers, ${mb(current)} of ${mb(total)} MB`;
  }
}
