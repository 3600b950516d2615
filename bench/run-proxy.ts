// Entry script of the benchmark's hotswap proxy: the same runProxy() that `hotswap proxy` runs,
// as a process of its own, so the benchmark can measure its RSS and profile it on its own.
//
//   node [--cpu-prof --cpu-prof-dir=DIR] dist/bench/run-proxy.js <controlSocket> <stateFile> [--full-path]
//
// --full-path: every request through Node's http server and client (the proxy before its fast
// path), to compare the two by hand.
//
// Node's --cpu-prof writes the profile when the process exits, so this script exits as soon as
// the proxy has closed (SIGTERM/SIGINT or POST /shutdown on the control socket).
import { runProxy } from '../src/proxy/index.js';

async function main(): Promise<void> {
  const [controlSocket, stateFile, flag] = process.argv.slice(2);
  if (controlSocket === undefined || stateFile === undefined) {
    process.stderr.write('usage: run-proxy.js <controlSocket> <stateFile>\n');
    process.exit(2);
  }
  const fastPath = flag !== '--full-path';
  const proxy = await runProxy({ controlSocket, stateFile, closeGraceMs: 2_000, fastPath });
  await proxy.closed;
  process.exit(0);
}

main().catch((err: unknown) => {
  process.stderr.write(
    `run-proxy: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`,
  );
  process.exit(1);
});
