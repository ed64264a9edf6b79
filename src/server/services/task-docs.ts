import { ApiFault } from '../api/fault.js';
import type { Task } from '../../types/clearml.js';
import type { EmbeddedState } from '../state.js';

/** Embedded defaults the real server always returns (the SDK crashes without some of them). */
export function conformTask(t: Task): Task {
  t.system_tags ??= [];
  t.tags ??= [];
  t.status_message ??= '';
  t.status_reason ??= '';
  t.comment ??= '';
  t.execution = { test_split: 0, parameters: {}, model_desc: {}, model_labels: {}, artifacts: [], ...(t.execution ?? {}) };
  t.execution.artifacts = (t.execution.artifacts ?? []).map((a) => ({ ...a, mode: a.mode ?? 'output' }));
  t.script = { binary: 'python', repository: '', entry_point: '', ...(t.script ?? {}) };
  // the real server strips script strings on save
  for (const k of ['repository', 'branch', 'version_num', 'tag', 'entry_point', 'working_dir', 'binary'] as const) {
    const v = t.script[k];
    if (typeof v === 'string') t.script[k] = v.trim();
  }
  t.output ??= {};
  t.models = { input: t.models?.input ?? [], output: t.models?.output ?? [] };
  t.hyperparams ??= {};
  t.configuration ??= {};
  t.runtime ??= {};
  t.container ??= {};
  t.last_iteration ??= 0;
  t.last_metrics ??= {};
  return t;
}

export function isExample(doc: { system_tags?: string[]; company?: string }): boolean {
  return doc.company === '' || Boolean(doc.system_tags?.includes('example'));
}

/** Built-in example (public) entities cannot be written to. */
export function assertWritable(doc: { id: string; system_tags?: string[]; company?: string }, kind = 'task'): void {
  if (isExample(doc)) {
    throw new ApiFault(403, 21, `Forbidden (cannot modify a built-in example ${kind})`, { id: doc.id });
  }
}

/** A clone of the stored task, ready to modify and put(); 400/101 if unknown. */
export function loadTask(state: EmbeddedState, id: unknown): Task {
  if (typeof id !== 'string' || !id) throw new ApiFault(400, 11, 'Missing required fields: task', { fields: ['task'] });
  const t = state.stores.tasks.get(id);
  if (!t) throw new ApiFault(400, 101, `Invalid task id (no such task: ${id})`, { id });
  return structuredClone(t);
}

export function isArchived(doc: { system_tags?: string[] }): boolean {
  return Boolean(doc.system_tags?.includes('archived'));
}
