/**
 * Reading a task's events to the end. The SDK stops after about 100 debug-image URLs and leaves the
 * remaining files on disk; the cleanup needs all of them. Event scrolls are not affected by our deletes
 * (events are deleted with the task, after they were read).
 */
import type { TaskEvent } from '../types/clearml.js';
import type { ClearMLClient } from './client.js';
import type { GetTaskEventsRequest } from './endpoints/events.js';

export interface ScrollPage<T> {
  items: T[];
  total?: number;
  scrollId?: string | null;
}

export interface ScrollOptions {
  /** safety stop against a server that never ends a scroll (default 100 000 batches) */
  maxBatches?: number;
}

/**
 * Generic scroll: calls `fetch(scrollId)` (undefined first) until a batch is empty, the summed
 * batches reach `total`, or the server returns no scroll id. Batches may be larger than asked
 * (the server returns all events of the last iteration together), so size is not an end signal.
 */
export async function* scrollAll<T>(
  fetch: (scrollId: string | undefined) => Promise<ScrollPage<T>>,
  opts: ScrollOptions = {},
): AsyncGenerator<T[], void, undefined> {
  const maxBatches = opts.maxBatches ?? 100_000;
  let scrollId: string | undefined;
  let seen = 0;
  for (let n = 0; n < maxBatches; n++) {
    const page = await fetch(scrollId);
    if (page.items.length === 0) return;
    seen += page.items.length;
    yield page.items;
    if (typeof page.total === 'number' && seen >= page.total) return;
    if (!page.scrollId) return;
    scrollId = page.scrollId;
  }
}

/** Batches of events.get_task_events (ascending), e.g. every debug image of a task. */
export function scrollTaskEvents(
  client: Pick<ClearMLClient, 'events'>,
  req: Omit<GetTaskEventsRequest, 'scroll_id'>,
  opts?: ScrollOptions & { batchSize?: number },
): AsyncGenerator<TaskEvent[], void, undefined> {
  const base: GetTaskEventsRequest = { order: 'asc', ...req, batch_size: opts?.batchSize ?? req.batch_size ?? 500 };
  return scrollAll<TaskEvent>(async (scrollId) => {
    const r = await client.events.getTaskEvents(scrollId ? { ...base, scroll_id: scrollId } : base);
    return { items: r.events ?? [], total: r.total, scrollId: r.scroll_id };
  }, opts);
}
