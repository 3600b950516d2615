// The lab's images: the fixture app (hotswap-fixture:v1, :v2, :bad) and hotswap's proxy
// (hotswap-proxy:<version>), built on the host's engine the offline way (FROM scratch + node),
// pushed to the lab registry through node1, recorded with their digests in <lab dir>/images.json.

import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { HotswapError } from '../../src/errors.js';
import { ensureEngine } from '../engine.js';
import { buildFixtureImages } from '../fixture-images.js';
import { buildProxyImage } from '../proxy-image.js';
import { labConfig } from './config.js';
import type { LabConfig } from './config.js';
import { pushImages } from './push.js';
import type { PushedImage } from './push.js';

/** Local tag (e.g. "hotswap-fixture:v1") -> its references in the lab registry. */
export type LabImages = Record<string, PushedImage>;

function imagesFile(config: LabConfig): string {
  return join(config.dir, 'images.json');
}

export async function pushLabImages(
  config: LabConfig,
  log: (line: string) => void = () => undefined,
): Promise<LabImages> {
  const engine = await ensureEngine({ log });
  const local = [
    ...(await buildFixtureImages({ log, socketPath: engine.socketPath })),
    await buildProxyImage({ log, socketPath: engine.socketPath }),
  ];
  const started = Date.now();
  const pushed = await pushImages(local, config);
  const images: LabImages = {};
  local.forEach((tag, i) => {
    const ref = pushed[i];
    if (ref) images[tag] = ref;
  });
  log(`pushed ${local.join(', ')} in ${((Date.now() - started) / 1000).toFixed(1)} s`);
  writeFileSync(imagesFile(config), `${JSON.stringify(images, null, 2)}\n`);
  return images;
}

/** What lab:up pushed (throws NOT_FOUND when the lab was brought up with --no-images). */
export function labImages(config: LabConfig = labConfig()): LabImages {
  const file = imagesFile(config);
  if (!existsSync(file)) {
    throw new HotswapError('NOT_FOUND', `no ${file}: run npm run lab:up (without --no-images)`);
  }
  return JSON.parse(readFileSync(file, 'utf8')) as LabImages;
}
