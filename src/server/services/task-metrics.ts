import { createHash } from 'node:crypto';
import type { EmbeddedState } from '../state.js';
import type { TaskEventsSummary } from './events.js';

const hash = (s: string) => createHash('md5').update(s).digest('hex');

/**
 * After events.add_batch the real server moves the task's last_iteration, last_metrics
 * (keyed by md5 of metric and variant names) and last_update. Wired as the events service's hook.
 */
export function updateTaskFromEvents(state: EmbeddedState, taskId: string, summary: TaskEventsSummary): void {
  const stored = state.stores.tasks.get(taskId);
  if (!stored) return;
  const t = structuredClone(stored);
  if (summary.maxIter !== null && summary.maxIter > (t.last_iteration ?? 0)) t.last_iteration = summary.maxIter;
  const metrics = (t.last_metrics ?? {}) as Record<string, Record<string, Record<string, unknown>>>;
  for (const s of summary.scalars) {
    if (typeof s.value !== 'number' || !Number.isFinite(s.value)) continue;
    const m = (metrics[hash(s.metric)] ??= {});
    const prev = m[hash(s.variant)] as Record<string, any> | undefined;
    const entry: Record<string, unknown> = {
      metric: s.metric,
      variant: s.variant,
      value: s.value,
      min_value: prev && prev.min_value <= s.value ? prev.min_value : s.value,
      min_value_iteration: prev && prev.min_value <= s.value ? prev.min_value_iteration : s.iter,
      max_value: prev && prev.max_value >= s.value ? prev.max_value : s.value,
      max_value_iteration: prev && prev.max_value >= s.value ? prev.max_value_iteration : s.iter,
      count: (prev?.count ?? 0) + 1,
    };
    m[hash(s.variant)] = entry;
  }
  t.last_metrics = metrics;
  t.last_update = state.isoNow();
  state.stores.tasks.put(t);
}
