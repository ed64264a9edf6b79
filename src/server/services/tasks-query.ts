import type { Predicate } from '../query/filters.js';
import { runQuery, type QueryResult, type QuerySpec } from '../query/get-all.js';
import type { EmbeddedState } from '../state.js';
import { stringList } from './common.js';
import { textSearchPredicate } from '../query/text-search.js';

/** tasks.get_all filters, as the real Task document declares them */
export const TASK_QUERY: Omit<QuerySpec, 'extra'> = {
  patternFields: ['name', 'comment', 'report'],
  listFields: [
    'id', 'user', 'tags', 'system_tags', 'type', 'status', 'project', 'parent',
    'hyperparams.*', 'execution.queue', 'models.input.model',
  ],
  rangeFields: ['created', 'started', 'active_duration', 'last_metrics.*', 'last_iteration'],
  dateFields: ['status_changed', 'last_update', 'last_change'],
  equalityFields: ['runtime.*'],
};

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
  return runQuery(state.stores.tasks, b, { ...TASK_QUERY, extra: [...hiddenPredicate(b), ...textSearchPredicate(b)] }, state.scrolls);
}
