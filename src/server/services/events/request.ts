import { ApiFault } from '../../api/fault.js';
import type { CallRequest, ServerState } from '../../api/service.js';
import type { MetricFilter } from '../../store/events-store.js';

/** Reading and checking the fields of events requests the way the real server's models do. */

export function requiredString(body: Record<string, unknown>, field: string): string {
  const v = body[field];
  if (typeof v !== 'string' || !v) throw new ApiFault(400, 11, `Missing required fields: ${field}`, { fields: [field] });
  return v;
}

export function optionalInt(body: Record<string, unknown>, field: string, fallback: number): number {
  const v = body[field];
  if (v === undefined || v === null) return fallback;
  const n = typeof v === 'string' && v.trim() !== '' ? Number(v) : v;
  if (typeof n !== 'number' || !Number.isInteger(n)) {
    throw new ApiFault(400, 12, `Validation error (invalid value for ${field})`, { field });
  }
  return n;
}

export function optionalBool(body: Record<string, unknown>, field: string, fallback: boolean): boolean {
  const v = body[field];
  if (v === undefined || v === null) return fallback;
  if (typeof v === 'boolean') return v;
  if (v === 'true' || v === 'True' || v === 1) return true;
  if (v === 'false' || v === 'False' || v === 0) return false;
  throw new ApiFault(400, 12, `Validation error (invalid value for ${field})`, { field });
}

export function stringList(body: Record<string, unknown>, field: string): string[] {
  const v = body[field];
  if (v === undefined || v === null) return [];
  const list = Array.isArray(v) ? v : [v];
  if (!list.every((x) => typeof x === 'string')) {
    throw new ApiFault(400, 12, `Validation error (${field} must be a list of strings)`, { field });
  }
  return list as string[];
}

/** `metrics: [{metric, variants}]` as a store filter; undefined when absent or empty. */
export function metricFilters(body: Record<string, unknown>, field = 'metrics'): MetricFilter[] | undefined {
  const v = body[field];
  if (v === undefined || v === null) return undefined;
  if (!Array.isArray(v)) throw new ApiFault(400, 12, `Validation error (${field} must be a list)`, { field });
  const out: MetricFilter[] = [];
  for (const m of v) {
    if (!m || typeof m !== 'object' || typeof (m as any).metric !== 'string') {
      throw new ApiFault(400, 12, `Validation error (${field} items need a metric)`, { field });
    }
    const variants = (m as any).variants;
    out.push({ metric: (m as any).metric, variants: Array.isArray(variants) ? variants.map(String) : undefined });
  }
  return out.length ? out : undefined;
}

export const EVENT_TYPE_ALL = 'all';
const KNOWN_TYPES = new Set(['training_stats_scalar', 'training_stats_vector', 'training_debug_image', 'plot', 'log']);

/** `event_type` of a read: one of the five types, or every type when missing. */
export function eventType(body: Record<string, unknown>, required = false): string {
  const v = body.event_type;
  if (v === undefined || v === null || v === '') {
    if (required) throw new ApiFault(400, 11, 'Missing required fields: event_type', { fields: ['event_type'] });
    return EVENT_TYPE_ALL;
  }
  if (v === '*' || v === EVENT_TYPE_ALL) return EVENT_TYPE_ALL;
  if (typeof v !== 'string' || !KNOWN_TYPES.has(v)) {
    throw new ApiFault(400, 12, `Validation error (invalid event_type ${String(v)})`, { field: 'event_type' });
  }
  return v;
}

/** Every id must name an existing task (400/101 otherwise, like the real assert_exists). */
export function assertTasks(state: ServerState, ids: string[]): void {
  const missing = [...new Set(ids)].filter((id) => !state.getTask(id));
  if (missing.length) throw new ApiFault(400, 101, `Invalid task id: ids=${JSON.stringify(missing)}`, { ids: missing });
}

/** Reads of model events need the models store, which this service does not see. */
export function refuseModelEvents(body: Record<string, unknown>): void {
  if (body.model_events === true) {
    throw new ApiFault(400, 201, 'Invalid model id (model events are not kept by this server)');
  }
}

/** "2.23" -> 2.23 comparable; a missing version means the newest. */
export function versionAtLeast(req: CallRequest, min: string): boolean {
  const [a = 0, b = 0] = (req.version || '999.0').split('.').map(Number);
  const [c = 0, d = 0] = min.split('.').map(Number);
  return a !== c ? a > c : b >= d;
}

/** The reporting worker: from the call if the framework passes it, else unknown. */
export function workerOf(req: CallRequest): string {
  const loose = req as CallRequest & { worker?: unknown; headers?: Record<string, unknown> };
  const w = loose.worker ?? loose.headers?.['x-clearml-worker'] ?? loose.headers?.['x-trains-worker'];
  return typeof w === 'string' ? w : '';
}
