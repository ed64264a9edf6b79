/**
 * Reading a task's events to the end. The SDK stops after about 100 debug-image URLs and leaves the
 * remaining files on disk; the cleanup needs all of them. Event scrolls are not affected by our deletes
 * (events are deleted with the task, after they were read).
 */
import { createHash } from 'node:crypto';
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
 * batches reach `total`, the server returns no scroll id, or a batch comes again that was already
 * returned (a server that starts over, see scrollTaskEvents). Batches may be larger than asked
 * (the server returns all events of the last iteration together), so size is not an end signal.
 */
export async function* scrollAll<T>(
  fetch: (scrollId: string | undefined) => Promise<ScrollPage<T>>,
  opts: ScrollOptions = {},
): AsyncGenerator<T[], void, undefined> {
  const maxBatches = opts.maxBatches ?? 100_000;
  let scrollId: string | undefined;
  let seen = 0;
  const batches = new Set<string>();
  for (let n = 0; n < maxBatches; n++) {
    const page = await fetch(scrollId);
    if (page.items.length === 0) return;
    const sig = createHash('sha1').update(JSON.stringify(page.items)).digest('base64');
    if (batches.has(sig)) return;
    batches.add(sig);
    seen += page.items.length;
    yield page.items;
    if (typeof page.total === 'number' && seen >= page.total) return;
    if (!page.scrollId) return;
    scrollId = page.scrollId;
  }
}

/**
 * Batches of events.get_task_events, e.g. every debug image of a task; newest iteration first.
 * Why descending: the real server keeps the last iteration of a batch in the scroll id and treats
 * iteration 0 as "no position" (apiserver/bll/event/events_iterator.py), so after a batch that ends
 * at iteration 0 it starts over. Ascending, a task with more than a batch of events at iteration 0
 * would never get past them; descending, iteration 0 comes last, and `total` ends the scroll there.
 */
export function scrollTaskEvents(
  client: Pick<ClearMLClient, 'events'>,
  req: Omit<GetTaskEventsRequest, 'scroll_id'>,
  opts?: ScrollOptions & { batchSize?: number },
): AsyncGenerator<TaskEvent[], void, undefined> {
  const base: GetTaskEventsRequest = { order: 'desc', ...req, batch_size: opts?.batchSize ?? req.batch_size ?? 500 };
  return scrollAll<TaskEvent>(async (scrollId) => {
    const r = await client.events.getTaskEvents(scrollId ? { ...base, scroll_id: scrollId } : base);
    return { items: r.events ?? [], total: r.total, scrollId: r.scroll_id };
  }, opts);
}
