import { ApiFault } from '../api/fault.js';
import { datePredicate, inListPredicate, patternPredicate, regexPredicate, tagsPredicate, type Predicate } from './filters.js';
import { project, valueAt } from './paths.js';

export const MAX_PAGE_SIZE = 500;

export interface QuerySpec {
  /** fields compared against a list of values (Mongo $in) */
  listFields: string[];
  dateFields: string[];
  /** extra predicates computed by the service (hidden, subprojects...) */
  extra?: Predicate[];
}

export interface QueryResult {
  items: Record<string, unknown>[];
  /** present when the call scrolls */
  scroll_id?: string;
  total: number;
}

export function buildPredicates(body: Record<string, any>, spec: QuerySpec): Predicate[] {
  const preds: Predicate[] = [];
  const add = (p: Predicate | undefined) => p && preds.push(p);
  add(regexPredicate('name', body.name));
  add(patternPredicate(body._any_, 'any'));
  add(patternPredicate(body._all_, 'all'));
  add(tagsPredicate('system_tags', body.system_tags));
  add(tagsPredicate('tags', body.tags));
  for (const f of spec.listFields) if (body[f] !== undefined && body[f] !== null) add(inListPredicate(f, body[f]));
  for (const f of spec.dateFields) add(datePredicate(f, body[f]));
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

export function sortDocs<T>(docs: T[], orderBy: unknown): T[] {
  const keys = (Array.isArray(orderBy) ? orderBy : typeof orderBy === 'string' ? [orderBy] : [])
    .filter((k): k is string => typeof k === 'string' && k.length > 0)
    .map((k) => (k.startsWith('-') ? { path: k.slice(1), dir: -1 } : { path: k.replace(/^\+/, ''), dir: 1 }));
  if (!keys.length) return docs;
  // keys computed once per document, not once per comparison
  const rows = docs.map((doc, i) => ({ doc, i, vals: keys.map((k) => valueAt(doc, k.path)) }));
  rows.sort((a, b) => {
    for (let j = 0; j < keys.length; j++) {
      const c = compare(a.vals[j], b.vals[j]);
      if (c) return c * keys[j].dir;
    }
    return a.i - b.i;
  });
  for (let i = 0; i < rows.length; i++) docs[i] = rows[i].doc;
  return docs;
}

/** Scroll ids are self-contained offsets (the real server keeps an offset too, so rows can be skipped). */
function encodeScroll(offset: number): string {
  return Buffer.from(JSON.stringify({ o: offset })).toString('hex');
}

function decodeScroll(id: string): number {
  try {
    const v = JSON.parse(Buffer.from(id, 'hex').toString('utf8'));
    if (Number.isInteger(v?.o) && v.o >= 0) return v.o;
  } catch {
    /* fall through */
  }
  throw new ApiFault(400, 1104, 'Invalid scroll id', { scroll_id: id });
}

function toInt(v: unknown): number | undefined {
  if (v === undefined || v === null || v === '') return undefined;
  const n = Number(v);
  if (!Number.isFinite(n) || n < 0) throw new ApiFault(400, 12, 'Validation error (invalid paging value)');
  return Math.floor(n);
}

/** Filter, order, page or scroll, and project documents like the real *.get_all calls. */
export function runQuery<T extends object>(docs: Iterable<T>, body: Record<string, any>, spec: QuerySpec): QueryResult {
  const preds = buildPredicates(body, spec);
  const matched: T[] = [];
  for (const d of docs) if (preds.every((p) => p(d))) matched.push(d);
  sortDocs(matched, body.order_by);
  const total = matched.length;

  let slice: T[];
  let scrollId: string | undefined;
  if ('scroll_id' in body) {
    const size = Math.min(toInt(body.size) ?? toInt(body.page_size) ?? MAX_PAGE_SIZE, MAX_PAGE_SIZE) || MAX_PAGE_SIZE;
    const start = body.scroll_id ? decodeScroll(String(body.scroll_id)) : 0;
    if (body.refresh_scroll && body.scroll_id) {
      slice = matched.slice(0, start);
      scrollId = encodeScroll(start);
    } else {
      slice = matched.slice(start, start + size);
      scrollId = encodeScroll(start + slice.length);
    }
  } else {
    const page = toInt(body.page);
    let pageSize = toInt(body.page_size);
    if (pageSize !== undefined) pageSize = Math.min(pageSize, MAX_PAGE_SIZE);
    if (page !== undefined || pageSize !== undefined) {
      const size = pageSize ?? MAX_PAGE_SIZE;
      const start = (page ?? 0) * size;
      slice = matched.slice(start, start + size);
    } else {
      slice = matched;
    }
  }
  const fields = Array.isArray(body.only_fields) ? (body.only_fields as string[]) : undefined;
  return { items: slice.map((d) => project(d, fields)), scroll_id: scrollId, total };
}
