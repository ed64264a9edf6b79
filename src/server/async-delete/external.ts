/**
 * Which calls make a real clearml-server 2.3 delete files by itself, and what it collects.
 *
 * `delete_external_artifacts` is a request field whose default is true on every deleting or resetting
 * call; the request models carry the field on every API version the endpoint answers, so leaving
 * it out means "delete". Sources, in clearml-server:
 * - tasks.delete, tasks.delete_many, tasks.reset, tasks.reset_many: apiserver/apimodels/tasks.py
 *   (in the schema, apiserver/schema/services/tasks.conf, from 2.21)
 * - models.delete, models.delete_many: apiserver/apimodels/models.py (not in the schema at all)
 * - projects.delete: apiserver/apimodels/projects.py (schema projects.conf from 2.26)
 * and nothing is scheduled when `services.async_urls_delete.enabled` is false (our `asyncDelete.enabled`).
 * Older releases have no such field and delete no file: tasks before server 1.7 (API 2.21), models
 * before 1.11 (2.25), projects before 1.12 (2.26) (apiserver/apimodels/*.py at each release tag).
 */
import type { EmbeddedState } from '../state.js';
import { compareVersions } from '../versions.js';

export interface ExternalDeleteRule {
  endpoint: string;
  /** the value the server uses when the request leaves the field out */
  defaultValue: boolean;
  /** where the default is defined */
  source: string;
  /** the first API version whose release has the field (and deletes files by itself) */
  since: string;
}

export const EXTERNAL_DELETE_RULES: readonly ExternalDeleteRule[] = [
  { endpoint: 'tasks.delete', since: '2.21', defaultValue: true, source: 'apiserver/apimodels/tasks.py (DeleteRequest)' },
  { endpoint: 'tasks.delete_many', since: '2.21', defaultValue: true, source: 'apiserver/apimodels/tasks.py (DeleteManyRequest)' },
  { endpoint: 'tasks.reset', since: '2.21', defaultValue: true, source: 'apiserver/apimodels/tasks.py (ResetRequest)' },
  { endpoint: 'tasks.reset_many', since: '2.21', defaultValue: true, source: 'apiserver/apimodels/tasks.py (ResetManyRequest)' },
  { endpoint: 'models.delete', since: '2.25', defaultValue: true, source: 'apiserver/apimodels/models.py (DeleteModelRequest)' },
  { endpoint: 'models.delete_many', since: '2.25', defaultValue: true, source: 'apiserver/apimodels/models.py (ModelsDeleteManyRequest)' },
  { endpoint: 'projects.delete', since: '2.26', defaultValue: true, source: 'apiserver/apimodels/projects.py (DeleteRequest)' },
];

const RULES = new Map(EXTERNAL_DELETE_RULES.map((r) => [r.endpoint, r]));

/** True when this call, as sent, makes the server queue the deleted entities' files for deletion. */
export function deletesExternally(state: EmbeddedState, endpoint: string, body: Record<string, unknown>): boolean {
  if (!state.urlDeletes?.enabled) return false;
  const rule = RULES.get(endpoint);
  if (!rule) return false;
  if (state.apiVersion && compareVersions(rule.since, state.apiVersion) > 0) return false;
  const v = body.delete_external_artifacts;
  if (v === undefined || v === null) return rule.defaultValue;
  return v === true || v === 'true' || v === 1;
}

/**
 * The debug-image and plot-image URLs of tasks' events (task_cleanup.py collect_debug_image_urls /
 * collect_plot_image_urls): every debug image's `url` and every plot's `source_urls`. Read before
 * the events are deleted.
 */
export function eventFileUrls(state: EmbeddedState, taskIds: string[]): Set<string> {
  const urls = new Set<string>();
  const store = state.eventsStore;
  if (!store || !taskIds.length) return urls;
  // in slices: SQLite caps the number of bound parameters of one statement
  for (let i = 0; i < taskIds.length; i += 500) {
    const tasks = taskIds.slice(i, i + 500);
    for (const ev of store.all({ tasks, type: 'training_debug_image', modelEvents: false, withUrl: true })) {
      if (ev.url) urls.add(ev.url);
    }
    for (const ev of store.all({ tasks, type: 'plot', modelEvents: false })) {
      const doc = ev.doc as { source_urls?: unknown };
      if (Array.isArray(doc.source_urls)) for (const u of doc.source_urls) if (typeof u === 'string' && u) urls.add(u);
    }
  }
  return urls;
}

/** Queues URLs as schedule_for_delete does (no-op when the deleter is disabled). */
export function scheduleUrls(
  state: EmbeddedState,
  endpoint: string,
  entity: string,
  urls: Iterable<string>,
  canDeleteFolders = false,
): void {
  if (!state.urlDeletes?.enabled) return;
  state.urlDeletes.queue.schedule({ urls, entity, endpoint, canDeleteFolders });
}
