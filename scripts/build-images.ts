// CLI: make sure an engine runs, then build the fixture images (skipped when up to date).
//   node dist/scripts/build-images.js [--force]
import { ensureEngine } from './engine.js';
import { buildFixtureImages } from './fixture-images.js';

const log = (line: string) => console.log(line);
const started = Date.now();
try {
  const engine = await ensureEngine({ log });
  log(`engine: ${engine.socketPath}${engine.started ? ' (started now)' : ''}`);
  const images = await buildFixtureImages({
    log,
    socketPath: engine.socketPath,
    force: process.argv.includes('--force'),
  });
  log(`ready: ${images.join(', ')} (${((Date.now() - started) / 1000).toFixed(1)} s)`);
} catch (err) {
  console.error(err instanceof Error ? err.message : String(err));
  process.exit(1);
}
