/** The cleanup service as a ClearML task: registration, enqueueing, and the agent-mode runner. */
export * from './constants.js';
export { TaskSetupError } from './errors.js';
export { readRepoInfo, stripCredentials, type RepoInfo } from './git.js';
export {
  DEFAULT_PARAMS,
  PARAM_SPECS,
  MAX_DAYS,
  InvalidParamsError,
  formatParam,
  parseHyperParams,
  toHyperParams,
  toHyperParamsField,
  type ParamType,
  type ParamProblem,
  type ReadParams,
  type ServiceParams,
} from './params.js';
export { taskFields, scriptField, containerField, abortRuntime, type TaskFields } from './fields.js';
export { registerTask, findOrCreateProject, taskWebUrl, exactName, type TaskClient, type Registration, type RegisterOptions } from './register.js';
export { findQueue, enqueueTask } from './enqueue.js';
export { registerAbortCallback, completeAbortCallback } from './runtime.js';
export { TaskWatcher, type StopReason, type WatcherOptions } from './watcher.js';
export { ConsoleShipper, teeLog } from './console.js';
export { passScalars, orphanScalars, usageScalars } from './scalars.js';
export { runTaskService, type TaskServiceDeps } from './service.js';
