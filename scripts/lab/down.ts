// `npm run lab:down`: remove everything the lab made (processes, cgroups, netns, links, files).
//   node dist/scripts/lab/down.js
import { labDown } from './lab.js';
import { labConfig } from './config.js';

const started = Date.now();
try {
  const config = labConfig();
  await labDown({ config, log: (l) => console.log(l) });
  console.log(`lab ${config.prefix} down in ${((Date.now() - started) / 1000).toFixed(1)} s`);
} catch (err) {
  console.error(`lab down failed: ${err instanceof Error ? err.message : String(err)}`);
  process.exit(1);
}
