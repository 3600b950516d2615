// A proxy process for tests that need a real one (signals, self-upgrade, crash restart).
// (Not named test-*.js: node --test would run it as a test file.)
//   node fixture-proxy-main.js <controlSocket> <stateFile>
// Extra ProxyOptions come as JSON in HOTSWAP_TEST_PROXY_OPTIONS. Prints "ready <pid>" once it
// serves. Not part of the public API.
import { runProxy, type ProxyOptions } from './main.js';

const [controlSocket, stateFile] = process.argv.slice(2);
if (controlSocket === undefined || stateFile === undefined) {
  process.stderr.write('usage: fixture-proxy-main <controlSocket> <stateFile>\n');
  process.exit(2);
}
const extra = JSON.parse(process.env.HOTSWAP_TEST_PROXY_OPTIONS ?? '{}') as Partial<ProxyOptions>;
await runProxy({ controlSocket, stateFile, ...extra });
process.stdout.write(`ready ${process.pid}\n`);
