// V8 flags of the proxy process (the daemon's spawn and the benchmark use these; a successor
// inherits its predecessor's). The data plane allocates a little per request and keeps almost
// none of it. V8's default on a 64-bit host with enough memory lets the young generation grow to
// 2 × 16 MiB, and it stays that big once grown (an `up` of many services grows it): 4 MiB
// semi-spaces keep the proxy's RSS at rest below 60 MiB with 50 services, for about 1–2% more
// instructions per request (callgrind: 36.4 k against 35.5 k, `npm run bench:instructions`).
export const PROXY_NODE_FLAGS: readonly string[] = ['--max-semi-space-size=4'];
