import type { Predicate } from '../query/filters.js';
import { runQuery, type QueryResult } from '../query/get-all.js';
import type { EmbeddedState } from '../state.js';
import { stringList } from './common.js';

export const TASK_LIST_FIELDS = [
  'id', 'user', 'company', 'type', 'status', 'project', 'parent',
  'execution.queue', 'models.input.model', 'models.output.model', 'last_worker',
];
export const TASK_DATE_FIELDS = ['created', 'started', 'completed', 'published', 'last_update', 'status_changed', 'last_change'];

/** Project ids plus, when asked, every sub-project (by "parent/child" name). */
export function expandProjects(state: EmbeddedState, ids: string[]): string[] {
  const out = new Set(ids);
  const names = ids.map((id) => state.stores.projects.get(id)?.name).filter((n): n is string => Boolean(n));
  if (names.length) {
    for (const p of state.stores.projects.values()) {
      if (names.some((n) => p.name.startsWith(`${n}/`))) out.add(p.id);
    }
  }
  return [...out];
}

/** Hidden entities (system tag "hidden") are left out unless search_hidden or ids are given. */
export function hiddenPredicate(body: Record<string, any>): Predicate[] {
  const ids = body.id;
  const byId = Array.isArray(ids) ? ids.length > 0 : typeof ids === 'string';
  if (body.search_hidden === true || body.search_hidden === 'true' || byId) return [];
  return [(d) => !(d.system_tags ?? []).includes('hidden')];
}

export function queryTasks(state: EmbeddedState, body: Record<string, any>): QueryResult {
  const b = { ...body };
  if (b.project !== undefined && (b.include_subprojects === true || b.include_subprojects === 'true')) {
    b.project = expandProjects(state, stringList(b.project));
  }
  return runQuery(state.stores.tasks.values(), b, {
    listFields: TASK_LIST_FIELDS,
    dateFields: TASK_DATE_FIELDS,
    extra: hiddenPredicate(b),
  });
}
