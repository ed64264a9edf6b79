/**
 * Every debug-image and plot-image URL of a batch of tasks, in few calls:
 * events.get_task_metrics (which tasks have any) + the multi-task events.debug_images / events.plots
 * scrolled until no task returns another iteration. Servers without the multi-task forms get the
 * per-task events.get_task_events scroll, followed to the very end (the SDK stops at ~100 URLs).
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

/** Server-side bucket budget of one multi-task call (ES aggregation size), see metricsPerCall. */
const BUCKET_BUDGET = 10_000;
/** Variants per metric we want room for in that budget. */
const VARIANTS_ALLOWANCE = 50;
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
    const sig = createHash('sha1').update(JSON.stringify(batch)).digest('hex');
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
}

export function newScanState(): EventScanState {
  return { multi: { debug: true, plot: true } };
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

/** task id -> number of metrics with events of this kind; undefined when the server lacks the call. */
async function tasksWithEvents(api: Api, taskIds: string[], kind: EventKind): Promise<Map<string, number> | undefined> {
  try {
    const data = await api.call<{ metrics?: Array<{ task: string; metrics?: unknown[] }> }>('events.get_task_metrics', {
      tasks: taskIds,
      event_type: EVENT_TYPE[kind],
    });
    if (!Array.isArray(data?.metrics)) return undefined;
    const out = new Map<string, number>();
    for (const m of data.metrics) if (m && Array.isArray(m.metrics) && m.metrics.length > 0) out.set(m.task, m.metrics.length);
    return out;
  } catch (err) {
    if (isUnsupported(err)) return undefined;
    throw err;
  }
}

interface MultiResponse {
  scroll_id?: string;
  metrics?: Array<{ task: string; iterations?: Array<{ iter?: number; events?: Array<Record<string, unknown>> }> }>;
}

/** One group through the multi-task form; false when the server does not support it. */
async function scanMulti(
  api: Api,
  group: string[],
  metricCounts: Map<string, number>,
  kind: EventKind,
  out: EventUrlResult,
): Promise<boolean> {
  const maxMetrics = Math.max(1, ...group.map((t) => metricCounts.get(t) ?? 1));
  // The server splits an ES bucket budget between metrics x iterations x variants; asking for too
  // many iterations at once would silently cut variants off.
  const iters = Math.max(1, Math.min(MAX_ITERS, Math.floor(BUCKET_BUDGET / (maxMetrics * VARIANTS_ALLOWANCE))));
  let scrollId: string | undefined;
  const guard = new ScrollGuard(MULTI_ENDPOINT[kind]);
  for (let n = 0; ; n++) {
    if (n >= MAX_SCROLL_CALLS) guard.tooLong(n);
    let data: MultiResponse;
    try {
      data = await api.call<MultiResponse>(MULTI_ENDPOINT[kind], {
        metrics: group.map((task) => ({ task })),
        iters,
        navigate_earlier: true,
        ...(scrollId ? { scroll_id: scrollId } : {}),
      });
    } catch (err) {
      if (n === 0 && isUnsupported(err)) return false;
      throw err;
    }
    if (!Array.isArray(data?.metrics)) {
      if (n === 0) return false;
      break;
    }
    let progressed = false;
    const batch: unknown[] = [];
    for (const m of data.metrics) {
      for (const it of m?.iterations ?? []) {
        const events = Array.isArray(it?.events) ? it.events : [];
        if (events.length) progressed = true;
        batch.push(...events);
        for (const ev of events) if (ev && typeof ev === 'object') add(out.urls, m.task, urlsOfEvent(ev, kind));
      }
    }
    if (progressed) guard.check(batch);
    if (!progressed || !data.scroll_id) break;
    scrollId = data.scroll_id;
  }
  return true;
}

/** One task through events.get_task_events, scrolled to the end. */
async function scanTask(api: Api, task: string, kind: EventKind, out: EventUrlResult): Promise<void> {
  let scrollId: string | undefined;
  const guard = new ScrollGuard(`events.get_task_events of task ${task}`);
  for (let n = 0; ; n++) {
    if (n >= MAX_SCROLL_CALLS) guard.tooLong(n);
    const data = await api.call<{ events?: unknown; scroll_id?: string; returned?: number; total?: number }>(
      'events.get_task_events',
      { task, event_type: EVENT_TYPE[kind], batch_size: 1000, order: 'asc', ...(scrollId ? { scroll_id: scrollId } : {}) },
    );
    if (data?.events !== undefined && !Array.isArray(data.events)) {
      throw new Error(`events.get_task_events of task ${task}: "events" is ${typeof data.events}, not a list`);
    }
    const events = (data?.events ?? []) as Array<Record<string, unknown>>;
    if (events.length) guard.check(events, data.total);
    for (const ev of events) if (ev && typeof ev === 'object') add(out.urls, task, urlsOfEvent(ev, kind));
    if (events.length === 0 || !data.scroll_id) break;
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

  let counts: Map<string, number> | undefined;
  try {
    counts = await limit(() => tasksWithEvents(api, taskIds, kind));
  } catch (err) {
    for (const t of taskIds) out.failed.set(t, `listing ${EVENT_TYPE[kind]} metrics failed: ${errorMessage(err)}`);
    return out;
  }
  const withEvents = counts ? taskIds.filter((t) => counts!.has(t)) : taskIds;
  const metricCounts = counts ?? new Map<string, number>();

  // a server older than the multi-task form would answer 404: do not ask it
  const features = featuresOf(await api.serverApiVersion?.());
  if (!(kind === 'plot' ? features.multiTaskPlots : features.multiTaskDebugImages)) opts.state.multi[kind] = false;
  const perTask: string[] = [];
  if (opts.state.multi[kind] && counts) {
    await Promise.all(
      chunks(withEvents, opts.tasksPerCall).map((group) =>
        limit(async () => {
          try {
            const ok = await scanMulti(api, group, metricCounts, kind, out);
            if (!ok) {
              opts.state.multi[kind] = false;
              perTask.push(...group);
            }
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
