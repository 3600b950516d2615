// Public API of reload/: in-place reload of a service's files (issue 16).
export { diffReloadFiles, instanceFiles } from './files.js';
export { reloadRuntime, type ReloadRuntime } from './runtime.js';
export { runReload, type ReloadOutcome, type ReloadPlan, type ReloadTarget } from './reload-run.js';
export {
  captureState,
  handOff,
  HANDOFF_FILE,
  restoreState,
  type HandoffInstance,
  type HandoffResult,
} from './handoff.js';
