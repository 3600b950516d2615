// Public API of doctor/: host checks for `hotswap doctor`.
export { runChecks, type CheckResult, type CheckState } from './checks.js';
