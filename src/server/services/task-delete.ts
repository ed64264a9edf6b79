import { ApiFault } from '../api/fault.js';
import type { Identity } from '../api/service.js';
import type { Model, Task } from '../../types/clearml.js';
import type { EmbeddedState } from '../state.js';
import { MODELS_BY_TASK, TASKS_BY_INPUT_MODEL, TASKS_BY_PARENT } from '../store/stores.js';
import { bool } from './common.js';
import { removeFromQueues } from './queue-ops.js';
import { assertWritable, isArchived, loadTask } from './task-docs.js';
import { deletesExternally, eventFileUrls, scheduleUrls } from '../async-delete/external.js';

export const DELETED_PREFIX = '__DELETED__';

export interface DeleteOptions {
  force?: unknown;
  return_file_urls?: unknown;
  delete_output_models?: unknown;
  delete_external_artifacts?: unknown;
}

export interface CleanupResult {
  updated_children: number;
  updated_models: number;
  deleted_models: number;
  urls: { model_urls: string[]; event_urls: string[]; artifact_urls: string[] };
}

/** Tasks that use the model as input (the task being cleaned included, as on the real server). */
export function tasksUsingModel(state: EmbeddedState, modelId: string): Task[] {
  return state.stores.tasks.lookup(TASKS_BY_INPUT_MODEL, modelId);
}

/**
 * The real server's cleanup_task (bll/task/task_cleanup.py), shared by tasks.delete and tasks.reset:
 * published children or published output models need force (400/123); children are re-parented to
 * __DELETED__<id> (delete only); unused draft output models are deleted, drafts in use lose their task;
 * published output models (and, without delete_output_models, drafts) point at __DELETED__<id>
 * on delete, or lose their task on reset. Runs inside the caller's transaction.
 */
export function cleanupTask(
  state: EmbeddedState,
  identity: Identity,
  t: Task,
  opts: { force: boolean; updateChildren: boolean; deleteOutputModels: boolean },
): CleanupResult {
  const children = state.stores.tasks.lookup(TASKS_BY_PARENT, t.id);
  if (!opts.force && children.some((c) => c.status === 'published')) {
    throw new ApiFault(400, 123, 'Task cannot be deleted (has children, use force=True)', { task: t.id });
  }
  const outputIds = new Set<string>();
  for (const m of state.stores.models.lookup(MODELS_BY_TASK, t.id)) outputIds.add(m.id);
  for (const ref of t.models?.output ?? []) outputIds.add(ref.model);
  const outputModels = [...outputIds].map((mid) => state.stores.models.get(mid)).filter((m) => m !== undefined);
  const published = outputModels.filter((m) => m.ready);
  const drafts = outputModels.filter((m) => !m.ready);
  if (!opts.force && published.length) {
    throw new ApiFault(400, 123, 'Task cannot be deleted (has output models, use force=True)', { task: t.id, models: published.length });
  }
  const inUse = new Set(drafts.filter((m) => tasksUsingModel(state, m.id).length > 0).map((m) => m.id));

  const now = state.isoNow();
  const deletedId = `${DELETED_PREFIX}${t.id}`;
  const result: CleanupResult = {
    updated_children: 0,
    updated_models: 0,
    deleted_models: 0,
    urls: {
      model_urls: [...new Set(drafts.filter((m) => m.uri && !inUse.has(m.id)).map((m) => m.uri as string))],
      event_urls: [],
      artifact_urls: [
        ...new Set(
          (t.execution?.artifacts ?? [])
            .filter((a) => (a.mode ?? 'output') === 'output' && typeof a.uri === 'string' && a.uri)
            .map((a) => a.uri as string),
        ),
      ],
    },
  };
  const detach = (m: Model) => {
    const copy = structuredClone(m);
    delete copy.task;
    copy.last_change = now;
    copy.last_changed_by = identity.user;
    state.stores.models.put(copy);
  };
  const release = (models: Model[]) => {
    for (const m of models) {
      if (opts.updateChildren) {
        state.stores.models.put({ ...structuredClone(m), task: deletedId, last_change: now, last_changed_by: identity.user });
        result.updated_models++;
      } else {
        detach(m);
      }
    }
  };

  if (opts.updateChildren) {
    for (const c of children) {
      state.stores.tasks.put({ ...structuredClone(c), parent: deletedId, last_change: now, last_changed_by: identity.user });
      result.updated_children++;
    }
  }
  if (opts.deleteOutputModels) {
    for (const m of drafts) {
      if (inUse.has(m.id)) {
        detach(m);
      } else {
        state.stores.models.delete(m.id);
        result.deleted_models++;
      }
    }
  } else {
    release(drafts);
  }
  release(published);
  return result;
}

/**
 * The real server's own file deletion after a task delete or reset (services/tasks.py
 * _delete_task_events): unless the request said `delete_external_artifacts: false`, the artifact
 * and unused draft model URLs of the cleanup, then every debug-image and plot-image URL of the
 * task's events, are queued for the async deleter. Returns a function to call once the task is gone.
 */
export function externalCleanup(
  state: EmbeddedState,
  endpoint: string | undefined,
  body: Record<string, unknown>,
  taskId: string,
): (cleanup: CleanupResult) => void {
  if (!endpoint || !deletesExternally(state, endpoint, body)) return () => {};
  const eventUrls = eventFileUrls(state, [taskId]);
  return (cleanup) => {
    scheduleUrls(state, endpoint, taskId, [...cleanup.urls.model_urls, ...cleanup.urls.artifact_urls]);
    scheduleUrls(state, endpoint, taskId, eventUrls);
  };
}

/**
 * tasks.delete: Draft or archived tasks without force; dequeue, clean up outputs, delete events.
 * `endpoint` (the call being served) decides the server's own file deletion; projects.delete passes
 * none and queues its contents itself.
 */
export function deleteTask(
  state: EmbeddedState,
  identity: Identity,
  id: unknown,
  opts: DeleteOptions,
  endpoint?: string,
): Record<string, unknown> {
  const t = loadTask(state, id);
  assertWritable(t);
  const force = bool(opts.force);
  if (!force && t.status !== 'created' && !isArchived(t)) {
    throw new ApiFault(400, 123, `Task cannot be deleted (due to status, use force=True)`, {
      task: t.id, expected: 'created', current: t.status,
    });
  }
  const deleteOutputModels = opts.delete_output_models === undefined ? true : bool(opts.delete_output_models);
  const afterDelete = externalCleanup(state, endpoint, opts as Record<string, unknown>, t.id);
  const { cleanup, events } = state.stores.transaction(() => {
    removeFromQueues(state, t.id, state.isoNow());
    const cleanup = cleanupTask(state, identity, t, { force, updateChildren: true, deleteOutputModels });
    const events = state.events.deleteForTask(t.id);
    state.stores.tasks.delete(t.id);
    return { cleanup, events };
  });
  afterDelete(cleanup);
  // the real answer is {deleted, updated_children, updated_models, deleted_models, urls}; events is ours
  return {
    deleted: true,
    ...cleanup,
    events: { deleted: events },
    urls: bool(opts.return_file_urls) ? cleanup.urls : null,
  };
}
