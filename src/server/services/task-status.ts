import { ApiFault } from '../api/fault.js';
import type { Task, TaskStatus } from '../../types/clearml.js';

/** Allowed status transitions without force (clearml-server bll/task/utils.py); same-state is always allowed. */
const TRANSITIONS: Record<string, readonly TaskStatus[]> = {
  created: ['queued', 'in_progress'],
  queued: ['created', 'in_progress', 'stopped'],
  in_progress: ['stopped', 'failed', 'created', 'completed'],
  stopped: ['closed', 'created', 'failed', 'queued', 'in_progress', 'published', 'publishing', 'completed'],
  completed: ['published', 'in_progress', 'created'],
  failed: ['created', 'stopped', 'published', 'queued'],
  closed: ['created', 'failed', 'published', 'publishing', 'stopped'],
  publishing: ['published'],
  published: [],
  unknown: [],
};

export const ALL_STATUSES = Object.keys(TRANSITIONS) as TaskStatus[];

export function assertTransition(task: Task, to: TaskStatus, force: boolean): void {
  if (force || task.status === to) return;
  if (!(TRANSITIONS[task.status] ?? []).includes(to)) {
    throw new ApiFault(400, 110, `Invalid task status (Invalid status change: ${task.status} -> ${to})`, {
      task: task.id,
      current_status: task.status,
      new_status: to,
    });
  }
}

export interface StatusChange {
  status: TaskStatus;
  force?: boolean;
  status_reason?: unknown;
  status_message?: unknown;
  user: string;
  now: string;
}

/** Applies a status change to a (cloned) task; returns the fields changed. */
export function applyStatus(task: Task, change: StatusChange): Record<string, unknown> {
  assertTransition(task, change.status, Boolean(change.force));
  const fields: Record<string, unknown> = {
    status: change.status,
    status_reason: typeof change.status_reason === 'string' ? change.status_reason : '',
    status_message: typeof change.status_message === 'string' ? change.status_message : '',
    status_changed: change.now,
    last_update: change.now,
    last_change: change.now,
    last_changed_by: change.user,
  };
  if (change.status === 'queued' && task.system_tags?.includes('development')) {
    task.system_tags = task.system_tags.filter((t) => t !== 'development');
    fields.system_tags = task.system_tags;
  }
  Object.assign(task, fields);
  return fields;
}
