/**
 * Points on the task's SCALARS tab. A pass: tasks, files, bytes freed and failures, with the pass
 * number as the iteration (continuing after the task's last_iteration when it runs again); also the
 * orphan sweep after a pass and the storage report.
 */
import type { OrphanReport, PassReport, UsageReport } from '../cleanup/index.js';
import type { TaskEvent } from '../types/clearml.js';

export function passScalars(taskId: string, iter: number, r: PassReport, now = Date.now()): TaskEvent[] {
  const t = r.files.total;
  const point = pointer(taskId, iter, now);
  // in a dry run "deleted" counts what would be deleted: the plot then shows what a real pass would do
  const tasksDeleted = r.dryRun ? r.tasks.planned : r.tasks.deleted;
  return [
    point('tasks', 'deleted', tasksDeleted),
    point('tasks', 'skipped', r.tasks.skipped),
    point('tasks', 'failed', r.tasks.failed),
    point('files', 'deleted', t.deleted),
    point('files', 'already gone', t.missing),
    point('files', 'failed', t.failed),
    point('files', 'refused', t.refused),
    point('bytes freed', 'bytes', t.bytes),
    point('models', 'deleted', r.models.deleted),
    point('failures', 'total', r.tasks.failed + r.models.failed + t.failed + (r.error ? 1 : 0)),
    // with retention rules set: one series per rule ("took age", "kept keep_tags"...)
    ...(r.retention
      ? [
          ...Object.entries(r.rules.taken).map(([rule, n]) => point('tasks by rule', `took ${rule}`, n)),
          ...Object.entries(r.rules.kept).map(([rule, n]) => point('tasks by rule', `kept ${rule}`, n)),
        ]
      : []),
  ];
}

/** One scalar point of the task at this iteration (a non-finite value is plotted as 0). */
function pointer(taskId: string, iter: number, now: number) {
  return (metric: string, variant: string, value: number): TaskEvent => ({
    type: 'training_stats_scalar',
    task: taskId,
    timestamp: now,
    iter,
    metric,
    variant,
    value: Number.isFinite(value) ? value : 0,
  });
}

/** The orphan sweep run after a pass (sweep_orphans). */
export function orphanScalars(taskId: string, iter: number, r: OrphanReport, now = Date.now()): TaskEvent[] {
  const point = pointer(taskId, iter, now);
  return [
    point('orphans', 'found', r.total.orphans),
    point('orphans', 'deleted', r.total.deleted),
    point('orphans', 'failed', r.total.failed),
    point('orphan bytes', 'found', r.total.orphanBytes),
    point('orphan bytes', 'freed', r.total.deletedBytes),
  ];
}

/** The storage report (`report` under the agent): the figures of its table, one point each. */
export function usageScalars(taskId: string, iter: number, r: UsageReport, now = Date.now()): TaskEvent[] {
  const point = pointer(taskId, iter, now);
  const out = [
    point('storage bytes', 'total', r.total.bytes),
    point('storage bytes', 'archived', r.total.archivedBytes),
    point('storage bytes', 'next pass frees', r.nextPass.bytes),
    point('storage bytes', 'orphaned', r.orphaned.bytes),
    point('storage files', 'total', r.total.files),
    point('storage files', 'archived', r.total.archivedFiles),
    point('storage files', 'next pass frees', r.nextPass.files),
    point('storage files', 'orphaned', r.orphaned.files),
  ];
  for (const p of r.byProject) out.push(point('bytes per project', p.name || p.id, p.bytes));
  return out;
}
