import { ApiFault } from '../api/fault.js';

/** Small request-parsing helpers shared by the services. */

export function requireString(body: Record<string, any>, field: string): string {
  const v = body[field];
  if (typeof v !== 'string' || v === '') throw new ApiFault(400, 11, `Missing required fields: ${field}`, { fields: [field] });
  return v;
}

export function optString(body: Record<string, any>, field: string): string | undefined {
  const v = body[field];
  return typeof v === 'string' ? v : undefined;
}

export function bool(v: unknown, dflt = false): boolean {
  if (v === undefined || v === null) return dflt;
  if (typeof v === 'string') return v === 'true' || v === 'True' || v === '1';
  return Boolean(v);
}

export function stringList(v: unknown): string[] {
  if (v === undefined || v === null) return [];
  return (Array.isArray(v) ? v : [v]).filter((x): x is string => typeof x === 'string');
}

/** Entity names: the real server rejects names shorter than 3 characters (data validation error). */
export function validateName(name: unknown, what: string): string {
  if (typeof name !== 'string') throw new ApiFault(400, 11, `Missing required fields: name`, { fields: ['name'] });
  const trimmed = name.trim();
  if (trimmed.length < 3) {
    throw new ApiFault(400, 800, `Data validation error: ${what} name must be at least 3 characters long`, { name });
  }
  return trimmed;
}

export interface ManyResult {
  succeeded: Array<Record<string, unknown>>;
  failed: Array<{ id: string; error: { codes: number[]; msg: string; data: Record<string, unknown> } }>;
}

/** *_many calls: each id on its own; a failure is reported, never thrown. */
export function forEachId(ids: unknown, fn: (id: string) => Record<string, unknown>): ManyResult {
  const list = stringList(ids);
  if (!list.length) throw new ApiFault(400, 11, 'Missing required fields: ids', { fields: ['ids'] });
  const out: ManyResult = { succeeded: [], failed: [] };
  for (const id of list) {
    try {
      out.succeeded.push({ id, ...fn(id) });
    } catch (err) {
      if (!(err instanceof ApiFault)) throw err;
      out.failed.push({ id, error: { codes: [err.code, err.subcode], msg: err.message, data: err.data } });
    }
  }
  return out;
}
