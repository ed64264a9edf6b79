import type { RetentionRules } from './rules/retention.js';

/** Everything a pass needs to know besides its ports. */
import type { KeyHints } from './references.js';

export interface CleanupOptions {
  /** archived longer than this many days (fractional allowed) */
  deleteThresholdDays: number;
  /** false: only Draft tasks; true: any status, published included */
  forceDelete: boolean;
  /** with forceDelete: published output models are deleted with their task (default: they stay) */
  deletePublishedModels: boolean;
  /** how URLs of one place may be spelled (S3 endpoint hosts, file-server paths), for the references */
  referenceHints?: KeyHints;
  /** plan only: nothing is deleted, nothing journaled */
  dryRun: boolean;
  /** read calls in flight at once within a batch */
  concurrency: number;
  /** tasks per batch, at most 500 (the server's page cap) */
  batchSize: number;
  /**
   * Deprecated (kept so existing tasks and scripts keep working): a pause between batches, ms.
   * 0 by default; maxRequestsPerSecond is what spares the server now.
   */
  pacingMs: number;
  /** API requests per second the pass may send at most (token bucket); 0: no limit */
  maxRequestsPerSecond: number;
  /** directory of the journal; required unless dryRun */
  stateDir?: string;
  /** tasks per events.debug_images / events.plots call */
  eventTasksPerCall: number;
  /** items kept in each list of the report (counts are always complete) */
  listCap: number;
  /** keep_tags, keep_last_per_project, include/exclude_projects, delete_statuses, the budget (absent = defaults) */
  retention?: RetentionRules;
  /** for tests */
  now?: () => Date;
}

/**
 * The default request rate. ClearML's own cleanup_service.py sends its API calls one after another:
 * about 8 per task, some 40 per second at 5 ms round trips (the benchmark's model of it), and an
 * administrator already accepts that load from it. 50 per second keeps us in the same range, while a
 * pass of ours needs only ~0.07 calls per task (each call carries up to 500 ids): at 2,000 tasks that
 * is ~130 calls spread over seconds, so the limit protects the server from a runaway (a retry storm,
 * a huge selection) without slowing a normal pass down. File-server requests do not take tokens: they
 * go to another process (or to cloud storage), number one per 500 files, and are capped in flight by
 * the storage concurrency.
 */
export const DEFAULT_MAX_REQUESTS_PER_SECOND = 50;
/** Requests that may go at once after a quiet moment (a batch's planning reads fan out 4 at a time). */
export const REQUEST_BURST = 20;

export const DEFAULT_OPTIONS: CleanupOptions = {
  deleteThresholdDays: 30,
  forceDelete: false,
  deletePublishedModels: false,
  dryRun: false,
  concurrency: 4,
  batchSize: 500,
  pacingMs: 0,
  maxRequestsPerSecond: DEFAULT_MAX_REQUESTS_PER_SECOND,
  eventTasksPerCall: 100,
  listCap: 1000,
};

export function resolveOptions(partial: Partial<CleanupOptions>): CleanupOptions {
  const o: CleanupOptions = { ...DEFAULT_OPTIONS };
  for (const [k, v] of Object.entries(partial)) if (v !== undefined) (o as unknown as Record<string, unknown>)[k] = v;
  o.batchSize = Math.max(1, Math.min(500, Math.floor(o.batchSize)));
  o.concurrency = Math.max(1, Math.floor(o.concurrency));
  o.eventTasksPerCall = Math.max(1, Math.floor(o.eventTasksPerCall));
  if (!(o.maxRequestsPerSecond >= 0)) throw new Error(`maxRequestsPerSecond must be >= 0 (0: no limit), got ${o.maxRequestsPerSecond}`);
  if (!o.dryRun && !o.stateDir) throw new Error('a state directory is required to delete (the journal lives there)');
  return o;
}
