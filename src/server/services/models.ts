import { ApiFault } from '../api/fault.js';
import type { CallRequest, Service } from '../api/service.js';
import type { Model } from '../../types/clearml.js';
import { runQuery } from '../query/get-all.js';
import { MODELS_BY_TASK, MODELS_BY_URI } from '../store/stores.js';
import type { EmbeddedState } from '../state.js';
import { newId } from '../util/ids.js';
import { bool, forEachId, stringList, validateName } from './common.js';
import { assertWritable, loadTask } from './task-docs.js';
import { DELETED_PREFIX, tasksUsingModel } from './task-delete.js';
import { validateProject } from './tasks-core.js';
import { deletesExternally, scheduleUrls } from '../async-delete/external.js';
import { hiddenPredicate } from './tasks-query.js';

const EDITABLE = ['name', 'comment', 'tags', 'system_tags', 'framework', 'uri', 'labels', 'design', 'iteration', 'project', 'ready', 'metadata', 'parent'] as const;

export function createModelsService(state: EmbeddedState): Service {
  const store = state.stores.models;

  const load = (id: unknown): Model => {
    if (typeof id !== 'string' || !id) throw new ApiFault(400, 11, 'Missing required fields: model', { fields: ['model'] });
    const m = store.get(id);
    if (!m) throw new ApiFault(400, 201, `Invalid model id (no such model: ${id})`, { id });
    return structuredClone(m);
  };

  const conform = (m: Model): Model => ({ tags: [], system_tags: [], comment: '', labels: {}, design: {}, framework: '', ...m });

  const create = (req: CallRequest, b: Record<string, any>): Model => {
    const now = state.isoNow();
    if (b.task) loadTask(state, b.task);
    validateProject(state, b.project);
    const m: Model = {
      id: newId(),
      name: validateName(b.name, 'model'),
      user: req.identity.user,
      company: req.identity.company,
      created: now,
      last_update: now,
      uri: typeof b.uri === 'string' ? b.uri : '',
      ready: bool(b.ready, false),
      framework: b.framework ?? '',
      comment: b.comment ?? '',
      tags: stringList(b.tags),
      system_tags: stringList(b.system_tags),
      labels: b.labels ?? {},
      design: b.design ?? {},
      ...(b.task ? { task: b.task } : {}),
      ...(b.project ? { project: b.project } : {}),
      ...(b.parent ? { parent: b.parent } : {}),
      ...(b.metadata ? { metadata: b.metadata } : {}),
      ...(b.iteration !== undefined ? { iteration: b.iteration } : {}),
    };
    store.put(m);
    return m;
  };

  const edit = (req: CallRequest, b: Record<string, any>) => {
    const m = load(b.model);
    assertWritable(m, 'model');
    const fields: Record<string, unknown> = {};
    for (const k of EDITABLE) {
      if (b[k] === undefined) continue;
      if (k === 'name') m.name = validateName(b.name, 'model');
      else if (k === 'project') { validateProject(state, b.project); m.project = b.project; }
      else (m as any)[k] = b[k];
      fields[k] = (m as any)[k];
    }
    if (b.task !== undefined) {
      if (b.task) loadTask(state, b.task);
      m.task = b.task;
      fields.task = b.task;
    }
    m.last_update = state.isoNow();
    store.put(m);
    return { updated: 1, fields };
  };

  const del = (req: CallRequest, id: string, force: boolean) => {
    const m = load(id);
    assertWritable(m, 'model');
    const users = tasksUsingModel(state, m.id);
    if (users.length && !force) {
      throw new ApiFault(400, 205, 'Model is in use (used as input by other tasks, use force)', {
        model: m.id, tasks: users.map((t) => t.id),
      });
    }
    const creator = m.task ? state.stores.tasks.get(m.task) : undefined;
    if (creator && creator.status === 'published' && !force) {
      throw new ApiFault(400, 206, 'Model creating task exists and is published (use force)', { model: m.id, task: creator.id });
    }
    const now = state.isoNow();
    store.transaction(() => {
      for (const t of users) {
        const copy = structuredClone(t);
        copy.models = {
          input: (copy.models?.input ?? []).map((r) => (r.model === m.id ? { ...r, model: `${DELETED_PREFIX}${m.id}` } : r)),
          output: copy.models?.output ?? [],
        };
        copy.last_change = now;
        state.stores.tasks.put(copy);
      }
      if (creator && (creator.models?.output ?? []).some((r) => r.model === m.id)) {
        const copy = structuredClone(creator);
        const output = copy.models?.output ?? [];
        // a published creator keeps a tombstone reference; any other loses the reference
        copy.models = {
          input: copy.models?.input ?? [],
          output: creator.status === 'published'
            ? output.map((r) => (r.model === m.id ? { ...r, model: `${DELETED_PREFIX}${m.id}` } : r))
            : output.filter((r) => r.model !== m.id),
        };
        if (creator.status === 'published') copy.output = { ...(copy.output ?? {}), error: `model deleted on ${now}` };
        copy.last_change = now;
        copy.last_changed_by = req.identity.user;
        state.stores.tasks.put(copy);
      }
      store.delete(m.id);
    });
    // the real server then queues the model's file itself (services/models.py _delete_model_events)
    if (m.uri && deletesExternally(state, req.endpoint, req.body)) scheduleUrls(state, req.endpoint, m.id, [m.uri]);
    return { deleted: true, url: m.uri ?? null };
  };

  const setArchived = (id: string, archived: boolean) => {
    const m = load(id);
    assertWritable(m, 'model');
    const tags = (m.system_tags ?? []).filter((t) => t !== 'archived');
    m.system_tags = archived ? [...tags, 'archived'] : tags;
    m.last_update = state.isoNow();
    store.put(m);
    return archived ? { archived: true } : { unarchived: true };
  };

  const getAll = (req: CallRequest) => {
      const b = { ...req.body };
      if (b.ready !== undefined) b.ready = bool(b.ready);
      const r = runQuery(store, b, {
        patternFields: ['name', 'comment'],
        listFields: ['tags', 'system_tags', 'framework', 'uri', 'id', 'user', 'project', 'task', 'parent', 'metadata.*'],
        rangeFields: ['created', 'last_metrics.*', 'last_iteration'],
        dateFields: ['last_update', 'last_change'],
        equalityFields: ['ready'],
        indexedFields: { task: MODELS_BY_TASK, uri: MODELS_BY_URI },
        extra: hiddenPredicate(b),
      }, state.scrolls);
      const models = r.items.map((x) => (Array.isArray(b.only_fields) ? x : conform(x as Model)));
      return r.scroll_id !== undefined ? { models, scroll_id: r.scroll_id } : { models };
  };

  return {
    get_all: getAll,
    get_all_ex: getAll,
    get_by_id: (req) => ({ model: conform(load(req.body.model)) }),
    get_by_task_id: (req) => {
      const t = loadTask(state, req.body.task);
      const ref = t.models?.output?.[t.models.output.length - 1];
      const m = ref ? store.get(ref.model) : [...store.values()].find((x) => x.task === t.id);
      if (!m) throw new ApiFault(400, 201, 'Invalid model id (task has no output model)', { task: t.id });
      return { model: conform(structuredClone(m)) };
    },
    create: (req) => ({ id: create(req, req.body).id, created: true }),
    update: (req) => edit(req, req.body),
    edit: (req) => edit(req, req.body),
    update_for_task: (req) => {
      const b = req.body;
      const t = loadTask(state, b.task);
      if (b.override_model_id) {
        const m = load(b.override_model_id);
        return { id: m.id, created: false, updated: 0 };
      }
      const existing = t.models?.output?.length ? store.get(t.models.output[t.models.output.length - 1].model) : undefined;
      if (existing && !existing.ready) {
        edit(req, { ...b, model: existing.id, task: undefined });
        return { id: existing.id, created: false, updated: 1 };
      }
      const m = create(req, { ...b, name: b.name ?? t.name, project: t.project });
      const copy = structuredClone(state.stores.tasks.get(t.id)!);
      copy.models = { input: copy.models?.input ?? [], output: [...(copy.models?.output ?? []), { name: m.name, model: m.id }] };
      copy.last_change = state.isoNow();
      state.stores.tasks.put(copy);
      return { id: m.id, created: true, updated: 0 };
    },
    set_ready: (req) => {
      const m = load(req.body.model);
      assertWritable(m, 'model');
      m.ready = true;
      m.last_update = state.isoNow();
      store.put(m);
      return { updated: 1, published_task: null };
    },
    publish_many: (req) => forEachId(req.body.ids, (id) => {
      const m = load(id);
      assertWritable(m, 'model');
      m.ready = true;
      m.last_update = state.isoNow();
      store.put(m);
      return { published: true };
    }),
    delete: (req) => del(req, req.body.model, bool(req.body.force)),
    delete_many: (req) => state.stores.transaction(() => forEachId(req.body.ids, (id) => del(req, id, bool(req.body.force)))),
    archive_many: (req) => forEachId(req.body.ids, (id) => setArchived(id, true)),
    unarchive_many: (req) => forEachId(req.body.ids, (id) => setArchived(id, false)),
    // metadata is a map key -> {key, type, value}
    add_or_update_metadata: (req) => {
      const m = load(req.body.model);
      assertWritable(m, 'model');
      const items: Array<{ key: string; type?: string; value?: string }> = Array.isArray(req.body.metadata) ? req.body.metadata : [];
      const meta: Record<string, unknown> = bool(req.body.replace_metadata) ? {} : { ...((m.metadata as Record<string, unknown>) ?? {}) };
      for (const item of items) {
        if (!item || typeof item.key !== 'string') throw new ApiFault(400, 12, 'Validation error (metadata item needs a key)');
        meta[item.key] = { key: item.key, type: item.type ?? '', value: item.value === undefined ? '' : String(item.value) };
      }
      m.metadata = meta;
      m.last_update = state.isoNow();
      store.put(m);
      return { updated: 1 };
    },
    delete_metadata: (req) => {
      const m = load(req.body.model);
      assertWritable(m, 'model');
      const meta: Record<string, unknown> = { ...((m.metadata as Record<string, unknown>) ?? {}) };
      for (const key of stringList(req.body.keys)) delete meta[key];
      m.metadata = meta;
      m.last_update = state.isoNow();
      store.put(m);
      return { updated: 1 };
    },
    get_frameworks: () => ({ frameworks: [...new Set([...store.values()].map((m) => m.framework).filter(Boolean))] }),
  };
}
