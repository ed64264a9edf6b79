import { ApiFault } from '../api/fault.js';
import { dateMs, parseDateLoose } from '../util/time.js';
import { valuesAt } from './paths.js';

export type Predicate = (doc: any) => boolean;

type Context = 'any' | 'all';

/**
 * List-field filters with the real server's semantics (every list field: tags, system_tags, id,
 * status, project...): values are any-of by default; "__$all"/"__$and" and "__$any"/"__$or" switch
 * the context for the following values and the first operator seen also combines the groups;
 * "__$not x" excludes x; a leading "-" excludes too until the first operator ("__$nop" resets);
 * null means "empty or missing". Groups: in (any-of includes), all (all-of includes), nin (excludes).
 */
export function listPredicate(field: string, data: unknown): Predicate | undefined {
  const list = Array.isArray(data) ? data : [data];
  let legacy = true;
  let context: Context = 'any';
  let globalOp: Context | undefined;
  let negate = false;
  let allowEmpty = false;
  const groups = { in: [] as string[], all: [] as string[], nin: [] as string[] };
  for (const v of list) {
    if (v === null || v === undefined) {
      negate = false;
      allowEmpty = true;
      continue;
    }
    if (typeof v !== 'string') {
      throw new ApiFault(400, 16, `Invalid value for fields (invalid value type, string expected: ${field})`, { field });
    }
    if (v === '__$nop') {
      negate = false;
      context = 'any';
      legacy = true;
      continue;
    }
    if (v.startsWith('__$')) {
      if (negate) throw new ApiFault(400, 16, `Invalid value for fields (value expected after __$not: ${field})`, { field });
      if (v === '__$not') { negate = true; continue; }
      const op = v === '__$all' || v === '__$and' ? 'all' : v === '__$any' || v === '__$or' ? 'any' : undefined;
      if (!op) throw new ApiFault(400, 16, `Invalid value for fields (unsupported operator ${v})`, { field, operator: v });
      context = op;
      legacy = false;
      globalOp ??= op;
      continue;
    }
    globalOp ??= 'all';
    let value = v;
    let include = true;
    if (negate) {
      include = false;
      negate = false;
    } else if (legacy && v.startsWith('-')) {
      value = v.slice(1);
      if (!value) throw new ApiFault(400, 16, `Invalid value for fields (missing value after -: ${field})`, { field });
      include = false;
    }
    if (!include) groups.nin.push(value);
    else if (context === 'all') groups.all.push(value);
    else groups.in.push(value);
  }
  if (negate) throw new ApiFault(400, 16, `Invalid value for fields (value expected after __$not: ${field})`, { field });
  const checks: Predicate[] = [];
  const has = (doc: any) => new Set(valuesAt(doc, field).filter((x) => x !== null && x !== undefined).map(String));
  if (groups.in.length) checks.push((d) => { const h = has(d); return groups.in.some((x) => h.has(x)); });
  if (groups.all.length) checks.push((d) => { const h = has(d); return groups.all.every((x) => h.has(x)); });
  if (groups.nin.length) checks.push((d) => { const h = has(d); return groups.nin.every((x) => !h.has(x)); });
  if (!checks.length && !allowEmpty) return undefined;
  const combined: Predicate = !checks.length
    ? () => false
    : (globalOp ?? 'all') === 'all'
      ? (d) => checks.every((c) => c(d))
      : (d) => checks.some((c) => c(d));
  if (!allowEmpty) return combined;
  return (d) => has(d).size === 0 || combined(d);
}

/** Pattern fields (name, comment...): an unanchored, case-sensitive regex (Python re.escape output works without the u flag). */
export function regexPredicate(field: string, pattern: unknown, flags = ''): Predicate | undefined {
  if (typeof pattern !== 'string' || pattern === '') return undefined;
  let re: RegExp;
  try {
    re = new RegExp(pattern, flags);
  } catch {
    throw new ApiFault(400, 21, `Malformed regular expression for ${field}`, { field, pattern });
  }
  return (doc) => valuesAt(doc, field).some((v) => typeof v === 'string' && re.test(v));
}

/** `_any_` / `_all_`: {pattern, fields[]}, case-insensitive, in any (all) of the fields. */
export function patternPredicate(spec: unknown, mode: 'any' | 'all'): Predicate | undefined {
  if (!spec || typeof spec !== 'object') return undefined;
  const { pattern, fields } = spec as { pattern?: unknown; fields?: unknown };
  if (typeof pattern !== 'string' || !pattern || !Array.isArray(fields) || !fields.length) return undefined;
  const preds = fields.filter((f): f is string => typeof f === 'string').map((f) => regexPredicate(f, pattern, 'i')!);
  return mode === 'any' ? (doc) => preds.some((p) => p(doc)) : (doc) => preds.every((p) => p(doc));
}

function compareValue(a: unknown, b: unknown): number {
  if (typeof a === 'number' && typeof b === 'number') return a - b;
  const am = typeof a === 'string' ? dateMs(a) : undefined;
  const bm = typeof b === 'string' ? parseDateLoose(b) : undefined;
  if (am !== undefined && bm !== undefined) return am - bm;
  const x = String(a);
  const y = String(b);
  return x < y ? -1 : x > y ? 1 : 0;
}

/** Range fields (created, started, last_iteration...): exactly [min, max], both inclusive; a null min also matches unset. */
export function rangePredicate(field: string, data: unknown): Predicate | undefined {
  if (!Array.isArray(data) || data.length !== 2) {
    throw new ApiFault(400, 12, `Validation error (min and max values should be specified for range field ${field})`, { field });
  }
  const [min, max] = data;
  if ((min === null || min === undefined) && (max === null || max === undefined)) {
    throw new ApiFault(400, 12, `Validation error (at least one of min or max values should be provided for field ${field})`, { field });
  }
  return (doc) => {
    const v = valuesAt(doc, field)[0];
    if (v === null || v === undefined) return min === null || min === undefined;
    if (min !== null && min !== undefined && compareValue(v, min) < 0) return false;
    if (max !== null && max !== undefined && compareValue(v, max) > 0) return false;
    return true;
  };
}

const OPS = ['>=', '<=', '>', '<'] as const;

/**
 * Date fields (status_changed, last_update, last_change): ["<2024-05-01T00:00:00"], [">=a", "<b"],
 * a plain value means equality, and two plain values are a [min, max] range. A value that does not
 * parse drops that condition, as the real server does (so the rest may match everything).
 */
export function datePredicate(field: string, value: unknown): Predicate | undefined {
  if (value === undefined || value === null) return undefined;
  const list = Array.isArray(value) ? value : [value];
  const prefixed = (v: unknown) => typeof v === 'string' && OPS.some((o) => v.startsWith(o));
  if (list.length === 2 && !list.some(prefixed)) {
    const [a, b] = list.map((v) => (typeof v === 'string' ? v : null));
    return rangePredicate(field, [a, b]);
  }
  const conds: Array<{ op: (typeof OPS)[number] | '='; ms: number }> = [];
  for (const v of list) {
    if (typeof v !== 'string') continue;
    const op = OPS.find((o) => v.startsWith(o));
    const ms = parseDateLoose(op ? v.slice(op.length) : v);
    if (ms !== undefined) conds.push({ op: op ?? '=', ms });
  }
  if (!conds.length) return undefined;
  return (doc) => {
    const ms = dateMs(valuesAt(doc, field)[0]);
    if (ms === undefined) return false;
    return conds.every(({ op, ms: x }) =>
      op === '<' ? ms < x : op === '<=' ? ms <= x : op === '>' ? ms > x : op === '>=' ? ms >= x : ms === x,
    );
  };
}

/** Plain equality (e.g. models `ready`, tasks `runtime.*`). */
export function equalsPredicate(field: string, value: unknown): Predicate {
  return (doc) => {
    const have = valuesAt(doc, field);
    if (Array.isArray(value)) return have.some((h) => value.some((v) => v === h || String(v) === String(h)));
    return have.some((h) => h === value || String(h) === String(value));
  };
}
