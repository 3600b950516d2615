// Images on a Swarm: every node pulls for itself, so a revision must name its image by registry
// digest (`repo@sha256:…`), never by a tag that could move between two nodes' pulls. The manager
// asks the registry for the digest (GET /distribution/{name}/json).
import { HotswapError } from '../../errors.js';
import type { ImageInfo } from '../types.js';
import type { SwarmApi } from './api.js';

/** repo (with registry host and port) without its tag or digest. */
export function repositoryOf(image: string): string {
  const at = image.indexOf('@');
  const name = at >= 0 ? image.slice(0, at) : image;
  const slash = name.lastIndexOf('/');
  const colon = name.lastIndexOf(':');
  return colon > slash ? name.slice(0, colon) : name;
}

export async function pinnedImage(api: SwarmApi, image: string): Promise<ImageInfo> {
  if (/@sha256:[0-9a-f]{64}$/.test(image)) return { id: image, repoDigest: image };
  if (!image.includes('/')) {
    throw new HotswapError(
      'IMAGE_NOT_FOUND',
      `image ${image}: on the Swarm backend an image must come from a registry every node can ` +
        'reach (e.g. registry:5000/app:v1)',
      { details: { image } },
    );
  }
  try {
    const d = await api.distribution(image);
    const pinned = `${repositoryOf(image)}@${d.Descriptor.digest}`;
    return { id: pinned, repoDigest: pinned };
  } catch (err) {
    if (
      err instanceof HotswapError &&
      (err.code === 'IMAGE_NOT_FOUND' || err.code === 'DOCKER_API')
    ) {
      throw new HotswapError(
        'IMAGE_NOT_FOUND',
        `image ${image} could not be resolved in its registry: ${err.message}`,
        { details: { image }, cause: err },
      );
    }
    throw err;
  }
}
