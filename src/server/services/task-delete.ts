import { ApiFault } from '../api/fault.js';
import type { Identity } from '../api/service.js';
import type { Task } from '../../types/clearml.js';
import type { EmbeddedState } from '../state.js';
import { bool } from './common.js';
import { removeFromQueues } from './queue-ops.js';
import { assertWritable, isArchived, loadTask } from './task-docs.js';

export interface DeleteOptions {
  force?: unknown;
  return_file_urls?: unknown;
  delete_output_models?: unknown;
}

/** Tasks (other than `except`) that use the model as input. */
export function tasksUsingModel(state: EmbeddedState, modelId: string, except?: string): Task[] {
  const out: Task[] = [];
  for (const t of state.stores.tasks.values()) {
    if (t.id !== except && (t.models?.input ?? []).some((m) => m.model === modelId)) out.push(t);
  }
  return out;
}

/**
 * tasks.delete as the real server does it: status and force checks, dequeue, re-parent children,
 * delete unused draft output models (models in use lose their task), delete the events.
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
  const outputIds = new Set((t.models?.output ?? []).map((m) => m.model));
  for (const m of state.stores.models.values()) if (m.task === t.id) outputIds.add(m.id);
  const outputModels = [...outputIds].map((mid) => state.stores.models.get(mid)).filter((m) => m !== undefined);
  if (!force && outputModels.some((m) => m.ready)) {
    throw new ApiFault(400, 123, 'Task cannot be deleted (it has published output models, use force)', { task: t.id });
  }

  const deleteModels = opts.delete_output_models === undefined ? true : bool(opts.delete_output_models);
  const now = state.isoNow();
  const modelUrls: string[] = [];
  let updatedModels = 0;
  let deletedModels = 0;
  const result = state.stores.transaction(() => {
    removeFromQueues(state, t.id, now);
    for (const c of children) {
      state.stores.tasks.put({ ...structuredClone(c), parent: null, last_change: now });
    }
    for (const m of outputModels) {
      if (m.ready) {
        state.stores.models.put({ ...structuredClone(m), task: `__DELETED__${t.id}`, last_update: now });
        updatedModels++;
      } else if (deleteModels && tasksUsingModel(state, m.id, t.id).length === 0) {
        state.stores.models.delete(m.id);
        if (m.uri) modelUrls.push(m.uri);
        deletedModels++;
      } else if (m.task === t.id) {
        const copy = structuredClone(m);
        delete copy.task;
        copy.last_update = now;
        state.stores.models.put(copy);
        updatedModels++;
      }
    }
    const events = state.events.deleteForTask(t.id);
    state.stores.tasks.delete(t.id);
    return events;
  });
  const artifactUrls = (t.execution?.artifacts ?? [])
    .filter((a) => a.mode !== 'input' && typeof a.uri === 'string' && a.uri)
    .map((a) => a.uri as string);
  return {
    deleted: true,
    updated_children: children.length,
    updated_models: updatedModels,
    deleted_models: deletedModels,
    events: { deleted: result },
    urls: bool(opts.return_file_urls) ? { model_urls: modelUrls, event_urls: [], artifact_urls: artifactUrls } : null,
  };
}
