import { ApiFault } from '../api/fault.js';
import type { CallRequest, Service } from '../api/service.js';
import type { Project } from '../../types/clearml.js';
import { runQuery } from '../query/get-all.js';
import type { EmbeddedState } from '../state.js';
import { newId } from '../util/ids.js';
import { bool, stringList } from './common.js';
import { deleteTask } from './task-delete.js';
import { deletesExternally, eventFileUrls, scheduleUrls } from '../async-delete/external.js';
import { isArchived } from './task-docs.js';
import { expandProjects, hiddenPredicate } from './tasks-query.js';

/** "a//b/ c" -> "a/b/c"; empty -> 400/407; a basename shorter than 3 characters -> 400/12 (as the real server). */
function validateProjectName(name: unknown): string {
  if (typeof name !== 'string') throw new ApiFault(400, 11, 'Missing required fields: name', { fields: ['name'] });
  const parts = name.split('/').filter(Boolean).map((p) => p.trim());
  if (!parts.length) throw new ApiFault(400, 407, 'Invalid project name', { name });
  if (parts[parts.length - 1].length < 3) {
    throw new ApiFault(400, 12, 'Validation error (Project name cannot be blank)', { name });
  }
  return parts.join('/');
}

export function createProjectsService(state: EmbeddedState): Service {
  const store = state.stores.projects;
  const byName = (name: string) => [...store.values()].find((p) => p.name === name);

  const load = (id: unknown): Project => {
    if (typeof id !== 'string' || !id) throw new ApiFault(400, 11, 'Missing required fields: project', { fields: ['project'] });
    const p = store.get(id);
    if (!p) throw new ApiFault(400, 401, `Invalid project id (no such project: ${id})`, { id });
    return structuredClone(p);
  };

  const makeDoc = (req: CallRequest, name: string, fields: Record<string, any>): Project => {
    const now = state.isoNow();
    const cut = name.lastIndexOf('/');
    const parent = cut > 0 ? byName(name.slice(0, cut)) : undefined;
    return {
      id: newId(),
      name,
      basename: cut > 0 ? name.slice(cut + 1) : name,
      description: typeof fields.description === 'string' ? fields.description : '',
      user: req.identity.user,
      company: req.identity.company,
      created: now,
      last_update: now,
      tags: stringList(fields.tags),
      system_tags: stringList(fields.system_tags),
      ...(fields.default_output_destination ? { default_output_destination: fields.default_output_destination } : {}),
      ...(parent ? { parent: parent.id, path: [...((parent.path as string[]) ?? []), parent.id] } : { path: [] }),
    };
  };

  const create = (req: CallRequest) => {
    const name = validateProjectName(req.body.name);
    if (byName(name)) throw new ApiFault(400, 801, 'Project with the same name already exists', { name });
    const parts = name.split('/');
    return store.transaction(() => {
      for (let i = 1; i < parts.length; i++) {
        const prefix = parts.slice(0, i).join('/');
        if (!byName(prefix)) store.put(makeDoc(req, prefix, {}));
      }
      const p = makeDoc(req, name, req.body);
      store.put(p);
      return { id: p.id };
    });
  };

  const getAll = (req: CallRequest) => {
    const b = { ...req.body };
    const extra = hiddenPredicate(b);
    // deep search: "parent" means any ancestor; shallow search without parent: top level only
    delete b.path;
    if (!bool(b.shallow_search)) {
      if (b.parent !== undefined) {
        b.path = b.parent;
        delete b.parent;
      }
    } else if (b.parent === undefined) {
      b.parent = [null];
    }
    const r = runQuery(store, b, {
      patternFields: ['name', 'basename', 'description'],
      listFields: ['tags', 'system_tags', 'id', 'parent', 'path'],
      rangeFields: ['last_update'],
      dateFields: [],
      extra,
    }, state.scrolls);
    return r.scroll_id !== undefined ? { projects: r.items, scroll_id: r.scroll_id } : { projects: r.items };
  };

  const contents = (id: string) => {
    const ids = new Set(expandProjects(state, [id]));
    const tasks = [...state.stores.tasks.values()].filter((t) => t.project && ids.has(t.project));
    const models = [...state.stores.models.values()].filter((m) => m.project && ids.has(m.project));
    return { ids, tasks, models };
  };

  return {
    create,
    get_all: getAll,
    get_all_ex: getAll,
    get_by_id: (req) => ({ project: load(req.body.project) }),
    update: (req) => {
      const p = load(req.body.project);
      const fields: Record<string, unknown> = {};
      if (req.body.name !== undefined) {
        const name = validateProjectName(req.body.name);
        const other = byName(name);
        if (other && other.id !== p.id) throw new ApiFault(400, 801, 'Project with the same name already exists', { name });
        p.name = name;
        p.basename = name.slice(name.lastIndexOf('/') + 1);
        fields.name = name;
      }
      for (const k of ['description', 'tags', 'system_tags', 'default_output_destination'] as const) {
        if (req.body[k] !== undefined) {
          (p as any)[k] = req.body[k];
          fields[k] = req.body[k];
        }
      }
      p.last_update = state.isoNow();
      store.put(p);
      return { updated: 1, fields };
    },
    validate_delete: (req) => {
      const p = load(req.body.project);
      const { tasks, models } = contents(p.id);
      return {
        tasks: tasks.length,
        non_archived_tasks: tasks.filter((t) => !isArchived(t)).length,
        models: models.length,
        non_archived_models: models.filter((m) => !isArchived(m)).length,
        reports: 0,
        non_archived_reports: 0,
        pipelines: 0,
        datasets: 0,
      };
    },
    delete: (req) => {
      const p = load(req.body.project);
      const force = bool(req.body.force);
      const deleteContents = bool(req.body.delete_contents);
      const { ids, tasks, models } = contents(p.id);
      if (!force && tasks.some((t) => !isArchived(t))) {
        throw new ApiFault(400, 402, 'Project has associated non-archived tasks (use force)', { id: p.id });
      }
      if (!force && models.some((m) => !isArchived(m))) {
        throw new ApiFault(400, 405, 'Project has associated non-archived models (use force)', { id: p.id });
      }
      // the real project_cleanup.py: with delete_contents, every output artifact, model file and event
      // image of the contents is queued, and on the file server each URL's whole folder (rmtree)
      const external = deleteContents && deletesExternally(state, req.endpoint, req.body);
      const urls = new Set<string>();
      if (external) {
        for (const t of tasks) {
          for (const a of t.execution?.artifacts ?? []) if ((a.mode ?? 'output') === 'output' && typeof a.uri === 'string' && a.uri) urls.add(a.uri);
        }
        for (const m of models) if (m.uri) urls.add(m.uri);
        for (const u of eventFileUrls(state, tasks.map((t) => t.id))) urls.add(u);
      }
      const now = state.isoNow();
      let deletedTasks = 0;
      let disassociated = 0;
      let deletedModels = 0;
      state.stores.transaction(() => {
        for (const t of tasks) {
          if (deleteContents) {
            deleteTask(state, req.identity, t.id, { force: true, delete_output_models: true });
            deletedTasks++;
          } else {
            state.stores.tasks.put({ ...structuredClone(t), project: undefined, last_change: now });
            disassociated++;
          }
        }
        for (const m of models) {
          if (!state.stores.models.has(m.id)) continue;
          if (deleteContents) {
            state.stores.models.delete(m.id);
            deletedModels++;
          } else {
            state.stores.models.put({ ...structuredClone(m), project: undefined, last_update: now });
          }
        }
        for (const id of ids) store.delete(id);
      });
      if (external) scheduleUrls(state, req.endpoint, p.id, urls, true);
      return { deleted: ids.size, disassociated_tasks: disassociated, deleted_tasks: deletedTasks, deleted_models: deletedModels, urls: null };
    },
  };
}
