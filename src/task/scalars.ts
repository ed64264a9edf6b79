/**
 * One point per pass on the SCALARS tab: tasks, files, bytes freed and failures, with the pass
 * number as the iteration (continuing after the task's last_iteration when it runs again).
 */
import type { PassReport } from '../cleanup/index.js';
import type { TaskEvent } from '../types/clearml.js';

export function passScalars(taskId: string, iter: number, r: PassReport, now = Date.now()): TaskEvent[] {
  const t = r.files.total;
  const point = (metric: string, variant: string, value: number): TaskEvent => ({
    type: 'training_stats_scalar',
    task: taskId,
    timestamp: now,
    iter,
    metric,
    variant,
    value: Number.isFinite(value) ? value : 0,
  });
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
  ];
}
