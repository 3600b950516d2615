// The proxy process's own entry point: it loads only the proxy, so a restart after a crash (or
// an upgrade) puts the listeners back as fast as node can start.
//   node dist/src/proxy/bin.js --control <socket> --state <file> [--log <file>]
import { parseArgs } from 'node:util';
import { runProxy } from './main.js';

const { values } = parseArgs({
  options: { control: { type: 'string' }, state: { type: 'string' }, log: { type: 'string' } },
});
if (!values.control || !values.state) {
  process.stderr.write('usage: bin.js --control <socket> --state <routes.json> [--log <file>]\n');
  process.exit(2);
}
const proxy = await runProxy({
  controlSocket: values.control,
  stateFile: values.state,
  logFile: values.log,
});
await proxy.closed;
