/**
 * Which tasks a pass deletes. Phase one of the two-phase listing: the ids (and the few fields the
 * rules need) of every archived task old enough, read completely before anything is deleted, because
 * the server pages by offset and deleting while paging forward would skip rows.
 */
import type { Api } from './ports.js';
import { archiveTime, serverIso } from './dates.js';
import { forEachPage } from './listing.js';

export interface TaskRow {
  id: string;
  name?: string;
  status?: string;
  project?: string;
  company?: string;
  system_tags?: string[];
  last_change?: string | null;
  status_changed?: string | null;
  last_update?: string | null;
}

export interface Candidate {
  id: string;
  name?: string;
  status: string;
  /** epoch ms of the archive time used */
  archivedAt: number;
  dateField: 'last_change' | 'status_changed' | 'last_update';
}

export interface SkippedTask {
  id: string;
  name?: string;
  status?: string;
  reason: string;
}

export interface Selection {
  cutoff: Date;
  deletable: Candidate[];
  skipped: SkippedTask[];
}

export const SELECT_FIELDS = ['id', 'name', 'status', 'company', 'system_tags', 'last_change', 'status_changed', 'last_update'];

export interface Rules {
  cutoff: Date;
  forceDelete: boolean;
  /** with forceDelete: published (ready) output models go with their task instead of staying */
  deletePublishedModels?: boolean;
  /** never deleted, e.g. the service's own task */
  protectedIds?: ReadonlySet<string>;
}

/** The server's built-in example tasks are public (no company) and refuse deletion (403). */
export function isExampleTask(t: Pick<TaskRow, 'company' | 'system_tags'>): boolean {
  return t.company === '' || (t.system_tags ?? []).includes('example');
}

export type Verdict =
  | { kind: 'ineligible'; why: string }
  | { kind: 'skip'; why: string }
  | { kind: 'delete'; candidate: Candidate };

/**
 * The rules, applied to one row client-side (never trusting the server's date filter alone):
 * ineligible = not something this pass looks at; skip = eligible by age but kept, with the reason.
 */
export function judge(t: TaskRow, rules: Rules): Verdict {
  if (!(t.system_tags ?? []).includes('archived')) return { kind: 'ineligible', why: 'not archived' };
  const when = archiveTime(t);
  if (!when) return { kind: 'ineligible', why: 'no usable date' };
  if (when.at >= rules.cutoff.getTime()) return { kind: 'ineligible', why: 'archived too recently' };
  if (rules.protectedIds?.has(t.id)) return { kind: 'skip', why: 'the cleanup service task itself' };
  if (isExampleTask(t)) return { kind: 'skip', why: 'built-in example task (the server refuses to delete it)' };
  const status = t.status ?? 'unknown';
  if (status !== 'created' && !rules.forceDelete) {
    return { kind: 'skip', why: `status ${status} is not Draft and force_delete is off` };
  }
  return {
    kind: 'delete',
    candidate: { id: t.id, name: t.name, status, archivedAt: when.at, dateField: when.field },
  };
}

/**
 * All archived tasks older than the cutoff: those with last_change before it, plus legacy tasks
 * without last_change whose last_update is before it (their archive time then falls back to
 * status_changed, else last_update).
 */
export async function selectTasks(api: Api, rules: Rules): Promise<Selection> {
  const before = [`<${serverIso(rules.cutoff)}`];
  const base = { system_tags: ['archived'], only_fields: SELECT_FIELDS, order_by: ['id'], search_hidden: true };
  const seen = new Set<string>();
  const deletable: Candidate[] = [];
  const skipped: SkippedTask[] = [];
  const consider = (t: TaskRow) => {
    if (seen.has(t.id)) return;
    seen.add(t.id);
    const v = judge(t, rules);
    if (v.kind === 'delete') deletable.push(v.candidate);
    else if (v.kind === 'skip') skipped.push({ id: t.id, name: t.name, status: t.status, reason: v.why });
  };
  // Rows are judged page by page and dropped: only ids and verdicts are held, whatever the count.
  await forEachPage<TaskRow>(api, 'tasks.get_all', { ...base, last_change: before }, 'tasks', (rows) => rows.forEach(consider));
  await forEachPage<TaskRow>(api, 'tasks.get_all', { ...base, last_update: before }, 'tasks', (rows) => {
    for (const t of rows) if (!t.last_change) consider(t);
  });
  deletable.sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
  return { cutoff: rules.cutoff, deletable, skipped };
}
