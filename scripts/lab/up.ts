// `npm run lab:up`: build (or complete) the 3-node Swarm lab; see scripts/lab/config.ts for the
// settings (HOTSWAP_LAB_PREFIX, HOTSWAP_LAB_SUBNET, ...) and test/helpers/lab.ts for its use.
//   node dist/scripts/lab/up.js [--no-images]
import { pushLabImages } from './images.js';
import { labUp } from './lab.js';

const started = Date.now();
try {
  const log = (l: string) => console.log(l);
  const config = await labUp({ log });
  if (!process.argv.includes('--no-images')) {
    const images = await pushLabImages(config, log);
    log(
      `[lab ${config.prefix}] ${((Date.now() - started) / 1000).toFixed(1)} s images: ` +
        `${Object.keys(images).join(', ')}`,
    );
  }
  console.log(
    `lab ${config.prefix} up in ${((Date.now() - started) / 1000).toFixed(1)} s: nodes ` +
      `${config.nodes.map((n) => `${n.name}=${n.address} (DOCKER_HOST=${n.dockerHost})`).join(', ')}; ` +
      `registry ${config.registry}`,
  );
} catch (err) {
  console.error(`lab up failed: ${err instanceof Error ? err.message : String(err)}`);
  process.exit(1);
}
