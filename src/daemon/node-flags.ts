// V8 flags of the daemon process (the CLI's spawn and the systemd unit use these). The daemon is
// not on the request path: it allocates in bursts (an `up` of many services) and idles between
// them. V8's young generation grows to 2 × 16 MiB under such a burst on a 64-bit host and keeps
// it; a 1 MiB semi-space keeps it at 2 MiB (about 30 MiB less RSS at rest, measured with
// `npm run bench:control-plane`), for more but shorter scavenges.
export const DAEMON_NODE_FLAGS: readonly string[] = ['--max-semi-space-size=1'];

/**
 * Environment of the daemon process (and so of the proxy it starts). glibc gives each thread
 * that allocates its own malloc arena and keeps what was freed in it; node's worker threads
 * (V8's platform, libuv's pool) would otherwise hold several MiB each at rest. A variable the
 * caller sets wins.
 */
export const DAEMON_ENV: Readonly<Record<string, string>> = { MALLOC_ARENA_MAX: '2' };
