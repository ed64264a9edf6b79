import { ApiFault } from '../api/fault.js';
import type { CallRequest, Service, ServerState } from '../api/service.js';
import { EventsStore, type EventQuery, type KeyPosition, type NewEvent, type StoredEvent } from '../store/events-store.js';
import { expandPlot, prepareEvents } from './events/incoming.js';
import { MetricEventsIterator, type TaskMetrics } from './events/metric-iterator.js';
import {
  assertTasks,
  eventType,
  metricFilters,
  optionalBool,
  optionalInt,
  refuseModelEvents,
  requiredString,
  stringList,
  versionAtLeast,
  workerOf,
} from './events/request.js';
import { latestScalarValues, metricsAndVariants, scalarHistogram, vectorHistogram } from './events/scalars.js';
import { readScroll, signScroll } from './events/scroll-token.js';

/**
 * The events service: what the SDK, the agent and a cleanup client send (add/add_batch, the
 * task-events scroll, logs, debug images and plots, metric lists, deletion).
 */

/** The most events one read returns, as the real server caps its searches. */
const MAX_BATCH = 10_000;
const LOCKED = new Set(['published', 'publishing']);

interface TaskEventsScroll {
  k: 'task_events';
  /** null: the scroll is past the end */
  pos: KeyPosition | null;
  total: number | null;
  req: { task: string; type: string; order: 'asc' | 'desc'; metrics?: EventQuery['metrics']; batch: number };
}

interface LegacyLogScroll {
  k: 'task_log';
  pos: KeyPosition | null;
  total: number;
  task: string;
  desc: boolean;
}

/** What a batch reported for one task, for a framework that keeps last_iteration/last_metrics. */
export interface TaskEventsSummary {
  /** highest iteration among the events (machine-monitoring metrics excluded), or null */
  maxIter: number | null;
  /** the newest scalar of each metric/variant in the batch */
  scalars: Array<{ metric: string; variant: string; value: unknown; iter: number | null; timestamp: number }>;
}

/** Optional hook: called after events were stored, once per task (the real server updates the task). */
export type OnTaskEvents = (taskId: string, summary: TaskEventsSummary) => void;

/** Metrics that never move a task's last iteration (the SDK's machine monitor). */
const NO_ITERATION_METRICS = new Set([':monitor:machine', ':monitor:gpu']);

export function createEventsService(state: ServerState & { onTaskEvents?: OnTaskEvents }): Service {
  // the framework may hand us the same store; if not, a second view of the same tables is equivalent
  const store = state.events instanceof EventsStore ? state.events : new EventsStore(state.db);
  const debugImages = new MetricEventsIterator(store, 'training_debug_image');
  const plots = new MetricEventsIterator(store, 'plot');
  const nowMs = () => state.now().getTime();

  const add = (req: CallRequest, raw: Array<Record<string, unknown>>) => {
    const { events, errors } = prepareEvents(raw, { getTask: (id) => state.getTask(id), worker: workerOf(req), nowMs: nowMs() });
    const added = store.add(events);
    if (state.onTaskEvents) {
      for (const [task, summary] of summarize(events)) state.onTaskEvents(task, summary);
    }
    const errorCount = Object.values(errors).reduce((a, b) => a + b, 0);
    if (!added) throw new ApiFault(400, 131, `Events not added: ${JSON.stringify(errors)}`, errors);
    return { added, errors: errorCount, errors_info: errors };
  };

  const taskWritable = (body: Record<string, unknown>) => {
    const id = requiredString(body, 'task');
    const task = state.getTask(id);
    if (!task) throw new ApiFault(400, 101, `Invalid task id: id=${id}`, { id });
    if (!optionalBool(body, 'allow_locked', false) && LOCKED.has(task.status)) {
      throw new ApiFault(400, 101, 'Cannot update events for a published task', { id });
    }
    return id;
  };

  return {
    add: (req) => add(req, [req.body]),

    add_batch: (req) => add(req, batchItems(req)),

    get_task_events: (req) => {
      const body = req.body;
      const task = requiredString(body, 'task');
      refuseModelEvents(body);
      assertTasks(state, [task]);
      let pos: KeyPosition | undefined;
      let total: number | null = null;
      let q: TaskEventsScroll['req'];
      if (body.scroll_id === undefined || body.scroll_id === null || body.scroll_id === '') {
        const order = body.order === 'desc' ? 'desc' : 'asc';
        if (body.order !== undefined && body.order !== null && body.order !== 'asc' && body.order !== 'desc') {
          throw new ApiFault(400, 12, 'Validation error (order must be asc or desc)');
        }
        q = { task, type: eventType(body), order, metrics: metricFilters(body), batch: optionalInt(body, 'batch_size', 500) };
      } else {
        const scroll = readScroll<TaskEventsScroll>(store.scrollKey, body.scroll_id);
        if (!scroll || scroll.k !== 'task_events') {
          throw new ApiFault(400, 1104, 'Invalid scroll id', { scroll_id: body.scroll_id });
        }
        if (scroll.pos === null) return { returned: 0, total: scroll.total, scroll_id: body.scroll_id, events: [] };
        // like the real server, iteration 0 as a position reads as "no position": the scroll restarts
        pos = scroll.pos.value === 0 ? undefined : scroll.pos;
        total = scroll.total;
        q = { ...scroll.req, batch: optionalInt(body, 'batch_size', 0) || 500 };
      }
      const query: EventQuery = { tasks: [q.task], type: q.type, metrics: q.metrics, modelEvents: false };
      if (total === null && optionalBool(body, 'count_total', true)) total = store.count(query);
      const events = store.pageByKey(query, 'iter', q.order === 'desc', pos, Math.max(1, Math.min(q.batch, MAX_BATCH)));
      const next: TaskEventsScroll = {
        k: 'task_events',
        pos: events.length ? { value: events[events.length - 1].iter } : null,
        total,
        req: q,
      };
      return {
        returned: events.length,
        total,
        scroll_id: signScroll(store.scrollKey, next),
        events: events.map((e) => e.doc),
      };
    },

    get_task_log: (req) => {
      const body = req.body;
      const task = requiredString(body, 'task');
      assertTasks(state, [task]);
      if (!versionAtLeast(req, '2.9')) return legacyTaskLog(store, req, task);
      const navigateEarlier = optionalBool(body, 'navigate_earlier', true);
      const batch = Math.max(1, Math.min(optionalInt(body, 'batch_size', 5000), MAX_BATCH));
      const from = body.from_timestamp;
      const query: EventQuery = { tasks: [task], type: 'log', metrics: metricFilters(body) };
      const events = store.pageByKey(
        query,
        'timestamp',
        navigateEarlier,
        typeof from === 'number' && from ? { value: from } : undefined,
        batch,
      );
      if ((navigateEarlier && body.order === 'asc') || (!navigateEarlier && body.order === 'desc')) events.reverse();
      return { events: events.map((e) => e.doc), returned: events.length, total: store.count(query) };
    },

    get_task_metrics: (req) => {
      const tasks = stringList(req.body, 'tasks');
      if (!tasks.length) throw new ApiFault(400, 11, 'Missing required fields: tasks', { fields: ['tasks'] });
      refuseModelEvents(req.body);
      assertTasks(state, tasks);
      const type = eventType(req.body, true);
      const per = store.metricsPerTask(tasks, type);
      return { metrics: tasks.map((task) => ({ task, metrics: per.get(task) ?? [] })) };
    },

    get_multi_task_metrics: (req) => {
      const tasks = stringList(req.body, 'tasks');
      if (!tasks.length) throw new ApiFault(400, 11, 'Missing required fields: tasks', { fields: ['tasks'] });
      refuseModelEvents(req.body);
      assertTasks(state, tasks);
      const mv = store.metricVariants({ tasks, type: eventType(req.body), modelEvents: false });
      return { metrics: [...mv].map(([metric, variants]) => ({ metric, variants })) };
    },

    debug_images: (req) => {
      refuseModelEvents(req.body);
      if (!versionAtLeast(req, '2.7')) return legacyDebugImages(store, state, req.body);
      return metricEvents(debugImages, state, req.body, nowMs());
    },

    plots: (req) => {
      refuseModelEvents(req.body);
      return metricEvents(plots, state, req.body, nowMs());
    },

    get_task_plots: (req) => {
      const body = req.body;
      const task = requiredString(body, 'task');
      refuseModelEvents(body);
      assertTasks(state, [task]);
      const iters = Math.max(1, optionalInt(body, 'iters', 1));
      const events = store
        .latestPerVariant({ tasks: [task], type: 'plot', metrics: metricFilters(body), modelEvents: false }, iters)
        .map((e) => expandPlot(e.doc))
        .filter((doc) => doc.valid_plot !== false);
      return { plots: events, returned: events.length, total: events.length, scroll_id: null };
    },

    get_debug_image_sample: (req) => debugImageSample(store, state, req.body),

    scalar_metrics_iter_histogram: (req) => {
      refuseModelEvents(req.body);
      assertTasks(state, [requiredString(req.body, 'task')]);
      return scalarHistogram(store, req.body);
    },

    get_scalar_metrics_and_variants: (req) => {
      refuseModelEvents(req.body);
      assertTasks(state, [requiredString(req.body, 'task')]);
      return metricsAndVariants(store, req.body, 'training_stats_scalar');
    },

    get_vector_metrics_and_variants: (req) => {
      refuseModelEvents(req.body);
      assertTasks(state, [requiredString(req.body, 'task')]);
      return metricsAndVariants(store, req.body, 'training_stats_vector');
    },

    vector_metrics_iter_histogram: (req) => {
      refuseModelEvents(req.body);
      assertTasks(state, [requiredString(req.body, 'task')]);
      return vectorHistogram(store, req.body);
    },

    get_task_latest_scalar_values: (req) => latestScalarValues(store, state, req.body),

    delete_for_task: (req) => ({ deleted: store.deleteForTask(taskWritable(req.body)) }),

    clear_task_log: (req) => {
      const task = taskWritable(req.body);
      const threshold = optionalInt(req.body, 'threshold_sec', 0);
      return {
        deleted: store.deleteLogs(task, {
          beforeMs: threshold ? nowMs() - threshold * 1000 : undefined,
          includeMetrics: stringList(req.body, 'include_metrics'),
          excludeMetrics: stringList(req.body, 'exclude_metrics'),
        }),
      };
    },

    clear_scroll: () => ({}),
  };
}

function summarize(events: NewEvent[]): Map<string, TaskEventsSummary> {
  const out = new Map<string, TaskEventsSummary>();
  const newest = new Map<string, NewEvent>();
  for (const e of events) {
    let s = out.get(e.task);
    if (!s) out.set(e.task, (s = { maxIter: null, scalars: [] }));
    if (e.iter !== null && !NO_ITERATION_METRICS.has(e.metric)) s.maxIter = Math.max(s.maxIter ?? e.iter, e.iter);
    if (e.type !== 'training_stats_scalar') continue;
    const k = `${e.task}\u0000${e.metric}\u0000${e.variant}`;
    const cur = newest.get(k);
    const ei = e.iter ?? 0;
    const ci = cur?.iter ?? 0;
    if (!cur || ei > ci || (ei === ci && e.timestamp >= cur.timestamp)) newest.set(k, e);
  }
  for (const e of newest.values()) {
    out.get(e.task)!.scalars.push({ metric: e.metric, variant: e.variant, value: e.doc.value, iter: e.iter, timestamp: e.timestamp });
  }
  return out;
}

/** The events of add_batch: json-lines (one object a line), or leniently a JSON array or one object. */
function batchItems(req: CallRequest): Array<Record<string, unknown>> {
  const type = (req.contentType || '').split(';')[0].trim().toLowerCase();
  let items: unknown[];
  if (type === 'application/json-lines' || type === 'application/x-ndjson') {
    items = [];
    const lines = req.rawBody.toString('utf8').split(/\r?\n/);
    lines.forEach((line, i) => {
      if (!line.trim()) return;
      let item: unknown;
      try {
        item = JSON.parse(line);
      } catch (e) {
        throw new ApiFault(400, 18, `${(e as Error).message} in batch item #${i}`);
      }
      if (!item || typeof item !== 'object' || Array.isArray(item)) {
        throw new ApiFault(400, 18, `json lines must contain objects, found: ${Array.isArray(item) ? 'list' : typeof item}`);
      }
      items.push(item);
    });
  } else if (Array.isArray(req.body)) {
    items = req.body;
  } else if (Array.isArray(req.body?.requests)) {
    items = req.body.requests;
  } else {
    items = req.body && Object.keys(req.body).length ? [req.body] : [];
  }
  if (!items.length) throw new ApiFault(400, 17, 'Batch request contains no items');
  return items.filter((x): x is Record<string, unknown> => !!x && typeof x === 'object' && !Array.isArray(x));
}

function metricEvents(iterator: MetricEventsIterator, state: ServerState, body: Record<string, unknown>, nowMs: number) {
  const list = body.metrics;
  if (!Array.isArray(list) || !list.length) {
    throw new ApiFault(400, 12, 'Validation error (metrics: at least one {task, metric} is required)', { field: 'metrics' });
  }
  const taskMetrics: TaskMetrics = new Map();
  const allMetrics = new Set<string>();
  for (const item of list) {
    const task = item && typeof item === 'object' ? (item as any).task : undefined;
    if (typeof task !== 'string' || !task) throw new ApiFault(400, 11, 'Missing required fields: metrics.task');
    const metric = (item as any).metric;
    const variants = (item as any).variants;
    const m = taskMetrics.get(task) ?? new Map<string, string[] | undefined>();
    taskMetrics.set(task, m);
    if (metric === undefined || metric === null) allMetrics.add(task);
    else m.set(String(metric), Array.isArray(variants) ? variants.map(String) : undefined);
  }
  // one entry without a metric asks for every metric of that task
  for (const task of allMetrics) taskMetrics.get(task)!.clear();
  assertTasks(state, [...taskMetrics.keys()]);
  const iters = optionalInt(body, 'iters', 1);
  if (iters < 1) throw new ApiFault(400, 12, 'Validation error (iters must be at least 1)');
  return iterator.fetch({
    taskMetrics,
    iters,
    navigateEarlier: optionalBool(body, 'navigate_earlier', true),
    refresh: optionalBool(body, 'refresh', false),
    scrollId: typeof body.scroll_id === 'string' ? body.scroll_id : undefined,
    nowMs,
  });
}

/** debug_images before API 2.7: one task, the newest `iters` images of each metric/variant. */
function legacyDebugImages(store: EventsStore, state: ServerState, body: Record<string, unknown>) {
  const task = requiredString(body, 'task');
  assertTasks(state, [task]);
  const iters = Math.max(1, optionalInt(body, 'iters', 1));
  const q: EventQuery = { tasks: [task], type: 'training_debug_image', modelEvents: false };
  const images = store
    .latestPerVariant(q, iters)
    .sort((a, b) => (b.iter ?? 0) - (a.iter ?? 0))
    .map((e) => e.doc);
  return { task, images, returned: images.length, total: store.count(q), scroll_id: null };
}

/** get_task_log before API 2.9: a plain scroll by time. */
function legacyTaskLog(store: EventsStore, req: CallRequest, task: string) {
  const body = req.body;
  const order = body.order === 'asc' ? 'asc' : body.order === 'desc' ? 'desc' : undefined;
  let scroll: LegacyLogScroll | undefined;
  if (typeof body.scroll_id === 'string' && body.scroll_id) {
    scroll = readScroll<LegacyLogScroll>(store.scrollKey, body.scroll_id);
    if (!scroll || scroll.k !== 'task_log' || scroll.task !== task) {
      throw new ApiFault(400, 1104, 'Invalid scroll id', { scroll_id: body.scroll_id });
    }
  }
  const since17 = versionAtLeast(req, '1.7');
  const desc = scroll
    ? scroll.desc
    : since17
      ? body.from === 'tail'
      : (order ?? 'desc') === 'desc';
  const query: EventQuery = { tasks: [task], type: 'log' };
  const total = scroll?.total ?? store.count(query);
  let events: StoredEvent[] = [];
  if (!scroll || scroll.pos !== null) {
    events = store.pageByKey(query, 'timestamp', desc, scroll?.pos ?? undefined, Math.max(1, Math.min(optionalInt(body, 'batch_size', 500), MAX_BATCH)));
  }
  const next: LegacyLogScroll = {
    k: 'task_log',
    pos: events.length ? { value: events[events.length - 1].timestamp } : null,
    total,
    task,
    desc,
  };
  const docs = events.map((e) => e.doc);
  if (since17 && (order ?? 'desc') !== (desc ? 'desc' : 'asc')) docs.reverse();
  return { events: docs, returned: docs.length, total, scroll_id: signScroll(store.scrollKey, next) };
}

/** get_debug_image_sample without history navigation: the image of one iteration (default newest). */
function debugImageSample(store: EventsStore, state: ServerState, body: Record<string, unknown>) {
  const task = requiredString(body, 'task');
  refuseModelEvents(body);
  assertTasks(state, [task]);
  const metric = typeof body.metric === 'string' ? body.metric : requiredString(body, 'metric');
  const variant = typeof body.variant === 'string' ? body.variant : requiredString(body, 'variant');
  const q: EventQuery = {
    tasks: [task],
    type: 'training_debug_image',
    modelEvents: false,
    withUrl: true,
    metrics: [{ metric, variants: [variant] }],
  };
  const iters = store.distinctIters(q, true, null, 1);
  const maxIter = iters.length ? iters[0] : null;
  const minIter = store.distinctIters(q, false, null, 1)[0] ?? null;
  const iteration = body.iteration === undefined || body.iteration === null ? maxIter : optionalInt(body, 'iteration', 0);
  const events = iteration === null ? [] : store.atIters(q, [iteration]);
  if (!events.length && body.iteration !== undefined && body.iteration !== null) {
    throw new ApiFault(400, 12, `Validation error (no debug image for iteration ${String(body.iteration)})`);
  }
  events.sort((a, b) => ((a.url ?? '') < (b.url ?? '') ? 1 : -1));
  return {
    scroll_id: typeof body.scroll_id === 'string' && body.scroll_id ? body.scroll_id : signScroll(store.scrollKey, { k: 'sample' }),
    event: events[0]?.doc ?? null,
    min_iteration: minIter,
    max_iteration: maxIter,
  };
}
