/**
 * Every debug-image and plot-image URL of a batch of tasks, in few calls:
 * events.get_task_metrics (which tasks have any, and their metrics), events.get_multi_task_metrics
 * (each metric's variants), then the multi-task events.debug_images / events.plots, asked so that
 * none of the server's silent caps cuts a variant off (see planRounds), each scrolled until no task
 * returns another iteration. Servers without these calls get the per-task events.get_task_events
 * scroll, followed to the very end (the SDK stops at ~100 URLs).
 */
import { createHash } from 'node:crypto';
import type { LimitFunction } from 'p-limit';
import type { Api } from './ports.js';
import { apiErrorOf, errorMessage } from './ports.js';
import { chunks } from './listing.js';
import { featuresOf } from '../api/server-features.js';

export type EventKind = 'debug' | 'plot';

const EVENT_TYPE: Record<EventKind, string> = { debug: 'training_debug_image', plot: 'plot' };
const MULTI_ENDPOINT: Record<EventKind, string> = { debug: 'events.debug_images', plot: 'events.plots' };

/**
 * The real server's silent limits on the multi-task calls (clearml-server apiserver/bll/event/
 * metric_events_iterator.py and event_common.py), which decide how we ask:
 * - its scroll state keeps at most 100 metrics per task and 50 variants per metric (the first by
 *   name) and drops events of any other variant; naming metrics and variants in the request is the
 *   only way to reach the rest;
 * - each call returns, per task and iteration, at most 8000 / (metrics × iters) variants of a metric,
 *   the first by name among all of that metric's variants in the iteration.
 * So each call names at most STATE_METRICS metrics with at most STATE_VARIANTS variants each, and
 * asks for so few iterations that metrics × iters × (the metric's variant count) fits the budget.
 */
const BUCKET_BUDGET = 8000;
const STATE_METRICS = 100;
const STATE_VARIANTS = 50;
const MAX_ITERS = 100;
/**
 * A scroll that never ends is a server bug. Stopping quietly would under-count the task's files and
 * leave them behind once the task is gone; so the scan fails and the task is kept (retried next pass).
 */
export const MAX_SCROLL_CALLS = 10_000;
/** More events than any real task holds in one scroll (ClearML keeps at most a few per metric and iteration). */
export const MAX_EVENTS_PER_SCROLL = 2_000_000;

/** Detects a scroll that keeps returning the same batch, or more than it said it had, or without end. */
class ScrollGuard {
  private last = '';
  private events = 0;
  private total?: number;
  constructor(private readonly what: string) {}

  check(batch: unknown[], total?: unknown): void {
    if (this.total === undefined && typeof total === 'number' && Number.isFinite(total)) this.total = total;
    this.events += batch.length;
    // its size and both ends: re-serialising every event of every batch cost as much as parsing it,
    // and two different batches of a scroll never share both ends
    const sig = batch.length ? `${batch.length}\0${JSON.stringify(batch[0])}\0${JSON.stringify(batch[batch.length - 1])}` : '';
    if (sig === this.last) throw new Error(`${this.what}: the server returned the same events again; the scroll does not end`);
    this.last = sig;
    if (this.total !== undefined && this.events > this.total + batch.length) {
      throw new Error(`${this.what}: more events (${this.events}) than the server's total (${this.total}); the scroll does not end`);
    }
    if (this.events > MAX_EVENTS_PER_SCROLL) throw new Error(`${this.what}: more than ${MAX_EVENTS_PER_SCROLL} events; the scroll does not end`);
  }

  tooLong(calls: number): never {
    throw new Error(`${this.what}: still scrolling after ${calls} calls; the scroll does not end`);
  }
}

export interface EventUrlResult {
  /** task id -> URLs (deduplicated) */
  urls: Map<string, Set<string>>;
  /** task id -> why its events could not be listed (such a task must not be deleted) */
  failed: Map<string, string>;
}

export interface EventScanState {
  /** false once the server showed it lacks the multi-task form */
  multi: Record<EventKind, boolean>;
  /** false once the server showed it lacks events.get_multi_task_metrics (the variant lists) */
  variants: Record<EventKind, boolean>;
}

export function newScanState(): EventScanState {
  return { multi: { debug: true, plot: true }, variants: { debug: true, plot: true } };
}

/** A server that does not know an endpoint or a request form answers 404, or 400 on validation. */
function isUnsupported(err: unknown): boolean {
  const e = apiErrorOf(err);
  if (!e) return false;
  if (e.code === 404) return true;
  return e.code === 400 && /unknown|not supported|invalid request|validation|required/i.test(e.resultMsg ?? '');
}

export function urlsOfEvent(ev: Record<string, unknown>, kind: EventKind): string[] {
  const out: string[] = [];
  if (kind === 'debug') {
    if (typeof ev.url === 'string' && ev.url) out.push(ev.url);
    return out;
  }
  if (Array.isArray(ev.source_urls)) for (const u of ev.source_urls) if (typeof u === 'string' && u) out.push(u);
  if (typeof ev.plot_str === 'string' && ev.plot_str.includes('source')) {
    try {
      const plot = JSON.parse(ev.plot_str) as { layout?: { images?: Array<{ source?: unknown }> } };
      for (const img of plot?.layout?.images ?? []) if (typeof img?.source === 'string' && img.source) out.push(img.source);
    } catch {
      /* a plot that is not JSON holds no image we could find */
    }
  }
  return out.filter((u) => !u.startsWith('data:'));
}

function add(map: Map<string, Set<string>>, task: string, urls: string[]) {
  if (urls.length === 0) return;
  let set = map.get(task);
  if (!set) map.set(task, (set = new Set()));
  for (const u of urls) set.add(u);
}

/** task id -> names of its metrics with events of this kind; undefined when the server lacks the call. */
async function tasksWithEvents(api: Api, taskIds: string[], kind: EventKind): Promise<Map<string, string[]> | undefined> {
  try {
    const data = await api.call<{ metrics?: Array<{ task: string; metrics?: unknown[] }> }>('events.get_task_metrics', {
      tasks: taskIds,
      event_type: EVENT_TYPE[kind],
    });
    if (!Array.isArray(data?.metrics)) return undefined;
    const out = new Map<string, string[]>();
    for (const m of data.metrics) {
      if (!m || !Array.isArray(m.metrics) || m.metrics.length === 0) continue;
      out.set(m.task, m.metrics.filter((x): x is string => typeof x === 'string'));
    }
    return out;
  } catch (err) {
    if (isUnsupported(err)) return undefined;
    throw err;
  }
}

/**
 * metric -> its variants (sorted) over a group of tasks, from events.get_multi_task_metrics (API
 * 2.28+); undefined when the server lacks it (the caller then reads each task on its own).
 */
async function variantsOf(api: Api, taskIds: string[], kind: EventKind): Promise<Map<string, string[]> | undefined> {
  let data: { metrics?: Array<{ metric?: unknown; variants?: unknown }> };
  try {
    data = await api.call('events.get_multi_task_metrics', { tasks: taskIds, event_type: EVENT_TYPE[kind] });
  } catch (err) {
    if (isUnsupported(err)) return undefined;
    throw err;
  }
  if (!Array.isArray(data?.metrics)) return undefined;
  const out = new Map<string, string[]>();
  for (const m of data.metrics) {
    if (!m || typeof m.metric !== 'string' || !Array.isArray(m.variants)) return undefined;
    const vs = [...new Set(m.variants.filter((v): v is string => typeof v === 'string'))].sort();
    out.set(m.metric, vs);
  }
  return out;
}

interface MultiResponse {
  scroll_id?: string;
  metrics?: Array<{ task: string; iterations?: Array<{ iter?: number; events?: Array<Record<string, unknown>> }> }>;
}

type MetricsEntry = { task: string; metric?: string; variants?: string[] };

/** One multi-task request set, scrolled until no task returns another iteration. */
interface MultiRound {
  entries: MetricsEntry[];
  iters: number;
}

/**
 * The requests that list every variant of every task in the group within the server's limits, or
 * undefined when some metric has more variants than one call can return (over the bucket budget).
 */
export function planRounds(group: string[], metricsOf: Map<string, string[]>, variants: Map<string, string[]>): MultiRound[] | undefined {
  const countOf = (metric: string) => Math.max(1, variants.get(metric)?.length ?? 1);
  let maxCount = 1;
  let maxMetrics = 1;
  for (const t of group) {
    const ms = metricsOf.get(t) ?? [];
    maxMetrics = Math.max(maxMetrics, ms.length);
    for (const m of ms) maxCount = Math.max(maxCount, countOf(m));
  }
  if (maxCount > BUCKET_BUDGET) return undefined;
  if (maxCount <= STATE_VARIANTS && maxMetrics <= STATE_METRICS) {
    // the server's state holds every variant already: name the tasks only
    const iters = clampIters(Math.floor(BUCKET_BUDGET / (maxMetrics * maxCount)));
    return [{ entries: group.map((task) => ({ task })), iters }];
  }
  // name metrics and variants: slice s of each metric's variants, in chunks of metrics small enough
  // that metrics × (their largest variant count) fits the budget with one iteration at least
  const slices = Math.ceil(maxCount / STATE_VARIANTS);
  const rounds: MultiRound[] = [];
  for (let s = 0; s < slices; s++) {
    const perTask = new Map<string, string[]>();
    for (const t of group) {
      const ms = (metricsOf.get(t) ?? []).filter((m) => (variants.get(m)?.length ?? 0) > s * STATE_VARIANTS).sort();
      if (ms.length) perTask.set(t, ms);
    }
    for (let c = 0; ; c++) {
      const entries: MetricsEntry[] = [];
      let roundMetrics = 1;
      let roundCount = 1;
      for (const [t, ms] of perTask) {
        const chunk = metricChunks(ms, countOf)[c];
        if (!chunk) continue;
        roundMetrics = Math.max(roundMetrics, chunk.length);
        for (const m of chunk) {
          roundCount = Math.max(roundCount, countOf(m));
          entries.push({ task: t, metric: m, variants: variants.get(m)!.slice(s * STATE_VARIANTS, (s + 1) * STATE_VARIANTS) });
        }
      }
      if (!entries.length) break;
      rounds.push({ entries, iters: clampIters(Math.floor(BUCKET_BUDGET / (roundMetrics * roundCount))) });
    }
  }
  return rounds;
}

/** Consecutive chunks of a task's metrics: at most 100, and metrics × largest variant count <= budget. */
function metricChunks(metrics: string[], countOf: (m: string) => number): string[][] {
  const out: string[][] = [];
  let cur: string[] = [];
  let curMax = 1;
  for (const m of metrics) {
    const next = Math.max(curMax, countOf(m));
    if (cur.length && (cur.length + 1 > STATE_METRICS || (cur.length + 1) * next > BUCKET_BUDGET)) {
      out.push(cur);
      cur = [];
      curMax = 1;
    }
    cur.push(m);
    curMax = Math.max(curMax, countOf(m));
  }
  if (cur.length) out.push(cur);
  return out;
}

function clampIters(n: number): number {
  return Math.max(1, Math.min(MAX_ITERS, n));
}

/** One round through the multi-task form; false when the server does not support it. */
async function scanRound(
  api: Api,
  round: MultiRound,
  kind: EventKind,
  out: EventUrlResult,
  first: boolean,
  seenVariants?: Map<string, Set<string>>,
): Promise<boolean> {
  let scrollId: string | undefined;
  const guard = new ScrollGuard(MULTI_ENDPOINT[kind]);
  for (let n = 0; ; n++) {
    if (n >= MAX_SCROLL_CALLS) guard.tooLong(n);
    let data: MultiResponse;
    try {
      data = await api.call<MultiResponse>(MULTI_ENDPOINT[kind], {
        metrics: round.entries,
        iters: round.iters,
        navigate_earlier: true,
        ...(scrollId ? { scroll_id: scrollId } : {}),
      });
    } catch (err) {
      if (first && n === 0 && isUnsupported(err)) return false;
      throw err;
    }
    if (!Array.isArray(data?.metrics)) {
      if (first && n === 0) return false;
      break;
    }
    let progressed = false;
    const batch: unknown[] = [];
    for (const m of data.metrics) {
      for (const it of m?.iterations ?? []) {
        const events = Array.isArray(it?.events) ? it.events : [];
        if (events.length) progressed = true;
        batch.push(...events);
        for (const ev of events) {
          if (!ev || typeof ev !== 'object') continue;
          add(out.urls, m.task, urlsOfEvent(ev, kind));
          if (seenVariants) {
            const k = `${m.task}\u0000${String(ev.metric)}`;
            let set = seenVariants.get(k);
            if (!set) seenVariants.set(k, (set = new Set()));
            set.add(String(ev.variant));
          }
        }
      }
    }
    if (progressed) guard.check(batch);
    if (!progressed || !data.scroll_id) break;
    scrollId = data.scroll_id;
  }
  return true;
}

/**
 * One group through the multi-task form: 'unsupported' when the server lacks it, 'per-task' when
 * the group cannot be listed completely that way (too many variants), or the tasks to read again
 * one by one.
 */
async function scanMulti(
  api: Api,
  group: string[],
  metricsOf: Map<string, string[]>,
  kind: EventKind,
  out: EventUrlResult,
  state: EventScanState,
): Promise<'done' | 'unsupported' | 'per-task' | string[]> {
  const variants = state.variants[kind] ? await variantsOf(api, group, kind) : undefined;
  if (!variants) {
    state.variants[kind] = false;
    return scanWithoutVariants(api, group, metricsOf, kind, out);
  }
  const rounds = planRounds(group, metricsOf, variants);
  if (!rounds) return 'per-task';
  for (const [i, round] of rounds.entries()) {
    if (!(await scanRound(api, round, kind, out, i === 0))) return 'unsupported';
  }
  return 'done';
}

/**
 * Without the variant lists (servers before API 2.28): ask for whole tasks with so few iterations
 * that the server's per-iteration cut (8000 / (metrics × iters)) stays at or above the 50 variants
 * its state holds per metric, so everything the state holds comes back. A metric showing 50
 * distinct variants may have had more cut off by the state, and a task with more than 100 metrics
 * lost some: such tasks are returned to be read again one by one (no cap there).
 */
async function scanWithoutVariants(
  api: Api,
  group: string[],
  metricsOf: Map<string, string[]>,
  kind: EventKind,
  out: EventUrlResult,
): Promise<'unsupported' | string[]> {
  const listable = group.filter((t) => (metricsOf.get(t)?.length ?? 0) <= STATE_METRICS);
  const again = group.filter((t) => !listable.includes(t));
  if (listable.length) {
    const maxMetrics = Math.max(1, ...listable.map((t) => metricsOf.get(t)?.length ?? 1));
    const round: MultiRound = { entries: listable.map((task) => ({ task })), iters: clampIters(Math.floor(BUCKET_BUDGET / (maxMetrics * STATE_VARIANTS))) };
    const seen = new Map<string, Set<string>>();
    if (!(await scanRound(api, round, kind, out, true, seen))) return 'unsupported';
    const cut = new Set<string>();
    for (const [k, vs] of seen) if (vs.size >= STATE_VARIANTS) cut.add(k.slice(0, k.indexOf('\u0000')));
    again.push(...listable.filter((t) => cut.has(t)));
  }
  return again;
}

/**
 * One task through events.get_task_events, scrolled to the end.
 *
 * The real server keeps the last iteration of a batch in the scroll id and reads iteration 0 as "no
 * position" (apiserver/bll/event/events_iterator.py): after a batch ending at iteration 0 it starts
 * over and returns the first events again, for ever. So: newest iteration first (iteration 0 comes
 * last, all its events in one batch, since the server completes the last iteration of a batch), stop
 * when the events seen reach `total`, and stop when a batch comes that was already returned.
 */
async function scanTask(api: Api, task: string, kind: EventKind, out: EventUrlResult): Promise<void> {
  let scrollId: string | undefined;
  const what = `events.get_task_events of task ${task}`;
  const batches = new Set<string>();
  let seen = 0;
  let total: number | undefined;
  for (let n = 0; ; n++) {
    if (n >= MAX_SCROLL_CALLS) throw new Error(`${what}: still scrolling after ${n} calls; the scroll does not end`);
    const data = await api.call<{ events?: unknown; scroll_id?: string; returned?: number; total?: number }>(
      'events.get_task_events',
      { task, event_type: EVENT_TYPE[kind], batch_size: 1000, order: 'desc', count_total: true, ...(scrollId ? { scroll_id: scrollId } : {}) },
    );
    if (data?.events !== undefined && !Array.isArray(data.events)) {
      throw new Error(`${what}: "events" is ${typeof data.events}, not a list`);
    }
    const events = (data?.events ?? []) as Array<Record<string, unknown>>;
    if (events.length === 0) break;
    const sig = createHash('sha1').update(JSON.stringify(events)).digest('base64');
    if (batches.has(sig)) break; // the server started over: everything was read
    batches.add(sig);
    if (total === undefined && typeof data.total === 'number' && Number.isFinite(data.total)) total = data.total;
    seen += events.length;
    // more than it said it has: the server's answers do not add up, so its listing cannot be trusted
    if (total !== undefined && seen > total) throw new Error(`${what}: more events (${seen}) than the server's total (${total}); the scroll does not end`);
    if (seen > MAX_EVENTS_PER_SCROLL) throw new Error(`${what}: more than ${MAX_EVENTS_PER_SCROLL} events; the scroll does not end`);
    for (const ev of events) if (ev && typeof ev === 'object') add(out.urls, task, urlsOfEvent(ev, kind));
    if (total !== undefined && seen >= total) break;
    if (!data.scroll_id) break;
    scrollId = data.scroll_id;
  }
}

/** URLs of one kind for a batch of tasks; a task whose events could not be read lands in `failed`. */
export async function collectEventUrls(
  api: Api,
  taskIds: string[],
  kind: EventKind,
  opts: { tasksPerCall: number; limit: LimitFunction; state: EventScanState },
): Promise<EventUrlResult> {
  const out: EventUrlResult = { urls: new Map(), failed: new Map() };
  if (taskIds.length === 0) return out;
  const limit = opts.limit;

  let counts: Map<string, string[]> | undefined;
  try {
    counts = await limit(() => tasksWithEvents(api, taskIds, kind));
  } catch (err) {
    for (const t of taskIds) out.failed.set(t, `listing ${EVENT_TYPE[kind]} metrics failed: ${errorMessage(err)}`);
    return out;
  }
  const withEvents = counts ? taskIds.filter((t) => counts!.has(t)) : taskIds;
  const metricsOf = counts ?? new Map<string, string[]>();

  // a server older than the multi-task form would answer 404: do not ask it
  const features = featuresOf(await api.serverApiVersion?.());
  if (!(kind === 'plot' ? features.multiTaskPlots : features.multiTaskDebugImages)) opts.state.multi[kind] = false;
  if (!features.multiTaskMetrics) opts.state.variants[kind] = false;
  const perTask: string[] = [];
  if (opts.state.multi[kind] && counts) {
    await Promise.all(
      chunks(withEvents, opts.tasksPerCall).map((group) =>
        limit(async () => {
          try {
            const how = await scanMulti(api, group, metricsOf, kind, out, opts.state);
            if (how === 'unsupported') opts.state.multi[kind] = false;
            if (Array.isArray(how)) perTask.push(...how);
            else if (how !== 'done') perTask.push(...group);
          } catch (err) {
            for (const t of group) out.failed.set(t, `listing ${EVENT_TYPE[kind]} events failed: ${errorMessage(err)}`);
          }
        }),
      ),
    );
  } else {
    perTask.push(...withEvents);
  }

  await Promise.all(
    perTask.map((t) =>
      limit(async () => {
        try {
          await scanTask(api, t, kind, out);
        } catch (err) {
          out.failed.set(t, `listing ${EVENT_TYPE[kind]} events failed: ${errorMessage(err)}`);
        }
      }),
    ),
  );
  return out;
}
