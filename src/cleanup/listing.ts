/** Paged reads of get_all endpoints. */
import type { Api } from './ports.js';

export const PAGE_SIZE = 500;

/**
 * Every row of a get_all query, page by page. Stops on an empty page rather than a short one, so a
 * server with a lower page cap than ours cannot end the listing early; a server that ignores `page`
 * is caught by the no-new-rows check.
 */
export async function listAll<R extends { id: string }>(
  api: Api,
  endpoint: string,
  body: Record<string, unknown>,
  key: string,
): Promise<R[]> {
  const out: R[] = [];
  await forEachPage<R>(api, endpoint, body, key, (rows) => {
    out.push(...rows);
  });
  return out;
}

/** The same listing, handed over page by page (only new rows), so a caller can keep what it needs. */
export async function forEachPage<R extends { id: string }>(
  api: Api,
  endpoint: string,
  body: Record<string, unknown>,
  key: string,
  onPage: (rows: R[]) => void,
): Promise<void> {
  const seen = new Set<string>();
  for (let page = 0; ; page++) {
    const data = await api.call<Record<string, unknown>>(endpoint, { ...body, page, page_size: PAGE_SIZE });
    const rows = checkedRows<R>(endpoint, data, key);
    const fresh: R[] = [];
    for (const r of rows) {
      if (!seen.has(r.id)) {
        seen.add(r.id);
        fresh.push(r);
      }
    }
    if (fresh.length) onPage(fresh);
    if (rows.length === 0 || fresh.length === 0) break;
    // A filter by a list of ids can never yield more rows than ids: skip the confirming empty page.
    const ids = body.id;
    if (Array.isArray(ids) && seen.size >= ids.length) break;
  }
}

/** A server answer the engine cannot trust; the pass stops (or the batch waits) and nothing is deleted on it. */
export class BadAnswerError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'BadAnswerError';
  }
}

/**
 * The rows of a get_all answer, or a BadAnswerError: reading "no tasks" from an answer without a
 * list, or guessing around rows without ids, would be a silent failure of the whole cleanup.
 */
export function checkedRows<R extends { id: string }>(endpoint: string, data: unknown, key: string): R[] {
  const rows = data && typeof data === 'object' ? (data as Record<string, unknown>)[key] : undefined;
  if (!Array.isArray(rows)) {
    const what = rows === undefined ? `has no "${key}"` : `has "${key}" as ${rows === null ? 'null' : typeof rows}, not a list`;
    throw new BadAnswerError(`${endpoint} answer ${what}: not a ClearML server answer we can trust`);
  }
  if (rows.length > PAGE_SIZE) {
    throw new BadAnswerError(
      `${endpoint} returned ${rows.length} rows for page_size ${PAGE_SIZE}: the server ignores paging (or is not ClearML)`,
    );
  }
  rows.forEach((r, i) => {
    const id = r && typeof r === 'object' ? (r as { id?: unknown }).id : undefined;
    if (typeof id !== 'string' || !id) {
      throw new BadAnswerError(`${endpoint} answer: ${key}[${i}].id is ${id === undefined ? 'missing' : `not a string (${typeof id})`}`);
    }
  });
  return rows as R[];
}

/** listAll over a long list of filter values, PAGE_SIZE values per query. */
export async function listAllChunked<R extends { id: string }>(
  api: Api,
  endpoint: string,
  body: Record<string, unknown>,
  key: string,
  field: string,
  values: string[],
): Promise<R[]> {
  const out: R[] = [];
  const seen = new Set<string>();
  for (let i = 0; i < values.length; i += PAGE_SIZE) {
    const rows = await listAll<R>(api, endpoint, { ...body, [field]: values.slice(i, i + PAGE_SIZE) }, key);
    for (const r of rows) if (!seen.has(r.id)) (seen.add(r.id), out.push(r));
  }
  return out;
}

export function chunks<T>(items: T[], size: number): T[][] {
  const out: T[][] = [];
  for (let i = 0; i < items.length; i += size) out.push(items.slice(i, i + size));
  return out;
}
