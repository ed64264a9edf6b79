/** What a pass did, as one JSON-serialisable object, plus its human summary. */
import type { FileOutcome } from './ports.js';
import type { SkippedTask } from './select.js';
import type { KeptModel, PlannedTask } from './plan.js';
import type { LineageSummary } from './lineage-pass.js';
import type { ProjectBudget } from './rules/decide.js';
import type { RetentionRules } from './rules/retention.js';

export interface BackendTotals {
  deleted: number;
  missing: number;
  failed: number;
  refused: number;
  bytes: number;
}

/** Lists in a report are capped; counts are always complete. */
export const LIST_CAP = 1000;

export interface PassReport {
  startedAt: string;
  finishedAt: string;
  durationMs: number;
  dryRun: boolean;
  forceDelete: boolean;
  deleteThresholdDays: number;
  cutoff: string;
  /** eligible by age (deletable + skipped at selection) */
  selected: number;
  tasks: {
    deleted: number;
    skipped: number;
    failed: number;
    skippedByReason: Record<string, number>;
    skippedList: SkippedTask[];
    failedList: SkippedTask[];
    /** dry run / plan: how many would be deleted, and (unless streamed to onPlan) which */
    planned: number;
    plannedList: PlannedTask[];
  };
  models: { deleted: number; kept: number; failed: number; deferred: number; keptList: KeptModel[] };
  files: {
    byBackend: Record<string, BackendTotals>;
    total: BackendTotals;
    refusedList: Array<{ url: string; reason?: string }>;
    failedList: Array<{ url: string; reason?: string }>;
    /** files of deleted tasks that stay: links outside the task's folder, files something else still uses */
    keptShared: number;
    keptList: Array<{ url: string; reason: string }>;
    /** deleted tasks' own folders on the file server: removed whole, kept (something inside is needed), failed */
    folders: { removed: number; held: number; failed: number };
  };
  journal: { dir?: string; replayedEntries: number; pendingEntries: number; unreadable: string[] };
  apiCalls: { total: number; failed: number; byEndpoint: Record<string, number>; perTask: number };
  /** dataset lineage: versions seen, kept for a version that stays, broken graphs, links kept */
  datasets?: LineageSummary;
  /** tasks each rule took (planned for deletion) or kept, by rule name (age, budget, keep_tags, status...) */
  rules: { taken: Record<string, number>; kept: Record<string, number> };
  /** the retention rules in force, when any is away from its default */
  retention?: RetentionRules;
  /** projects over archived_budget_gb_per_project */
  budgets?: ProjectBudget[];
  /** the pass ended early (e.g. listing the tasks failed) */
  error?: string;
  /** lists above are capped at this many items (counts are complete) */
  listCap: number;
}

function zero(): BackendTotals {
  return { deleted: 0, missing: 0, failed: 0, refused: 0, bytes: 0 };
}

export function newReport(init: {
  startedAt: Date;
  dryRun: boolean;
  forceDelete: boolean;
  deleteThresholdDays: number;
  cutoff: Date;
  listCap?: number;
}): PassReport {
  return {
    startedAt: init.startedAt.toISOString(),
    finishedAt: init.startedAt.toISOString(),
    durationMs: 0,
    dryRun: init.dryRun,
    forceDelete: init.forceDelete,
    deleteThresholdDays: init.deleteThresholdDays,
    cutoff: init.cutoff.toISOString(),
    selected: 0,
    tasks: { deleted: 0, skipped: 0, failed: 0, skippedByReason: {}, skippedList: [], failedList: [], planned: 0, plannedList: [] },
    models: { deleted: 0, kept: 0, failed: 0, deferred: 0, keptList: [] },
    files: { byBackend: {}, total: zero(), refusedList: [], failedList: [], keptShared: 0, keptList: [], folders: { removed: 0, held: 0, failed: 0 } },
    journal: { replayedEntries: 0, pendingEntries: 0, unreadable: [] },
    apiCalls: { total: 0, failed: 0, byEndpoint: {}, perTask: 0 },
    rules: { taken: {}, kept: {} },
    listCap: init.listCap ?? LIST_CAP,
  };
}

function push<T>(r: PassReport, list: T[], item: T) {
  if (list.length < r.listCap) list.push(item);
}

/** Reason without the ids that make every line unique, for counting. */
function reasonKey(reason: string): string {
  return reason.replace(/\b[0-9a-f]{32}\b(, \b[0-9a-f]{32}\b)*/g, '<id>');
}

export function countRule(r: PassReport, how: 'taken' | 'kept', rule: string) {
  r.rules[how][rule] = (r.rules[how][rule] ?? 0) + 1;
}

export function addSkipped(r: PassReport, s: SkippedTask) {
  r.tasks.skipped++;
  countRule(r, 'kept', s.rule ?? 'dependencies');
  const key = reasonKey(s.reason);
  r.tasks.skippedByReason[key] = (r.tasks.skippedByReason[key] ?? 0) + 1;
  push(r, r.tasks.skippedList, s);
}

export function addFailed(r: PassReport, s: SkippedTask) {
  r.tasks.failed++;
  push(r, r.tasks.failedList, s);
}

export function addKeptModel(r: PassReport, m: KeptModel) {
  r.models.kept++;
  push(r, r.models.keptList, m);
}

/** A file of a deleted task that stays (a link, or something that stays points to it). */
export function addKeptFile(r: PassReport, url: string, reason: string) {
  r.files.keptShared++;
  push(r, r.files.keptList, { url, reason });
}

export function addPlanned(r: PassReport, t: PlannedTask, keep: boolean) {
  r.tasks.planned++;
  if (keep) push(r, r.tasks.plannedList, t);
}

export function addFileOutcome(r: PassReport, o: FileOutcome) {
  const b = (r.files.byBackend[o.backend] ??= zero());
  for (const t of [b, r.files.total]) {
    t[o.status]++;
    if (o.status === 'deleted' && o.bytes) t.bytes += o.bytes;
  }
  if (o.status === 'refused') push(r, r.files.refusedList, { url: o.url, reason: o.detail ? `${o.reason}: ${o.detail}` : o.reason });
  if (o.status === 'failed') push(r, r.files.failedList, { url: o.url, reason: o.reason });
}

export function formatBytes(n: number): string {
  const units = ['B', 'KB', 'MB', 'GB', 'TB'];
  let v = n;
  let i = 0;
  while (v >= 1024 && i < units.length - 1) (v /= 1024), i++;
  return `${i === 0 ? v : v.toFixed(1)} ${units[i]}`;
}

/** A few lines for humans; the JSON report carries the details. */
export function summarize(r: PassReport): string[] {
  const verb = r.dryRun ? 'would delete' : 'deleted';
  const lines: string[] = [];
  const planned = r.dryRun ? r.tasks.planned : r.tasks.deleted;
  lines.push(
    `Summary: ${verb} ${planned} tasks, skipped ${r.tasks.skipped}, failed ${r.tasks.failed} ` +
      `(of ${r.selected} archived before ${r.cutoff}); models: ${verb} ${r.models.deleted}, kept ${r.models.kept}` +
      (r.models.deferred ? `, deferred ${r.models.deferred}` : '') +
      (r.models.failed ? `, failed ${r.models.failed}` : ''),
  );
  for (const [reason, n] of Object.entries(r.tasks.skippedByReason)) lines.push(`  skipped ${n}: ${reason}`);
  if (r.retention) lines.push(...ruleLines(r));
  for (const f of r.tasks.failedList.slice(0, 20)) lines.push(`  failed ${f.id}${f.name ? ` (${f.name})` : ''}: ${f.reason}`);
  const backends = Object.entries(r.files.byBackend);
  if (backends.length === 0) lines.push('  files: none');
  for (const [name, t] of backends) {
    lines.push(
      (r.dryRun
        ? `  files on ${name}: ${t.deleted} to delete, ` +
          `${t.refused} refused by the allow-list`
        : `  files on ${name}: ${t.deleted} deleted (${formatBytes(t.bytes)}), ${t.missing} already gone, ` +
          `${t.failed} failed, ${t.refused} refused by the allow-list`),
    );
  }
  const ds = r.datasets;
  if (ds && (ds.keptForLineage || ds.brokenGraphs || ds.linksKept)) {
    lines.push(
      `  dataset versions: ${ds.keptForLineage} kept because a version that stays needs them` +
        (ds.brokenGraphs ? `, ${ds.brokenGraphs} with a graph that cannot be read (kept)` : '') +
        (ds.linksKept ? `; ${ds.linksKept} files registered by link left in place` : ''),
    );
  }
  if (r.files.keptShared) lines.push(`  files of deleted tasks kept (links outside the task's folder, or still used): ${r.files.keptShared}`);
  const fo = r.files.folders;
  if (fo.removed || fo.held || fo.failed) {
    lines.push(
      `  task folders on the file server: ${fo.removed} removed` +
        (fo.held ? `, ${fo.held} kept (something inside is still used)` : '') +
        (fo.failed ? `, ${fo.failed} could not be removed` : ''),
    );
  }
  if (r.journal.replayedEntries || r.journal.pendingEntries) {
    lines.push(`  journal: finished ${r.journal.replayedEntries} entries left by an earlier pass, ${r.journal.pendingEntries} still pending`);
  }
  lines.push(
    `  duration ${(r.durationMs / 1000).toFixed(1)} s, ${r.apiCalls.total} API calls` +
      (planned ? ` (${r.apiCalls.perTask.toFixed(3)} per task)` : ''),
  );
  if (r.error) lines.push(`  pass ended early: ${r.error}`);
  return lines;
}

/** "by rule: took age 3, budget 2; kept keep_tags 1, keep_last_per_project 3" and one line per project over budget. */
export function ruleLines(r: Pick<PassReport, 'rules' | 'budgets' | 'dryRun'>): string[] {
  const list = (m: Record<string, number>) =>
    Object.entries(m)
      .sort((a, b) => b[1] - a[1] || a[0].localeCompare(b[0]))
      .map(([k, n]) => `${k} ${n}`)
      .join(', ') || 'none';
  const lines = [`  by rule: ${r.dryRun ? 'would take' : 'took'} ${list(r.rules.taken)}; kept ${list(r.rules.kept)}`];
  for (const b of r.budgets ?? []) {
    lines.push(
      `  budget of ${b.name}: ${formatBytes(b.archivedBytes)} archived > ${formatBytes(b.budgetBytes)}, ` +
        `${formatBytes(b.archivedBytes - b.budgetBytes)} over; the budget ${r.dryRun ? 'would take' : 'took'} ${b.taken} tasks ` +
        `(${formatBytes(b.takenBytes)}), ${formatBytes(b.afterBytes)} left` +
        (b.afterBytes > b.budgetBytes ? ' (still over: the rest is kept by other rules)' : ''),
    );
  }
  return lines;
}
