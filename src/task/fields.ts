/**
 * The task document fields that make an agent run us: script (clone, check out, `bash <entry>`),
 * container (for a services agent in docker mode), hyperparameters and the runtime abort-callback
 * keys. Shared by registration and the template in templates/.
 */
import type { TaskContainer, TaskScript } from '../types/clearml.js';
import {
  ABORT_CALLBACK_TIMEOUT_SEC,
  ABORT_POLL_FREQ_SEC,
  BINARY,
  CONTAINER_ARGUMENTS,
  CONTAINER_IMAGE,
  ENTRY_POINT,
  RUNTIME_ABORT_DONE,
  RUNTIME_ABORT_POLL,
  RUNTIME_ABORT_TIMEOUT,
  SETUP_SHELL_SCRIPT,
} from './constants.js';
import type { RepoInfo } from './git.js';
import { toHyperParamsField, type ServiceParams } from './params.js';
import type { Task } from '../types/clearml.js';

export interface TaskFields {
  script: TaskScript;
  container: TaskContainer;
  hyperparams: NonNullable<Task['hyperparams']>;
  runtime: Record<string, string>;
}

export function scriptField(repo: Pick<RepoInfo, 'repository' | 'branch' | 'commit' | 'workingDir'>): TaskScript {
  return {
    repository: repo.repository,
    branch: repo.branch,
    version_num: repo.commit,
    entry_point: ENTRY_POINT,
    working_dir: repo.workingDir || '.',
    binary: BINARY,
    // the agent would `git apply` a diff: the code it runs is exactly the pushed commit
    diff: '',
    requirements: {},
  };
}

export function containerField(image: string = CONTAINER_IMAGE): TaskContainer {
  return { image, arguments: CONTAINER_ARGUMENTS, setup_shell_script: SETUP_SHELL_SCRIPT };
}

/** The abort-callback keys; `_abort_callback_completed` is cleared so an earlier run's "1" does not count. */
export function abortRuntime(timeoutSec = ABORT_CALLBACK_TIMEOUT_SEC, pollSec = ABORT_POLL_FREQ_SEC): Record<string, string> {
  return {
    [RUNTIME_ABORT_TIMEOUT]: String(timeoutSec),
    [RUNTIME_ABORT_POLL]: String(pollSec),
    [RUNTIME_ABORT_DONE]: '',
  };
}

export function taskFields(
  repo: Pick<RepoInfo, 'repository' | 'branch' | 'commit' | 'workingDir'>,
  params: ServiceParams,
  containerImage: string = CONTAINER_IMAGE,
): TaskFields {
  return {
    script: scriptField(repo),
    container: containerField(containerImage),
    hyperparams: toHyperParamsField(params),
    runtime: abortRuntime(),
  };
}
