import { ApiFault } from '../api/fault.js';
import type { CallRequest, Service } from '../api/service.js';
import type { Queue } from '../../types/clearml.js';
import { runQuery } from '../query/get-all.js';
import type { EmbeddedState } from '../state.js';
import { newId } from '../util/ids.js';
import { bool, stringList, validateName } from './common.js';
import { addToQueue, createQueue } from './queue-ops.js';
import { loadTask } from './task-docs.js';
import { hiddenPredicate } from './tasks-query.js';

/** The real server creates a "default" queue on first start; the agent falls back to it. */
export function ensureDefaultQueue(state: EmbeddedState): void {
  if (state.stores.queues.size > 0) return;
  const now = state.isoNow();
  state.stores.queues.put({
    id: newId(), name: 'default', created: now, last_update: now,
    tags: [], system_tags: ['default'], entries: [], company: state.auth.identity.company, user: state.auth.identity.user,
  });
}

export function createQueuesService(state: EmbeddedState): Service {
  const store = state.stores.queues;

  const load = (id: unknown): Queue => {
    if (typeof id !== 'string' || !id) throw new ApiFault(400, 11, 'Missing required fields: queue', { fields: ['queue'] });
    const q = store.get(id);
    if (!q) throw new ApiFault(400, 701, `Invalid queue id (no such queue: ${id})`, { id });
    return structuredClone(q);
  };
  // the agent crashes on null tags: always lists
  const conform = (q: Record<string, unknown>) => ({ tags: [], system_tags: [], ...q });

  const getAll = (req: CallRequest) => {
    const r = runQuery(store, req.body, {
      patternFields: ['name'],
      listFields: ['tags', 'system_tags', 'id', 'metadata.*'],
      rangeFields: [],
      dateFields: [],
      extra: hiddenPredicate(req.body),
    }, state.scrolls);
    const fields: unknown = req.body.only_fields;
    const queues = Array.isArray(fields)
      ? r.items.map((q) => ({ ...Object.fromEntries(['tags', 'system_tags'].filter((k) => fields.includes(k)).map((k) => [k, []])), ...q }))
      : r.items.map(conform);
    return r.scroll_id !== undefined ? { queues, scroll_id: r.scroll_id } : { queues };
  };

  return {
    create: (req) => {
      const name = validateName(req.body.name, 'queue');
      if ([...store.values()].some((q) => q.name === name)) {
        throw new ApiFault(400, 801, 'Queue with the same name already exists', { name });
      }
      return { id: createQueue(state, req, name, { tags: stringList(req.body.tags), system_tags: stringList(req.body.system_tags) }) };
    },
    get_all: getAll,
    get_all_ex: getAll,
    get_by_id: (req) => ({ queue: conform(load(req.body.queue)) }),
    get_default: () => {
      const dflt = [...store.values()].filter((q) => q.system_tags?.includes('default'));
      if (dflt.length !== 1) throw new ApiFault(400, 707, 'No default queue');
      return { id: dflt[0].id, name: dflt[0].name };
    },
    update: (req) => {
      const q = load(req.body.queue);
      const fields: Record<string, unknown> = {};
      if (req.body.name !== undefined) { q.name = validateName(req.body.name, 'queue'); fields.name = q.name; }
      for (const k of ['tags', 'system_tags'] as const) if (req.body[k] !== undefined) { q[k] = stringList(req.body[k]); fields[k] = q[k]; }
      q.last_update = state.isoNow();
      store.put(q);
      return { updated: 1, fields };
    },
    delete: (req) => {
      const q = load(req.body.queue);
      if (q.entries.length && !bool(req.body.force)) throw new ApiFault(400, 702, 'Queue is not empty (use force)', { id: q.id });
      store.delete(q.id);
      return { deleted: 1 };
    },
    add_task: (req) => {
      const q = load(req.body.queue);
      const t = loadTask(state, req.body.task);
      addToQueue(state, q.id, t.id, state.isoNow());
      return { added: 1 };
    },
    remove_task: (req) => {
      const q = load(req.body.queue);
      const before = q.entries.length;
      q.entries = q.entries.filter((e) => e.task !== req.body.task);
      q.last_update = state.isoNow();
      store.put(q);
      return { removed: before - q.entries.length };
    },
    peek_task: (req) => {
      const q = load(req.body.queue);
      return q.entries.length ? { task: q.entries[0].task } : {};
    },
    get_next_task: (req) => {
      const q = load(req.body.queue);
      // entries whose task vanished are dropped, like the real server
      while (q.entries.length) {
        const entry = q.entries.shift()!;
        if (!state.stores.tasks.has(entry.task)) continue;
        q.last_update = state.isoNow();
        store.put(q);
        return { entry: { task: entry.task, added: entry.added } };
      }
      store.put(q);
      return {};
    },
    get_queue_metrics: () => ({ queues: [] }),
    get_num_entries: (req) => ({ num: load(req.body.queue).entries.length }),
  };
}
