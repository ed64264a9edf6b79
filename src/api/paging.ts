/**
 * Listing tasks or models while the caller deletes what it has read.
 *
 * The server pages by offset (`page` and `scroll_id` alike, facts section 7), so "read page N, delete
 * it, read page N+1" skips a page's worth of rows each time: the bug that leaves half the tasks of a
 * pass behind in the official cleanup script. ClearML has no `id > last` filter for keyset paging,
 * and a moving date bound (`last_change >= t`) breaks on ties: archive_many stamps hundreds of tasks
 * with one timestamp, and the date filter cannot say "after this id within that timestamp".
 *
 * So we page in two phases:
 * 1. Snapshot: page through the ids only (small rows, `only_fields: ["id"]`) in a total order
 *    (the caller's order plus `id` as tie-breaker). Nothing is deleted while this runs, so offsets
 *    are stable and every matching id is read exactly once.
 * 2. Fetch: for each slice of the snapshot, ask again with the caller's filters plus `id: [slice]`.
 *    These queries do not depend on offsets, so deleting earlier slices cannot shift them; and since
 *    the filters are applied again, a task that stopped matching meanwhile (un-archived by a user,
 *    touched again) is dropped instead of deleted.
 * The price: entities that start matching after the snapshot wait for the next pass, and the ids
 * are held in memory (~40 bytes each, 4 MB for 100 000 tasks).
 */
import type { Model, Task } from '../types/clearml.js';
import type { ClearMLClient } from './client.js';
import type { ListQuery } from './endpoints/common.js';
import type { TasksGetAllRequest } from './endpoints/tasks.js';
import type { ModelsGetAllRequest } from './endpoints/models.js';

/** The server's cap on page_size. */
export const MAX_PAGE_SIZE = 500;

export interface SnapshotPagingOptions {
  /** entities per yielded page, at most 500 (default 500) */
  pageSize?: number;
  /** told how many ids the snapshot holds, before the first page is fetched (awaited) */
  onSnapshot?: (count: number) => void | Promise<void>;
}

/** Keys that drive paging; the helper sets them itself. */
const PAGING_KEYS = ['page', 'page_size', 'scroll_id', 'size', 'refresh_scroll'];

type Lister<E> = (query: ListQuery) => Promise<E[]>;

/** Pages of entities matching `query`, safe against the caller deleting each page. */
export async function* iterateSnapshotPages<E extends { id: string }>(
  list: Lister<E>,
  query: ListQuery,
  opts: SnapshotPagingOptions = {},
): AsyncGenerator<E[], void, undefined> {
  const pageSize = Math.max(1, Math.min(MAX_PAGE_SIZE, opts.pageSize ?? MAX_PAGE_SIZE));
  const filters: ListQuery = {};
  for (const [k, v] of Object.entries(query)) if (!PAGING_KEYS.includes(k)) filters[k] = v;

  const ids = await snapshotIds(list, filters);
  await opts.onSnapshot?.(ids.length);

  const { order_by: _order, ...refetchFilters } = filters;
  for (let i = 0; i < ids.length; i += pageSize) {
    const slice = ids.slice(i, i + pageSize);
    const rows = await list({ ...refetchFilters, id: slice, page: 0, page_size: slice.length });
    const byId = new Map(rows.map((r) => [r.id, r]));
    const page = slice.map((id) => byId.get(id)).filter((r): r is E => r !== undefined);
    if (page.length) yield page;
  }
}

async function snapshotIds<E extends { id: string }>(list: Lister<E>, filters: ListQuery): Promise<string[]> {
  const order = [...(filters.order_by ?? [])];
  if (!order.some((o) => o.replace(/^-/, '') === 'id')) order.push('id');
  const seen = new Set<string>();
  const ids: string[] = [];
  for (let page = 0; ; page++) {
    const rows = await list({ ...filters, only_fields: ['id'], order_by: order, page, page_size: MAX_PAGE_SIZE });
    // Stop on an empty page, not a short one: a server with a lower cap than ours would end early.
    if (rows.length === 0) break;
    let fresh = 0;
    for (const r of rows) {
      if (!seen.has(r.id)) {
        seen.add(r.id);
        ids.push(r.id);
        fresh++;
      }
    }
    if (fresh === 0) break; // a server that ignores `page` would loop forever
  }
  return ids;
}

export function iterateTaskPages(
  client: Pick<ClearMLClient, 'tasks'>,
  query: TasksGetAllRequest,
  opts?: SnapshotPagingOptions,
): AsyncGenerator<Task[], void, undefined> {
  return iterateSnapshotPages<Task>(async (q) => (await client.tasks.getAll(q)).tasks, query, opts);
}

export async function* iterateTasks(
  client: Pick<ClearMLClient, 'tasks'>,
  query: TasksGetAllRequest,
  opts?: SnapshotPagingOptions,
): AsyncGenerator<Task, void, undefined> {
  for await (const page of iterateTaskPages(client, query, opts)) yield* page;
}

export function iterateModelPages(
  client: Pick<ClearMLClient, 'models'>,
  query: ModelsGetAllRequest,
  opts?: SnapshotPagingOptions,
): AsyncGenerator<Model[], void, undefined> {
  return iterateSnapshotPages<Model>(async (q) => (await client.models.getAll(q)).models, query, opts);
}

export async function* iterateModels(
  client: Pick<ClearMLClient, 'models'>,
  query: ModelsGetAllRequest,
  opts?: SnapshotPagingOptions,
): AsyncGenerator<Model, void, undefined> {
  for await (const page of iterateModelPages(client, query, opts)) yield* page;
}
