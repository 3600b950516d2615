export { runDaemon } from './daemon.js';
export { homePaths, defaultHome, type HomePaths } from './paths.js';
