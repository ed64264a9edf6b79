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
  /** pause between batches, to be gentle with a shared server */
  pacingMs: number;
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

export const DEFAULT_OPTIONS: CleanupOptions = {
  deleteThresholdDays: 30,
  forceDelete: false,
  deletePublishedModels: false,
  dryRun: false,
  concurrency: 4,
  batchSize: 500,
  pacingMs: 200,
  eventTasksPerCall: 100,
  listCap: 1000,
};

export function resolveOptions(partial: Partial<CleanupOptions>): CleanupOptions {
  const o: CleanupOptions = { ...DEFAULT_OPTIONS };
  for (const [k, v] of Object.entries(partial)) if (v !== undefined) (o as unknown as Record<string, unknown>)[k] = v;
  o.batchSize = Math.max(1, Math.min(500, Math.floor(o.batchSize)));
  o.concurrency = Math.max(1, Math.floor(o.concurrency));
  o.eventTasksPerCall = Math.max(1, Math.floor(o.eventTasksPerCall));
  if (!o.dryRun && !o.stateDir) throw new Error('a state directory is required to delete (the journal lives there)');
  return o;
}
