// V8 flags of the proxy process (the daemon's spawn and the benchmark use these; a successor
// inherits its predecessor's). The data plane allocates a little per request and keeps almost
// none of it. V8's default on a 64-bit host with enough memory lets the young generation grow to
// 2 × 16 MiB, and it stays that big once grown (an `up` of many services grows it): 4 MiB
// semi-spaces keep it at 8 MiB (proxy RSS at rest with 50 services, `npm run
// bench:control-plane`), with no cost the callgrind count can tell apart (`npm run
// bench:instructions`, 2026-12-01: 34.7 k and 36.4 k instructions per request against 35.5 k
// with 16 MiB; the spread is the warm-up's share on a loaded machine).
export const PROXY_NODE_FLAGS: readonly string[] = ['--max-semi-space-size=4'];
