// The proxy process's own entry point: it loads only the proxy, so a restart after a crash (or
// an upgrade) puts the listeners back as fast as node can start.
//   node dist/src/proxy/bin.js --control <socket> --state <file> [--log <file>]
//     [--control-tcp host:port --token-file <file>]   (a proxy task on a Swarm node, issue 17)
import { readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { setBackendScope } from './core/validate.js';
import { runProxy } from './main.js';

const { values } = parseArgs({
  options: {
    control: { type: 'string' },
    state: { type: 'string' },
    log: { type: 'string' },
    'control-tcp': { type: 'string' },
    'token-file': { type: 'string' },
  },
});
if (!values.control || !values.state) {
  process.stderr.write(
    'usage: bin.js --control <socket> --state <routes.json> [--log <file>] [--control-tcp host:port --token-file f]\n',
  );
  process.exit(2);
}
let controlTcp: { host: string; port: number; token: string } | undefined;
if (values['control-tcp']) {
  const m = /^(.*):(\d{1,5})$/.exec(values['control-tcp']);
  const tokenFile = values['token-file'];
  if (!m || !tokenFile) {
    process.stderr.write('--control-tcp needs host:port and --token-file\n');
    process.exit(2);
  }
  const token = readFileSync(tokenFile, 'utf8').trim();
  controlTcp = { host: m[1]!, port: Number(m[2]), token };
  // A proxy task on a Swarm routes to task IPs on the overlay, not to 127.0.0.1.
  setBackendScope('private');
}
const proxy = await runProxy({
  controlSocket: values.control,
  stateFile: values.state,
  logFile: values.log,
  ...(controlTcp ? { controlTcp } : {}),
});
await proxy.closed;
