// V8 flags of the proxy process (the daemon's spawn and the benchmark use these; a successor
// inherits its predecessor's). The data plane allocates a little per request and keeps almost
// none of it, so a bigger young generation means fewer scavenges for the same work: about 4%
// fewer instructions per request (callgrind, bench/README.md), the same peak RSS.
export const PROXY_NODE_FLAGS: readonly string[] = ['--max-semi-space-size=4'];
