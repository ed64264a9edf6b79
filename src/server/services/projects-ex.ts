import type { CallRequest, Handler, Service } from '../api/service.js';
import type { Task } from '../../types/clearml.js';
import type { EmbeddedState } from '../state.js';
import { bool, stringList } from './common.js';
import { isArchived } from './task-docs.js';
import { expandProjects } from './tasks-query.js';
import { taskParents } from './get-all-ex.js';

/**
 * What the web app's project pages add on top of projects.get_all: per-project task statistics
 * (the project cards), own contents, sub-project lists, and the users and tags its filters offer.
 * Modelled on apiserver/services/projects.py and bll/project/project_bll.py (get_project_stats,
 * calc_own_contents, get_project_tags, get_entity_users).
 */

/** Every task status the real server counts in stats.*.status_count (TaskStatus options). */
const STATUSES = ['created', 'queued', 'in_progress', 'stopped', 'published', 'publishing', 'closed', 'failed', 'completed', 'unknown'];
const DAY_MS = 24 * 3600 * 1000;

/** A {field: ["a", "-b"]} list filter: plain values: any of them; "-x": not x. */
function matchesListFilter(doc: Record<string, any>, filter: Record<string, unknown> | undefined): boolean {
  if (!filter || typeof filter !== 'object') return true;
  for (const [field, raw] of Object.entries(filter)) {
    const values = stringList(raw).filter((v) => !v.startsWith('__$'));
    if (!values.length) continue;
    const have = new Set<string>(([] as unknown[]).concat(doc[field] ?? []).map(String));
    const include = values.filter((v) => !v.startsWith('-'));
    const exclude = values.filter((v) => v.startsWith('-')).map((v) => v.slice(1));
    if (exclude.some((v) => have.has(v))) return false;
    if (include.length && !include.some((v) => have.has(v))) return false;
  }
  return true;
}

function seconds(a: string | undefined, b: string | undefined): number {
  if (!a || !b) return 0;
  const d = (Date.parse(b) - Date.parse(a)) / 1000;
  return Number.isFinite(d) && d > 0 ? Math.round(d) : 0;
}

export function createProjectsExService(state: EmbeddedState, base: Service): Service {
  const stateFilter = (body: Record<string, any>) => (t: Task) => {
    if (body.stats_for_state === 'archived' && !isArchived(t)) return false;
    if ((body.stats_for_state ?? 'active') === 'active' && isArchived(t)) return false;
    if (!bool(body.search_hidden) && (t.system_tags ?? []).includes('hidden')) return false;
    return matchesListFilter(t as unknown as Record<string, any>, body.include_stats_filter);
  };

  const stats = (projectId: string, withChildren: boolean, keep: (t: Task) => boolean) => {
    const ids = new Set(withChildren ? expandProjects(state, [projectId]) : [projectId]);
    const counts: Record<string, number> = Object.fromEntries(STATUSES.map((s) => [s, 0]));
    let runtime = 0;
    let recent = 0;
    let lastRun: string | null = null;
    const now = state.now().getTime();
    for (const t of state.stores.tasks.values()) {
      if (!t.project || !ids.has(t.project) || !keep(t)) continue;
      const status = STATUSES.includes(t.status) ? t.status : 'unknown';
      counts[status]++;
      const started = t.started as string | undefined;
      const completed = t.completed as string | undefined;
      runtime += seconds(started, completed);
      if (status === 'completed' && completed && now - Date.parse(completed) < DAY_MS) recent++;
      if (started && (!lastRun || started > lastRun)) lastRun = started;
    }
    return {
      status_count: counts,
      total_tasks: Object.values(counts).reduce((a, b) => a + b, 0),
      total_runtime: runtime,
      completed_tasks_24h: recent,
      last_task_run: lastRun,
    };
  };

  const children = (projectId: string) => {
    const p = state.stores.projects.get(projectId);
    if (!p) return [];
    return [...state.stores.projects.values()]
      .filter((c) => c.name.startsWith(`${p.name}/`))
      .map((c) => ({ id: c.id, name: c.name }))
      .sort((a, b) => a.name.localeCompare(b.name));
  };

  const getAllEx: Handler = async (req: CallRequest) => {
    const body = req.body;
    const ids = stringList(body.id);
    const only = Array.isArray(body.only_fields) ? (body.only_fields as string[]) : undefined;
    const result = (await base.get_all_ex({ ...req, body: { ...body, ...(only ? { only_fields: [...new Set([...only, 'id'])] } : {}) } })) as {
      projects: Array<Record<string, any>>;
      scroll_id?: string;
    };
    const keep = stateFilter(body);
    for (const p of result.projects) {
      if (bool(body.check_own_contents)) {
        p.own_tasks = [...state.stores.tasks.values()].filter((t) => t.project === p.id && keep(t)).length;
        p.own_models = [...state.stores.models.values()].filter((m) => m.project === p.id && !isArchived(m)).length;
      }
      if (bool(body.include_stats)) {
        p.stats = { active: stats(p.id, body.stats_with_children === undefined ? true : bool(body.stats_with_children), keep) };
        p.sub_projects = children(p.id);
      }
      if (bool(body.search_hidden) && (p.system_tags ?? []).includes('hidden')) p.hidden = true;
      // references as sub-documents, as get_many_with_join returns them; the web app marks a
      // project without company.id as a read-only example
      if (typeof p.company === 'string' || (p.company === undefined && (!only || only.includes('company')))) {
        p.company = { id: p.company || req.identity.company, name: 'embedded' };
      }
      if (typeof p.user === 'string') p.user = p.user === req.identity.user ? { id: p.user, name: req.identity.name } : { id: p.user };
    }
    if (ids.length === 0 && only && !only.includes('id')) for (const p of result.projects) delete p.id;
    return result;
  };

  const inProjects = (body: Record<string, any>) => {
    const projects = stringList(body.projects);
    if (!projects.length) return () => true;
    const ids = new Set(bool(body.include_subprojects, true) ? expandProjects(state, projects) : projects);
    return (doc: { project?: string }) => Boolean(doc.project && ids.has(doc.project));
  };

  const tagsOf = (docs: Iterable<{ tags?: string[]; system_tags?: string[] } & Record<string, any>>, body: Record<string, any>) => {
    const tags = new Set<string>();
    const systemTags = new Set<string>();
    for (const d of docs) {
      if (!matchesListFilter(d, body.filter)) continue;
      for (const t of d.tags ?? []) tags.add(t);
      if (bool(body.include_system)) for (const t of d.system_tags ?? []) systemTags.add(t);
    }
    return { tags: [...tags].sort(), system_tags: [...systemTags].sort() };
  };

  return {
    get_all_ex: getAllEx,
    get_task_parents: (req) => taskParents(state, req.body),
    get_user_names: (req) => {
      const users = new Set<string>();
      const source = req.body.entity === 'model' ? state.stores.models.values() : state.stores.tasks.values();
      const keep = inProjects(req.body);
      for (const d of source) if (keep(d) && d.user) users.add(d.user);
      const me = req.identity;
      return { users: [...users].map((id) => ({ id, name: id === me.user ? me.name : id })) };
    },
    get_project_tags: (req) => tagsOf([...state.stores.projects.values()].filter((p) => inProjects({ projects: req.body.projects })({ project: p.id })), req.body),
    get_task_tags: (req) => tagsOf([...state.stores.tasks.values()].filter(inProjects(req.body)), req.body),
    get_model_tags: (req) => tagsOf([...state.stores.models.values()].filter(inProjects(req.body)), req.body),
  };
}
