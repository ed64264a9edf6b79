import { randomUUID } from 'node:crypto';
import type { EventQuery, EventsStore, StoredEvent } from '../../store/events-store.js';
import { expandPlot } from './incoming.js';

/**
 * events.debug_images / events.plots in their multi-task form (API 2.7+ / 2.20+): per task, the
 * events of the next `iters` iterations (newest first on the first call), one event per
 * metric/variant and iteration, grouped by iteration. The scroll position lives on the server,
 * keyed by the scroll id, for an hour; an unknown or expired id silently starts a new scroll.
 *
 * The real server's limits, cut silently (apiserver/bll/event/metric_events_iterator.py,
 * event_common.py), are kept:
 * - the scroll state holds at most 100 metrics per task and 50 variants per metric (max_metrics_count
 *   100, max_variants_count 100 halved), the first by name; an event of a variant not in the state is
 *   dropped (allow_uninitialized_variants is false), so asking for specific variants is the way to
 *   reach the others;
 * - per call and task, each iteration returns at most `8000 / (metrics × iters)` variants per
 *   metric (80% of ES's 10,000 buckets), the first by name among all the metric's variants in
 *   that iteration, requested or not.
 *
 * Debug-image urls are recycled by the SDK (a fixed number of files per variant): iterations up to
 * the one before the latest reuse of the newest url point at overwritten files, so they are hidden.
 */

export type TaskMetrics = Map<string, Map<string, string[] | undefined>>;

interface VariantState {
  variant: string;
  lastInvalid: number | null;
}
interface MetricState {
  metric: string;
  timestamp: number;
  variants: VariantState[];
}
interface TaskState {
  task: string;
  metrics: MetricState[];
  minIter: number | null;
  maxIter: number | null;
}
interface ScrollState {
  tasks: TaskState[];
  expires: number;
}

export interface MetricEventsRequest {
  taskMetrics: TaskMetrics;
  iters: number;
  navigateEarlier: boolean;
  refresh: boolean;
  scrollId?: string;
  nowMs: number;
}

export interface MetricEventsResponse {
  scroll_id: string;
  metrics: Array<{ task: string; iterations: Array<{ iter: number; events: Record<string, unknown>[] }> }>;
}

const STATE_TTL_MS = 3600_000;
/** max_es_buckets: 80% (dynamic_metrics_count_threshold) of ES's 10,000 aggregation buckets */
export const MAX_ES_BUCKETS = 8000;
/** max_metrics_count */
export const STATE_MAX_METRICS = 100;
/** max_variants_count (100), halved when the state is built */
export const STATE_MAX_VARIANTS = 50;
const MAX_STATES = 10_000;

export class MetricEventsIterator {
  private readonly states = new Map<string, ScrollState>();

  constructor(
    private readonly store: EventsStore,
    private readonly type: 'training_debug_image' | 'plot',
  ) {}

  fetch(req: MetricEventsRequest): MetricEventsResponse {
    this.expire(req.nowMs);
    let id = req.scrollId && this.states.has(req.scrollId) ? req.scrollId : undefined;
    let state = id ? this.states.get(id)! : undefined;
    if (!state || req.refresh) {
      // a refresh starts again from the newest iterations with fresh variant information
      const tasks = state ? state.tasks.map((t) => t.task) : [...req.taskMetrics.keys()];
      state = { tasks: tasks.map((t) => this.initTask(t, req.taskMetrics.get(t) ?? new Map())), expires: 0 };
    }
    id ??= randomUUID().replace(/-/g, '');
    state.expires = req.nowMs + STATE_TTL_MS;
    this.states.delete(id);
    this.states.set(id, state);

    return {
      scroll_id: id,
      metrics: state.tasks.map((t) => ({
        task: t.task,
        iterations: this.nextIterations(t, req.iters, req.navigateEarlier),
      })),
    };
  }

  private query(task: string, metrics?: Array<{ metric: string; variants?: string[] }>): EventQuery {
    return { tasks: [task], type: this.type, modelEvents: false, withUrl: this.type === 'training_debug_image', metrics };
  }

  private initTask(task: string, metrics: Map<string, string[] | undefined>): TaskState {
    const filter = [...metrics].map(([metric, variants]) => ({ metric, variants }));
    const byMetric = new Map<string, MetricState>();
    for (const s of this.store.variantStats(this.query(task, filter.length ? filter : undefined))) {
      let m = byMetric.get(s.metric);
      if (!m) {
        m = { metric: s.metric, timestamp: 0, variants: [] };
        byMetric.set(s.metric, m);
      }
      m.timestamp = Math.max(m.timestamp, s.lastTimestamp);
      const lastInvalid = this.type === 'training_debug_image' && s.urlIters.length > 1 ? s.urlIters[1] : null;
      m.variants.push({ variant: s.variant, lastInvalid });
    }
    const metricStates = [...byMetric.values()].sort((a, b) => cmp(a.metric, b.metric)).slice(0, STATE_MAX_METRICS);
    for (const m of metricStates) m.variants = m.variants.sort((a, b) => cmp(a.variant, b.variant)).slice(0, STATE_MAX_VARIANTS);
    return { task, metrics: metricStates, minIter: null, maxIter: null };
  }

  private nextIterations(
    state: TaskState,
    iters: number,
    navigateEarlier: boolean,
  ): Array<{ iter: number; events: Record<string, unknown>[] }> {
    if (!state.metrics.length) return [];
    const earlier = state.maxIter === null ? true : navigateEarlier;
    const q = this.query(
      state.task,
      state.metrics.map((m) => ({ metric: m.metric })),
    );
    const beyond = earlier ? state.minIter : state.maxIter;
    const iterList = this.store.distinctIters(q, earlier, beyond, Math.max(1, iters));
    const invalid = new Map<string, number | null>();
    for (const m of state.metrics) for (const v of m.variants) invalid.set(key(m.metric, v.variant), v.lastInvalid);

    const best = new Map<number, Map<string, StoredEvent>>();
    for (const ev of this.store.atIters(q, iterList)) {
      const iter = ev.iter as number;
      const k = key(ev.metric, ev.variant);
      let perIter = best.get(iter);
      if (!perIter) best.set(iter, (perIter = new Map()));
      const cur = perIter.get(k);
      if (!cur || this.better(ev, cur)) perIter.set(k, ev);
    }

    // a variant the state does not hold is dropped (allow_uninitialized_variants false)
    const isValid = (ev: StoredEvent): boolean => {
      const k = key(ev.metric, ev.variant);
      if (!invalid.has(k)) return false;
      const last = invalid.get(k);
      return last === null || last === undefined || (ev.iter as number) > last;
    };

    const maxVariants = Math.floor(MAX_ES_BUCKETS / (state.metrics.length * Math.max(1, iters)));
    const iterations: Array<{ iter: number; events: Record<string, unknown>[] }> = [];
    for (const iter of iterList) {
      const sorted = [...(best.get(iter)?.values() ?? [])].sort((a, b) => cmp(a.metric, b.metric) || cmp(a.variant, b.variant));
      // the variants bucket of each metric: the first maxVariants names of this iteration
      const perMetric = new Map<string, number>();
      const chosen = sorted
        .filter((ev) => {
          const n = perMetric.get(ev.metric) ?? 0;
          perMetric.set(ev.metric, n + 1);
          return n < maxVariants;
        })
        .filter(isValid);
      if (chosen.length) {
        iterations.push({ iter, events: chosen.map((e) => (this.type === 'plot' ? expandPlot(e.doc) : e.doc)) });
      }
    }
    iterations.sort((a, b) => b.iter - a.iter);
    if (iterations.length) {
      state.maxIter = iterations[0].iter;
      state.minIter = iterations[iterations.length - 1].iter;
    }
    return iterations;
  }

  /** Which event represents a variant in an iteration: highest url for images, newest for plots. */
  private better(a: StoredEvent, b: StoredEvent): boolean {
    if (this.type === 'plot') return a.timestamp > b.timestamp;
    return cmp(a.url ?? '', b.url ?? '') > 0;
  }

  private expire(nowMs: number): void {
    for (const [id, s] of this.states) if (s.expires <= nowMs) this.states.delete(id);
    // oldest first (Map keeps insertion order and fetch re-inserts on use)
    while (this.states.size >= MAX_STATES) this.states.delete(this.states.keys().next().value as string);
  }
}

function key(metric: string, variant: string): string {
  return `${metric}\u0000${variant}`;
}

function cmp(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}
