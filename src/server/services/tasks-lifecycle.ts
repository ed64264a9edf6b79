import { ApiFault } from '../api/fault.js';
import type { CallRequest, Service } from '../api/service.js';
import type { Task, TaskStatus } from '../../types/clearml.js';
import type { EmbeddedState } from '../state.js';
import { dateMs } from '../util/time.js';
import { bool, forEachId } from './common.js';
import { addToQueue, createQueue, removeFromQueues } from './queue-ops.js';
import { ALL_STATUSES, applyStatus } from './task-status.js';
import { cleanupTask, externalCleanup } from './task-delete.js';
import { assertWritable, loadTask } from './task-docs.js';

/** A worker counts as alive when it reported on the task within this window (apiserver.workers.task_update_timeout). */
const LIVE_WORKER_MS = 600_000;

export function tasksLifecycle(state: EmbeddedState): Service {
  const store = state.stores.tasks;

  const setStatus = (req: CallRequest, body: Record<string, any>, status: TaskStatus, tweak?: (t: Task, now: string) => void) => {
    const t = loadTask(state, body.task);
    assertWritable(t);
    const now = state.isoNow();
    const fields = applyStatus(t, {
      status,
      force: bool(body.force),
      status_reason: body.status_reason,
      status_message: body.status_message,
      user: req.identity.user,
      now,
    });
    tweak?.(t, now);
    store.put(t);
    return { t, fields };
  };

  /** Leaves every queue; a queued or running task goes to `status` (forced). execution.queue is kept, as on the real server. */
  const dequeueTo = (req: CallRequest, t: Task, status: TaskStatus, now: string, reason?: unknown, message?: unknown) => {
    const removed = removeFromQueues(state, t.id, now);
    if (t.status !== 'queued' && t.status !== 'in_progress') return { removed, fields: undefined };
    const fields = applyStatus(t, { status, force: true, status_reason: reason, status_message: message, user: req.identity.user, now });
    (t as any).enqueue_status = null;
    return { removed, fields };
  };

  const enqueue = (req: CallRequest, body: Record<string, any>) => {
    let queueId: string | undefined = typeof body.queue === 'string' && body.queue ? body.queue : undefined;
    const queues = state.stores.queues;
    if (queueId && body.queue_name) {
      throw new ApiFault(400, 12, 'Validation error (either queue id or queue name should be provided)');
    }
    if (!queueId && typeof body.queue_name === 'string' && body.queue_name) {
      // a queue named here is created when missing, as on the real server
      queueId = [...queues.values()].find((q) => q.name === body.queue_name)?.id ?? createQueue(state, req, body.queue_name);
    }
    if (!queueId) {
      const dflt = [...queues.values()].filter((q) => q.system_tags?.includes('default'));
      if (dflt.length !== 1) throw new ApiFault(400, 707, 'No default queue');
      queueId = dflt[0].id;
    }
    if (!queues.has(queueId)) throw new ApiFault(400, 701, `Invalid queue id (no such queue: ${queueId})`, { id: queueId });
    const t = loadTask(state, body.task);
    assertWritable(t);
    if (queues.get(queueId)!.entries.some((e) => e.task === t.id)) {
      throw new ApiFault(400, 706, 'Failed adding task to queue since task is already queued', { task: t.id, queue: queueId });
    }
    const before = t.status === 'queued' && (t as any).enqueue_status ? (t as any).enqueue_status : t.status;
    const now = state.isoNow();
    const fields = applyStatus(t, {
      status: 'queued',
      force: bool(body.force),
      status_reason: body.status_reason,
      status_message: body.status_message,
      user: req.identity.user,
      now,
    });
    (t as any).enqueue_status = before;
    t.execution = { ...(t.execution ?? {}), queue: queueId };
    store.transaction(() => {
      addToQueue(state, queueId!, t.id, now);
      store.put(t);
    });
    return { updated: 1, fields: { ...fields, 'execution.queue': queueId }, queued: 1 };
  };

  /**
   * Real semantics: an unknown task or one neither queued nor running answers updated 0 (no error);
   * the agent sends {new_status: "in_progress"} and calls tasks.started only when updated >= 1.
   */
  const dequeue = (req: CallRequest, body: Record<string, any>) => {
    if (body.new_status !== undefined && !ALL_STATUSES.includes(body.new_status)) {
      throw new ApiFault(400, 12, `Validation error (invalid task status: ${body.new_status})`);
    }
    const now = state.isoNow();
    if (typeof body.task !== 'string' || !store.has(body.task)) {
      if (typeof body.task === 'string') removeFromQueues(state, body.task, now);
      return { dequeued: 1, updated: 0 };
    }
    const t = loadTask(state, body.task);
    assertWritable(t);
    const to = (body.new_status ?? (t as any).enqueue_status ?? 'created') as TaskStatus;
    const res = store.transaction(() => {
      const r = dequeueTo(req, t, to, now, body.status_reason, body.status_message);
      if (r.fields) store.put(t);
      return r;
    });
    return res.fields ? { dequeued: 1, updated: 1, fields: res.fields } : { dequeued: 1, updated: 0 };
  };

  /** Queued, development or worker-less tasks stop at once; a task a live worker runs gets "stopping". */
  const stop = (req: CallRequest, body: Record<string, any>) => {
    const t = loadTask(state, body.task);
    assertWritable(t);
    const now = state.isoNow();
    const lastUpdate = dateMs(t.last_update) ?? 0;
    const liveWorker = Boolean((t as any).last_worker) && Date.parse(now) - lastUpdate < LIVE_WORKER_MS;
    const immediate = t.status === 'queued' || Boolean(t.system_tags?.includes('development')) || !liveWorker;
    let fields: Record<string, unknown>;
    if (immediate) {
      const force = bool(body.force);
      // validate before touching the queue
      if (!force && t.status !== 'stopped') applyStatus(structuredClone(t), { status: 'stopped', user: '', now });
      if (t.status === 'queued') removeFromQueues(state, t.id, now);
      fields = applyStatus(t, {
        status: 'stopped',
        force,
        status_reason: body.status_reason,
        status_message: `Stopped by ${req.identity.name}`,
        user: req.identity.user,
        now,
      });
    } else {
      fields = applyStatus(t, {
        status: t.status,
        force: bool(body.force),
        status_reason: body.status_reason,
        status_message: 'stopping',
        user: req.identity.user,
        now,
      });
    }
    store.put(t);
    return { updated: 1, fields };
  };

  /** The real reset: published needs force; outputs cleaned up like a delete (children kept); back to Draft. */
  const reset = (req: CallRequest, body: Record<string, any>) => {
    const t = loadTask(state, body.task);
    assertWritable(t);
    const force = bool(body.force);
    if (t.status === 'published' && !force) {
      throw new ApiFault(400, 110, 'Invalid task status (published task cannot be reset, use force)', { task: t.id, status: t.status });
    }
    const now = state.isoNow();
    const deleteOutputModels = body.delete_output_models === undefined ? true : bool(body.delete_output_models);
    const afterReset = externalCleanup(state, req.endpoint, body, t.id);
    return store.transaction(() => {
      const removed = removeFromQueues(state, t.id, now);
      const cleanup = cleanupTask(state, req.identity, t, { force, updateChildren: false, deleteOutputModels });
      afterReset(cleanup);
      const fields = applyStatus(t, { status: 'created', force, status_reason: 'reset', status_message: 'reset', user: req.identity.user, now });
      for (const k of ['started', 'completed', 'published', 'active_duration', 'enqueue_status', 'last_worker', 'last_worker_report']) {
        delete (t as any)[k];
      }
      t.last_iteration = 0;
      (t as any).last_metrics = {};
      t.runtime = {};
      t.models = { input: t.models?.input ?? [], output: [] };
      if (t.output) {
        delete t.output.result;
        delete t.output.error;
      }
      if (bool(body.clear_all)) {
        t.execution = { test_split: 0, parameters: {}, model_desc: {}, model_labels: {}, artifacts: [] };
        t.script = { binary: 'python', repository: '', entry_point: '' };
      } else {
        const execution = { ...(t.execution ?? {}), artifacts: (t.execution?.artifacts ?? []).filter((a) => a.mode === 'input') };
        delete execution.queue;
        t.execution = execution;
      }
      const events = state.events.deleteForTask(t.id);
      store.put(t);
      return {
        updated: 1,
        fields,
        dequeued: removed ? { removed } : {},
        ...cleanup,
        urls: bool(body.return_file_urls) ? cleanup.urls : null,
        events: { deleted: events },
      };
    });
  };

  /** Dequeue (a running task is stopped), add the "archived" system tag, move last_change (not last_update). */
  const archive = (req: CallRequest, id: string, body: Record<string, any>) => {
    const t = loadTask(state, id);
    assertWritable(t);
    const now = state.isoNow();
    store.transaction(() => {
      const to = (t.status === 'in_progress' ? 'stopped' : ((t as any).enqueue_status ?? 'created')) as TaskStatus;
      dequeueTo(req, t, to, now, body.status_reason, body.status_message);
      if (!t.system_tags?.includes('archived')) t.system_tags = [...(t.system_tags ?? []), 'archived'];
      t.status_message = typeof body.status_message === 'string' ? body.status_message : '';
      t.status_reason = typeof body.status_reason === 'string' ? body.status_reason : '';
      t.last_change = now;
      t.last_changed_by = req.identity.user;
      store.put(t);
    });
    return { archived: true };
  };

  const unarchive = (req: CallRequest, id: string) => {
    const t = loadTask(state, id);
    assertWritable(t);
    t.system_tags = (t.system_tags ?? []).filter((x) => x !== 'archived');
    t.last_change = state.isoNow();
    t.last_changed_by = req.identity.user;
    store.put(t);
    return { unarchived: true };
  };

  const started = (req: CallRequest, body: Record<string, any>) => {
    const wasRunning = state.stores.tasks.get(body.task)?.status === 'in_progress';
    const { t, fields } = setStatus(req, body, 'in_progress', (t, now) => {
      if (!wasRunning || !t.started) t.started = now;
      delete t.completed;
      delete (t as any).active_duration;
    });
    return { updated: 1, fields: { ...fields, started: t.started }, started: 1 };
  };

  const completed = (req: CallRequest, body: Record<string, any>) => {
    const { t, fields } = setStatus(req, body, 'completed', (t, now) => {
      t.completed = now;
    });
    fields.completed = t.completed;
    if (bool(body.publish)) {
      const now = state.isoNow();
      applyStatus(t, { status: 'published', force: bool(body.force), user: req.identity.user, now });
      (t as any).published = now;
      store.put(t);
      return { updated: 1, fields: { ...fields, status: 'published' }, published: 1 };
    }
    return { updated: 1, fields };
  };

  const publish = (req: CallRequest, body: Record<string, any>) => {
    const { t, fields } = setStatus(req, body, 'published', (t, now) => {
      (t as any).published = now;
    });
    for (const ref of t.models?.output ?? []) {
      const m = state.stores.models.get(ref.model);
      if (m && !m.ready) state.stores.models.put({ ...structuredClone(m), ready: true, last_update: state.isoNow() });
    }
    return { updated: 1, fields };
  };

  /** stopped and failed also stamp `completed`, as on the real server; close does not. */
  const simple = (status: TaskStatus, stampCompleted: boolean) => (req: CallRequest) => {
    const { t, fields } = setStatus(req, req.body, status, (task, now) => {
      if (stampCompleted) task.completed = now;
    });
    return { updated: 1, fields: stampCompleted ? { ...fields, completed: t.completed } : fields };
  };
  const many = (fn: (req: CallRequest, body: Record<string, any>) => Record<string, unknown>) => (req: CallRequest) =>
    forEachId(req.body.ids, (id) => fn(req, { ...req.body, task: id }));

  return {
    started: (req) => started(req, req.body),
    stopped: simple('stopped', true),
    failed: simple('failed', true),
    close: simple('closed', false),
    completed: (req) => completed(req, req.body),
    publish: (req) => publish(req, req.body),
    publish_many: many(publish),
    enqueue: (req) => enqueue(req, req.body),
    enqueue_many: many(enqueue),
    dequeue: (req) => dequeue(req, req.body),
    dequeue_many: many(dequeue),
    stop: (req) => stop(req, req.body),
    stop_many: many(stop),
    reset: (req) => reset(req, req.body),
    reset_many: many(reset),
    // like the real server: an unknown id is no error
    ping: (req) => {
      const found = typeof req.body.task === 'string' ? store.get(req.body.task) : undefined;
      if (found) store.put({ ...structuredClone(found), last_update: state.isoNow() });
      return {};
    },
    archive: (req) => {
      const ids = Array.isArray(req.body.tasks) ? req.body.tasks : [req.body.task].filter(Boolean);
      if (!ids.length) throw new ApiFault(400, 11, 'Missing required fields: tasks', { fields: ['tasks'] });
      // every id is checked before any is archived
      for (const id of ids) assertWritable(loadTask(state, id));
      let archived = 0;
      for (const id of ids) {
        archive(req, id, req.body);
        archived++;
      }
      return { archived };
    },
    archive_many: (req) => forEachId(req.body.ids, (id) => archive(req, id, req.body)),
    unarchive_many: (req) => forEachId(req.body.ids, (id) => unarchive(req, id)),
  };
}
