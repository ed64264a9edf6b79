import { ApiFault } from '../api/fault.js';
import {
  datePredicate, equalsPredicate, listPredicate, patternPredicate, rangePredicate, regexPredicate, type Predicate,
} from './filters.js';
import { project, valueAt } from './paths.js';
import type { ScrollStates } from './scroll-states.js';

export const MAX_PAGE_SIZE = 500;

/** Which request keys filter which way, per entity (the real server's QueryParameterOptions). */
export interface QuerySpec {
  /** unanchored regex fields, e.g. name */
  patternFields: string[];
  /** list filters (tags, ids, statuses...); "x.*" matches every key with that prefix */
  listFields: string[];
  /** [min, max] ranges */
  rangeFields: string[];
  /** "<date", ">=date"... conditions */
  dateFields: string[];
  /** plain equality */
  equalityFields?: string[];
  /** extra predicates computed by the service (hidden, subprojects...) */
  extra?: Predicate[];
  /** list fields the collection indexes (request key -> index name): a plain value list reads only the matches */
  indexedFields?: Record<string, string>;
}

/** What runQuery can use besides a scan: lookups by id and by an index. */
export interface QuerySource<T> extends Iterable<T> {
  get?(id: string): T | undefined;
  select?(ids: Iterable<string>): T[];
  hasIndex?(name: string): boolean;
  lookupAny?(name: string, keys: Iterable<string>): T[];
}

/** A list filter that only includes plain values (no "-x", "__$..." or null): its matches carry one of them. */
function plainValues(v: unknown): string[] | undefined {
  const list = Array.isArray(v) ? v : [v];
  if (!list.length) return undefined;
  for (const x of list) if (typeof x !== 'string' || !x || x.startsWith('-') || x.startsWith('__$')) return undefined;
  return list as string[];
}

/**
 * The documents worth testing: those with a requested id, or holding a requested value of an indexed
 * field, in collection order; the whole collection otherwise. Every predicate still runs on them,
 * so this only saves the scan (a pass asks for models of 500 tasks at a time among hundreds of thousands).
 */
function candidatesFor<T>(docs: QuerySource<T>, body: Record<string, any>, spec: QuerySpec): Iterable<T> {
  const ids = body.id === undefined || body.id === null ? undefined : plainValues(body.id);
  if (ids && docs.select) return docs.select(ids);
  for (const [field, index] of Object.entries(spec.indexedFields ?? {})) {
    const keys = body[field] === undefined || body[field] === null ? undefined : plainValues(body[field]);
    if (keys && docs.lookupAny && docs.hasIndex?.(index)) return docs.lookupAny(index, keys);
  }
  return docs;
}

export interface QueryResult {
  items: Record<string, unknown>[];
  /** present when the call scrolls */
  scroll_id?: string;
}

/** Request keys matching a field spec ("x.*" is a prefix); nulls are not filters. */
function matching(body: Record<string, any>, specs: string[]): Array<[string, unknown]> {
  const out: Array<[string, unknown]> = [];
  for (const spec of specs) {
    if (spec.endsWith('*')) {
      const prefix = spec.slice(0, -1);
      for (const k of Object.keys(body)) if (k.startsWith(prefix) && body[k] !== null && body[k] !== undefined) out.push([k, body[k]]);
    } else if (body[spec] !== null && body[spec] !== undefined) {
      out.push([spec, body[spec]]);
    }
  }
  return out;
}

export function buildPredicates(body: Record<string, any>, spec: QuerySpec): Predicate[] {
  const preds: Predicate[] = [];
  const add = (p: Predicate | undefined) => p && preds.push(p);
  for (const [f, v] of matching(body, spec.patternFields)) if (v) add(regexPredicate(f, v));
  for (const [f, v] of matching(body, spec.listFields)) add(listPredicate(f, v));
  for (const [f, v] of matching(body, spec.rangeFields)) add(rangePredicate(f, v));
  for (const [f, v] of matching(body, spec.equalityFields ?? [])) add(equalsPredicate(f, v));
  for (const f of spec.dateFields) add(datePredicate(f, body[f]));
  for (const key of ['_any_', '_or_'] as const) add(patternPredicate(body[key], 'any'));
  for (const key of ['_all_', '_and_'] as const) add(patternPredicate(body[key], 'all'));
  preds.push(...(spec.extra ?? []));
  return preds;
}

function compare(a: unknown, b: unknown): number {
  const an = a === undefined || a === null;
  const bn = b === undefined || b === null;
  if (an || bn) return an && bn ? 0 : an ? -1 : 1;
  if (typeof a === 'number' && typeof b === 'number') return a - b;
  const x = typeof a === 'string' ? a : JSON.stringify(a);
  const y = typeof b === 'string' ? b : JSON.stringify(b);
  return x < y ? -1 : x > y ? 1 : 0;
}

/** order_by ("-" for descending); like the real server, id is appended as the final tie-breaker. */
export function sortDocs<T>(docs: T[], orderBy: unknown): T[] {
  const keys = (Array.isArray(orderBy) ? orderBy : typeof orderBy === 'string' ? [orderBy] : [])
    .filter((k): k is string => typeof k === 'string' && k.length > 0)
    .map((k) => (k.startsWith('-') ? { path: k.slice(1), dir: -1 } : { path: k.replace(/^\+/, ''), dir: 1 }));
  if (!keys.length) return docs;
  if (!keys.some((k) => k.path === 'id')) keys.push({ path: 'id', dir: 1 });
  // keys computed once per document, not once per comparison
  const rows = docs.map((doc) => ({ doc, vals: keys.map((k) => valueAt(doc, k.path)) }));
  rows.sort((a, b) => {
    for (let j = 0; j < keys.length; j++) {
      const c = compare(a.vals[j], b.vals[j]);
      if (c) return c * keys[j].dir;
    }
    return 0;
  });
  for (let i = 0; i < rows.length; i++) docs[i] = rows[i].doc;
  return docs;
}

function intParam(v: unknown, name: string): number | undefined {
  if (v === undefined || v === null || v === '') return undefined;
  const n = Number(v);
  if (!Number.isInteger(n)) throw new ApiFault(400, 12, `Validation error (${name} must be an integer)`, { field: name });
  return n;
}

/**
 * Filter, order, page or scroll, and project documents like the real *.get_all calls:
 * page defaults to 0 and page_size to 500 (also the cap); the body key scroll_id (even null) scrolls.
 */
export function runQuery<T extends object>(
  docs: QuerySource<T>,
  body: Record<string, any>,
  spec: QuerySpec,
  scrolls: ScrollStates,
): QueryResult {
  const preds = buildPredicates(body, spec);
  const matched: T[] = [];
  // status polls ask for one id every few seconds: no scan for that
  const single = Array.isArray(body.id) && body.id.length === 1 ? body.id[0] : typeof body.id === 'string' ? body.id : undefined;
  const candidates: Iterable<T> =
    docs.get && typeof single === 'string' && !single.startsWith('-') && !single.startsWith('__$')
      ? [docs.get(single)].filter((d): d is T => d !== undefined)
      : candidatesFor(docs, body, spec);
  for (const d of candidates) if (preds.every((p) => p(d))) matched.push(d);
  sortDocs(matched, body.order_by);

  let slice: T[];
  let scrollId: string | undefined;
  if ('scroll_id' in body) {
    const size = intParam(body.size, 'size');
    if (!size || size < 1) {
      throw new ApiFault(400, 12, 'Validation error (integer size parameter greater than 1 should be provided when working with scroll)');
    }
    const state = scrolls.open(body.scroll_id);
    if (body.refresh_scroll === true || body.refresh_scroll === 'true') {
      slice = matched.slice(0, Math.max(state.position, size));
    } else {
      slice = matched.slice(state.position, state.position + size);
    }
    const start = body.refresh_scroll === true || body.refresh_scroll === 'true' ? 0 : state.position;
    scrolls.save(state.id, start + slice.length);
    scrollId = state.id;
  } else {
    const page = intParam(body.page, 'page') ?? 0;
    const pageSize = intParam(body.page_size, 'page_size') ?? MAX_PAGE_SIZE;
    if (page < 0) throw new ApiFault(400, 12, 'Validation error (page must be >=0)', { field: 'page' });
    if (pageSize < 1) throw new ApiFault(400, 12, 'Validation error (page_size must be >0)', { field: 'page_size' });
    const size = Math.min(pageSize, MAX_PAGE_SIZE);
    slice = matched.slice(page * size, page * size + size);
  }
  const fields = Array.isArray(body.only_fields) ? (body.only_fields as string[]) : undefined;
  return { items: slice.map((d) => project(d, fields)), scroll_id: scrollId };
}
