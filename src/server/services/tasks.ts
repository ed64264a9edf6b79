import type { Service } from '../api/service.js';
import type { EmbeddedState } from '../state.js';
import { forEachId } from './common.js';
import { deleteTask } from './task-delete.js';
import { tasksCore } from './tasks-core.js';
import { tasksLifecycle } from './tasks-lifecycle.js';
import { tasksParams } from './tasks-params.js';

/** The tasks service: every action the SDK, the agent and the cleanup use. */
export function createTasksService(state: EmbeddedState): Service {
  return {
    ...tasksCore(state),
    ...tasksLifecycle(state),
    ...tasksParams(state),
    delete: (req) => deleteTask(state, req.identity, req.body.task, req.body, req.endpoint),
    // one SQLite transaction for the whole call (each task's own becomes a savepoint): one commit, not hundreds
    delete_many: (req) => state.stores.transaction(() => forEachId(req.body.ids, (id) => deleteTask(state, req.identity, id, req.body, req.endpoint))),
  };
}
