import type { CallRequest, Handler, Service } from '../api/service.js';
import { ApiFault } from '../api/fault.js';
import type { EmbeddedState } from '../state.js';
import { stringList } from './common.js';

/**
 * The web app's "_ex" reads of tasks. The real server answers them with get_many_with_join
 * (apiserver/database/model/base.py): a reference field (project, parent, user, company,
 * execution.queue, a model of models.input/output) comes back as a sub-document {id, ...} and the
 * referenced document's fields asked for in only_fields (e.g. "project.name") are joined in.
 * Here the joined part is always the name, the only one the web app asks for on the admin's path.
 */

type Doc = Record<string, any>;

/** reference path -> how to name the referenced id */
function namers(state: EmbeddedState, identity: CallRequest['identity']): Record<string, (id: string) => string | undefined> {
  return {
    project: (id) => state.stores.projects.get(id)?.name,
    parent: (id) => state.stores.tasks.get(id)?.name,
    user: (id) => (id === identity.user ? identity.name : undefined),
    company: (id) => (id === identity.company ? 'embedded' : undefined),
    'execution.queue': (id) => state.stores.queues.get(id)?.name,
    'models.input.model': (id) => state.stores.models.get(id)?.name,
    'models.output.model': (id) => state.stores.models.get(id)?.name,
  };
}

/** "project.name" -> "project", so the plain query returns the id to join on. */
function baseFields(only: unknown, refs: string[]): string[] | undefined {
  if (!Array.isArray(only)) return undefined;
  const out = new Set<string>();
  for (const f of only) {
    if (typeof f !== 'string') continue;
    const ref = refs.find((r) => f.startsWith(`${r}.`));
    out.add(ref ?? f);
  }
  return [...out];
}

function expand(doc: Doc, path: string[], name: (id: string) => string | undefined): void {
  const [head, ...rest] = path;
  const value = doc?.[head];
  if (value === undefined || value === null) return;
  if (Array.isArray(value)) {
    for (const item of value) if (item && typeof item === 'object') expand(item, rest, name);
    return;
  }
  if (rest.length) {
    if (typeof value === 'object') expand(value, rest, name);
    return;
  }
  if (typeof value === 'string') {
    const n = name(value);
    doc[head] = n === undefined ? { id: value } : { id: value, name: n };
  }
}

export function joinReferences(state: EmbeddedState, req: CallRequest, docs: Doc[]): Doc[] {
  const table = namers(state, req.identity);
  for (const doc of docs) {
    for (const [ref, name] of Object.entries(table)) {
      // the embedded documents leave user/company unset on old seeds: the web app needs a company id
      if (ref === 'company' && !doc.company && 'company' in doc) doc.company = req.identity.company;
      expand(doc, ref.split('.'), name);
    }
  }
  return docs;
}

export function createTasksExService(state: EmbeddedState, base: Service): Service {
  const refs = Object.keys(namers(state, { user: '', company: '', role: '', name: '' }));
  const read = async (req: CallRequest, body: Doc) => {
    const only = baseFields(body.only_fields, refs);
    const r = (await base.get_all_ex({ ...req, body: { ...body, ...(only ? { only_fields: only } : {}) } })) as { tasks: Doc[]; scroll_id?: string };
    joinReferences(state, req, r.tasks);
    return r;
  };
  const getAllEx: Handler = (req) => read(req, req.body);
  return {
    get_all_ex: getAllEx,
    get_by_id_ex: async (req) => {
      const ids = stringList(req.body.id);
      if (!ids.length) throw new ApiFault(400, 11, 'Missing required fields: id', { fields: ['id'] });
      const r = await read(req, { ...req.body, id: ids });
      return { tasks: r.tasks };
    },
  };
}

/** projects.get_task_parents: the tasks that are parents of tasks in these projects, for the "parent" filter. */
export function taskParents(state: EmbeddedState, body: Doc): { parents: Array<{ id: string; name: string; project: { id: string } }> } {
  const projects = new Set(stringList(body.projects));
  const state_ = body.tasks_state ?? 'active';
  const parents = new Map<string, { id: string; name: string; project: { id: string } }>();
  for (const t of state.stores.tasks.values()) {
    if (!t.parent || (projects.size && (!t.project || !projects.has(t.project)))) continue;
    const archived = (t.system_tags ?? []).includes('archived');
    if ((state_ === 'active' && archived) || (state_ === 'archived' && !archived)) continue;
    const p = state.stores.tasks.get(t.parent);
    if (p) parents.set(p.id, { id: p.id, name: p.name, project: { id: p.project ?? '' } });
  }
  return { parents: [...parents.values()].sort((a, b) => a.name.localeCompare(b.name)) };
}
