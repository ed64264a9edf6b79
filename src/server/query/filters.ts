import { ApiFault } from '../api/fault.js';
import { dateMs, parseDateLoose } from '../util/time.js';
import { valuesAt } from './paths.js';

export type Predicate = (doc: any) => boolean;

/**
 * Tag lists: "x" includes, "-x" or "__$not x" excludes; "__$all"/"__$and" switch the following
 * terms to all-of, "__$any"/"__$or" back to any-of (the default). Groups are and-ed.
 */
export function tagsPredicate(field: string, terms: unknown): Predicate | undefined {
  const list = Array.isArray(terms) ? terms : terms == null ? [] : [terms];
  if (list.length === 0) return undefined;
  type Group = { op: 'any' | 'all'; include: string[]; exclude: string[] };
  const groups: Record<string, Group> = {
    any: { op: 'any', include: [], exclude: [] },
    all: { op: 'all', include: [], exclude: [] },
  };
  let op: 'any' | 'all' = 'any';
  let negateNext = false;
  for (const raw of list) {
    if (typeof raw !== 'string') continue;
    const t = raw;
    if (t === '__$all' || t === '__$and') { op = 'all'; continue; }
    if (t === '__$any' || t === '__$or') { op = 'any'; continue; }
    if (t === '__$not') { negateNext = true; continue; }
    if (negateNext) { groups[op].exclude.push(t); negateNext = false; continue; }
    if (t.startsWith('-')) groups[op].exclude.push(t.slice(1));
    else groups[op].include.push(t);
  }
  const checks: Predicate[] = [];
  for (const g of Object.values(groups)) {
    if (!g.include.length && !g.exclude.length) continue;
    checks.push((doc) => {
      const have = new Set(valuesAt(doc, field).map(String));
      if (g.op === 'all') return g.include.every((t) => have.has(t)) && g.exclude.every((t) => !have.has(t));
      // any-of: at least one include present, or at least one exclude absent (Mongo $or of $in/$nin)
      const parts: boolean[] = [];
      if (g.include.length) parts.push(g.include.some((t) => have.has(t)));
      if (g.exclude.length) parts.push(g.exclude.every((t) => !have.has(t)));
      return g.include.length && g.exclude.length ? parts.some(Boolean) : parts[0];
    });
  }
  return checks.length ? (doc) => checks.every((c) => c(doc)) : undefined;
}

/** Value list on a field: matches when any of the doc's values is listed (null lists "unset"). */
export function inListPredicate(field: string, values: unknown): Predicate | undefined {
  if (values === undefined) return undefined;
  const list = Array.isArray(values) ? values : [values];
  const wanted = new Set(list.filter((v) => v !== null).map(String));
  const wantsNull = list.includes(null);
  return (doc) => {
    const have = valuesAt(doc, field);
    if (wantsNull && (have.length === 0 || have.every((v) => v === null || v === undefined || v === ''))) return true;
    return have.some((v) => v !== null && v !== undefined && wanted.has(String(v)));
  };
}

/** Python re.escape output (\- \# \ ) is valid for JS RegExp without the u flag. */
export function regexPredicate(field: string, pattern: unknown): Predicate | undefined {
  if (typeof pattern !== 'string' || pattern === '') return undefined;
  let re: RegExp;
  try {
    re = new RegExp(pattern);
  } catch (e) {
    throw new ApiFault(400, 12, `Validation error (invalid regular expression for ${field})`, { pattern });
  }
  return (doc) => valuesAt(doc, field).some((v) => typeof v === 'string' && re.test(v));
}

const OPS = ['>=', '<=', '>', '<'] as const;

/**
 * Date conditions: ["<2024-05-01T00:00:00"], [">=a", "<b"]; two plain values are a range [from, to]
 * (null for an open end). A value that does not parse drops that condition, as the real server does.
 */
export function datePredicate(field: string, value: unknown): Predicate | undefined {
  if (value === undefined || value === null) return undefined;
  const list = Array.isArray(value) ? value : [value];
  const conds: Array<{ op: (typeof OPS)[number]; ms: number }> = [];
  const plain = list.filter((v) => typeof v !== 'string' || !OPS.some((o) => v.startsWith(o)));
  for (const v of list) {
    if (typeof v !== 'string') continue;
    const op = OPS.find((o) => v.startsWith(o));
    if (!op) continue;
    const ms = parseDateLoose(v.slice(op.length));
    if (ms !== undefined) conds.push({ op, ms });
  }
  if (plain.length) {
    const [from, to] = plain;
    const f = typeof from === 'string' ? parseDateLoose(from) : undefined;
    const t = typeof to === 'string' ? parseDateLoose(to) : undefined;
    if (f !== undefined) conds.push({ op: '>=', ms: f });
    if (t !== undefined) conds.push({ op: '<=', ms: t });
  }
  if (!conds.length) return undefined;
  return (doc) => {
    const ms = dateMs(valuesAt(doc, field)[0]);
    if (ms === undefined) return false;
    return conds.every(({ op, ms: x }) =>
      op === '<' ? ms < x : op === '<=' ? ms <= x : op === '>' ? ms > x : ms >= x,
    );
  };
}

/** `_any_` / `_all_`: {pattern, fields[]}: the regex must match in any (all) of the fields. */
export function patternPredicate(spec: unknown, mode: 'any' | 'all'): Predicate | undefined {
  if (!spec || typeof spec !== 'object') return undefined;
  const { pattern, fields } = spec as { pattern?: unknown; fields?: unknown };
  if (typeof pattern !== 'string' || !pattern || !Array.isArray(fields) || !fields.length) return undefined;
  const preds = fields.filter((f): f is string => typeof f === 'string').map((f) => regexPredicate(f, pattern)!);
  return mode === 'any' ? (doc) => preds.some((p) => p(doc)) : (doc) => preds.every((p) => p(doc));
}
