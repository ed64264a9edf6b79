import type { EventsStore } from '../../store/events-store.js';
import type { ServerState } from '../../api/service.js';
import { ApiFault } from '../../api/fault.js';
import { metricFilters, optionalInt, requiredString } from './request.js';

/** The scalar and vector views of the UI, kept simple: averages per iteration, latest values. */

type Series = { name: string; x: Array<number | string>; y: number[] };

/** events.scalar_metrics_iter_histogram -> {metric: {variant: {name, x, y}}} */
export function scalarHistogram(store: EventsStore, body: Record<string, unknown>): Record<string, Record<string, Series>> {
  const task = requiredString(body, 'task');
  const samples = optionalInt(body, 'samples', 2000);
  if (samples < 1 || samples > 6000) throw new ApiFault(400, 12, 'Validation error (samples must be 1..6000)');
  const key = typeof body.key === 'string' ? body.key : 'iter';
  if (!['iter', 'timestamp', 'iso_time'].includes(key)) throw new ApiFault(400, 12, `Validation error (invalid key ${key})`);
  const metrics = metricFilters(body);
  const out: Record<string, Record<string, Series>> = {};
  const put = (metric: string, variant: string): Series => {
    out[metric] ??= {};
    return (out[metric][variant] ??= { name: variant, x: [], y: [] });
  };

  if (key === 'iter') {
    const rows = store.scalarAverages({ tasks: [task], metrics, modelEvents: false });
    const groups = new Map<string, typeof rows>();
    for (const r of rows) {
      const k = `${r.metric}\u0000${r.variant}`;
      (groups.get(k) ?? groups.set(k, []).get(k)!).push(r);
    }
    for (const list of groups.values()) {
      const s = put(list[0].metric, list[0].variant);
      const span = list[list.length - 1].iter - list[0].iter + 1;
      const interval = list.length > samples ? Math.ceil(span / samples) : 1;
      if (interval === 1) {
        for (const r of list) {
          s.x.push(r.iter);
          s.y.push(r.avg);
        }
        continue;
      }
      // buckets of `interval` iterations keyed by their first iteration, like a histogram
      let bucket: number | null = null;
      let sum = 0;
      let n = 0;
      const flush = () => {
        if (bucket !== null && n) {
          s.x.push(bucket);
          s.y.push(sum / n);
        }
      };
      for (const r of list) {
        const b = Math.floor(r.iter / interval) * interval;
        if (b !== bucket) {
          flush();
          bucket = b;
          sum = 0;
          n = 0;
        }
        sum += r.avg;
        n += 1;
      }
      flush();
    }
    return out;
  }

  for (const ev of store.all({ tasks: [task], type: 'training_stats_scalar', metrics, modelEvents: false }, 200_000)) {
    const s = put(ev.metric, ev.variant);
    s.x.push(key === 'timestamp' ? ev.timestamp : new Date(ev.timestamp).toISOString());
    s.y.push(Number(ev.doc.value));
  }
  return out;
}

/** events.get_scalar_metrics_and_variants / get_vector_metrics_and_variants -> {metrics: {metric: [variants]}} */
export function metricsAndVariants(store: EventsStore, body: Record<string, unknown>, type: string) {
  const task = requiredString(body, 'task');
  return { metrics: Object.fromEntries(store.metricVariants({ tasks: [task], type, modelEvents: false })) };
}

/** events.get_task_latest_scalar_values */
export function latestScalarValues(store: EventsStore, state: ServerState, body: Record<string, unknown>) {
  const taskId = requiredString(body, 'task');
  const task = state.getTask(taskId);
  if (!task) throw new ApiFault(400, 101, `Invalid task id: ids=["${taskId}"]`, { ids: [taskId] });
  const metrics: Array<{ name: string; variants: Array<{ name: string; last_value: number; last_10_value: number }> }> = [];
  let lastTimestamp = 0;
  for (const r of store.latestScalars(taskId)) {
    let m = metrics[metrics.length - 1];
    if (!m || m.name !== r.metric) metrics.push((m = { name: r.metric, variants: [] }));
    // the real server reports the newest value under both names
    m.variants.push({ name: r.variant, last_value: r.value, last_10_value: r.value });
    const written = r.written ? Date.parse(r.written) : NaN;
    if (Number.isFinite(written)) lastTimestamp = Math.max(lastTimestamp, written);
  }
  return { metrics, last_iter: store.lastIter(taskId) ?? 0, name: task.name, status: task.status, last_timestamp: lastTimestamp };
}

/** events.vector_metrics_iter_histogram -> {metric, variant, vectors, iterations} */
export function vectorHistogram(store: EventsStore, body: Record<string, unknown>) {
  const task = requiredString(body, 'task');
  const metric = requiredString(body, 'metric');
  const variant = requiredString(body, 'variant');
  const events = store.all(
    { tasks: [task], type: 'training_stats_vector', metrics: [{ metric, variants: [variant] }], modelEvents: false },
    10_000,
  );
  return {
    metric,
    variant,
    vectors: events.map((e) => e.doc.value),
    iterations: events.map((e) => e.iter),
  };
}
