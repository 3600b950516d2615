export { runDaemon } from './daemon.js';
export { homePaths, defaultHome, type HomePaths } from './paths.js';
export { lockHome } from './home-lock.js';
export { checkSocketPaths, MAX_SOCKET_PATH_BYTES } from './paths.js';
export { reportStarted, reportStartFailure, spawnedByCli, waitForStart } from './start-channel.js';
export { DAEMON_ENV, DAEMON_NODE_FLAGS } from './node-flags.js';
