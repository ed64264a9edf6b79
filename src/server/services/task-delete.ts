import { ApiFault } from '../api/fault.js';
import type { Identity } from '../api/service.js';
import type { Model, Task } from '../../types/clearml.js';
import type { EmbeddedState } from '../state.js';
import { bool } from './common.js';
import { removeFromQueues } from './queue-ops.js';
import { assertWritable, isArchived, loadTask } from './task-docs.js';

export interface DeleteOptions {
  force?: unknown;
  return_file_urls?: unknown;
  delete_output_models?: unknown;
}

/** Tasks that use the model as input (the deleted task itself included, as on the real server). */
export function tasksUsingModel(state: EmbeddedState, modelId: string): Task[] {
  const out: Task[] = [];
  for (const t of state.stores.tasks.values()) {
    if ((t.models?.input ?? []).some((m) => m.model === modelId)) out.push(t);
  }
  return out;
}

export const DELETED_PREFIX = '__DELETED__';

/**
 * tasks.delete as the real server does it (bll/task/task_cleanup.py): status and force checks,
 * dequeue, children re-parented to __DELETED__<id>, unused draft output models deleted (drafts in use
 * lose their task), published output models pointed at __DELETED__<id>, events deleted.
 */
export function deleteTask(state: EmbeddedState, identity: Identity, id: unknown, opts: DeleteOptions): Record<string, unknown> {
  const t = loadTask(state, id);
  assertWritable(t);
  const force = bool(opts.force);
  if (!force && t.status !== 'created' && !isArchived(t)) {
    throw new ApiFault(400, 123, `Task cannot be deleted (status ${t.status}, use force or archive it first)`, {
      task: t.id, status: t.status,
    });
  }
  const children = [...state.stores.tasks.values()].filter((c) => c.parent === t.id);
  if (!force && children.some((c) => c.status === 'published')) {
    throw new ApiFault(400, 123, 'Task cannot be deleted (it has published children, use force)', { task: t.id });
  }
  const outputIds = new Set<string>();
  for (const m of state.stores.models.values()) if (m.task === t.id) outputIds.add(m.id);
  for (const ref of t.models?.output ?? []) outputIds.add(ref.model);
  const outputModels = [...outputIds].map((mid) => state.stores.models.get(mid)).filter((m) => m !== undefined);
  const published = outputModels.filter((m) => m.ready);
  const drafts = outputModels.filter((m) => !m.ready);
  if (!force && published.length) {
    throw new ApiFault(400, 123, 'Task cannot be deleted (has output models, use force=True)', { task: t.id, models: published.length });
  }
  const inUse = new Set(drafts.filter((m) => tasksUsingModel(state, m.id).length > 0).map((m) => m.id));

  const deleteModels = opts.delete_output_models === undefined ? true : bool(opts.delete_output_models);
  const now = state.isoNow();
  const deletedId = `${DELETED_PREFIX}${t.id}`;
  const modelUrls = [...new Set(drafts.filter((m) => m.uri && !inUse.has(m.id)).map((m) => m.uri as string))];
  let updatedModels = 0;
  let deletedModels = 0;
  const pointAtDeleted = (m: Model) => {
    state.stores.models.put({ ...structuredClone(m), task: deletedId, last_change: now, last_changed_by: identity.user });
    updatedModels++;
  };
  const result = state.stores.transaction(() => {
    removeFromQueues(state, t.id, now);
    for (const c of children) {
      state.stores.tasks.put({ ...structuredClone(c), parent: deletedId, last_change: now, last_changed_by: identity.user });
    }
    if (deleteModels) {
      for (const m of drafts) {
        if (!inUse.has(m.id)) {
          state.stores.models.delete(m.id);
          deletedModels++;
        } else {
          const copy = structuredClone(m);
          delete copy.task;
          copy.last_change = now;
          state.stores.models.put(copy);
        }
      }
    } else {
      drafts.forEach(pointAtDeleted);
    }
    published.forEach(pointAtDeleted);
    const events = state.events.deleteForTask(t.id);
    state.stores.tasks.delete(t.id);
    return events;
  });
  const artifactUrls = [
    ...new Set(
      (t.execution?.artifacts ?? [])
        .filter((a) => (a.mode ?? 'output') === 'output' && typeof a.uri === 'string' && a.uri)
        .map((a) => a.uri as string),
    ),
  ];
  // the real answer is {deleted, updated_children, updated_models, deleted_models, urls}; events is ours
  return {
    deleted: true,
    updated_children: children.length,
    updated_models: updatedModels,
    deleted_models: deletedModels,
    events: { deleted: result },
    urls: bool(opts.return_file_urls) ? { model_urls: modelUrls, event_urls: [], artifact_urls: artifactUrls } : null,
  };
}
