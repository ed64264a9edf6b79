/**
 * One decision per archived task, with the rule that made it. Two stages, both pure:
 *
 * - decide(): what the task's own fields say (archive time, tags, status, project path, the
 *   service's own task, examples, lineage protection). Tags, status, project and dates come with
 *   the task listing, so no call is made per task.
 * - projectStage(): what the task's project says (keep_last_per_project, then the budget), over
 *   every archived task of each project.
 *
 * Re-judging a task just before it is deleted is decide() again on a fresh read, carrying over the
 * project stage's "budget" verdict (see select.ts judge()).
 */
import { archiveTime } from '../dates.js';
import { formatBytes } from '../report.js';
import type { CompiledRetention } from './retention.js';

/** The rules a decision can name (stable identifiers: plan --json, reports and scalars use them). */
export type RuleName =
  | 'archived'
  | 'age'
  | 'service_task'
  | 'example_task'
  | 'exclude_projects'
  | 'include_projects'
  | 'keep_tags'
  | 'lineage'
  | 'status'
  | 'delete_statuses'
  | 'keep_last_per_project'
  | 'budget';

/** The fields of a task the decision reads: all of them come with the task listing. */
export interface TaskFacts {
  id: string;
  name?: string;
  status?: string;
  project?: string;
  company?: string;
  system_tags?: string[];
  tags?: string[];
  last_change?: string | null;
  status_changed?: string | null;
  last_update?: string | null;
}

export interface Decision {
  /** delete: goes this pass; keep: would go by age but a rule keeps it; ignore: not this pass's business */
  verdict: 'delete' | 'keep' | 'ignore';
  rule: RuleName;
  reason: string;
  /** archived too recently for the age rule and kept by no rule: the project budget may take it */
  budgetable?: boolean;
  /** archived too recently, and also kept by this rule (the re-check of a budget deletion names it) */
  keptBy?: { rule: RuleName; reason: string };
  /** epoch ms of the archive time and the field it came from (absent when the task has no date) */
  archivedAt?: number;
  dateField?: 'last_change' | 'status_changed' | 'last_update';
}

/**
 * Keeps a task for a reason only another part of the system knows (e.g. a dataset version a kept
 * version depends on). Returns the reason, or undefined. Filled by the lineage rule.
 */
export type Protector = (t: TaskFacts) => string | undefined;

export interface DecideContext {
  cutoff: Date;
  forceDelete: boolean;
  /** for reasons: "older than N days" (otherwise the cutoff date is named) */
  thresholdDays?: number;
  /** never deleted: the service's own task */
  protectedIds?: ReadonlySet<string>;
  retention?: CompiledRetention;
  /** a project id to its full path ("Team/Sandbox"); needed by include/exclude_projects */
  projectPath?: (projectId: string | undefined) => string | undefined;
  protect?: Protector;
}

/** The server's built-in example tasks are public (no company) and refuse deletion (403). */
export function isExampleTask(t: Pick<TaskFacts, 'company' | 'system_tags'>): boolean {
  return t.company === '' || (t.system_tags ?? []).includes('example');
}

/** The first rule that keeps the task whatever its age, or undefined. */
function keptBy(t: TaskFacts, ctx: DecideContext): { rule: RuleName; reason: string } | undefined {
  if (ctx.protectedIds?.has(t.id)) return { rule: 'service_task', reason: 'the cleanup service task itself' };
  if (isExampleTask(t)) return { rule: 'example_task', reason: 'built-in example task (the server refuses to delete it)' };
  const r = ctx.retention;
  if (r && (r.exclude.length || r.include.length)) {
    const path = ctx.projectPath?.(t.project) ?? '';
    const ex = r.exclude.find((g) => g.match(path));
    if (ex) return { rule: 'exclude_projects', reason: `project "${path}" matches exclude_projects "${ex.pattern}"` };
    if (r.include.length && !r.include.some((g) => g.match(path))) {
      return { rule: 'include_projects', reason: `project "${path}" matches no include_projects glob` };
    }
  }
  if (r?.keepTags.size) {
    const tag = (t.tags ?? []).find((x) => r.keepTags.has(x));
    if (tag !== undefined) return { rule: 'keep_tags', reason: `tag ${tag}` };
  }
  const lineage = ctx.protect?.(t);
  if (lineage) return { rule: 'lineage', reason: lineage };
  const status = t.status ?? 'unknown';
  if (!ctx.forceDelete) {
    if (status !== 'created') return { rule: 'status', reason: `status ${status} is not Draft and force_delete is off` };
  } else if (r?.statuses && !r.statuses.has(status)) {
    return { rule: 'delete_statuses', reason: `status ${status} is not in delete_statuses (${[...r.statuses].join(', ')})` };
  }
  return undefined;
}

export function decide(t: TaskFacts, ctx: DecideContext): Decision {
  if (!(t.system_tags ?? []).includes('archived')) return { verdict: 'ignore', rule: 'archived', reason: 'not archived' };
  const when = archiveTime(t);
  if (!when) return { verdict: 'ignore', rule: 'age', reason: 'no usable date' };
  const dated = { archivedAt: when.at, dateField: when.field };
  const old = when.at < ctx.cutoff.getTime();
  const keep = keptBy(t, ctx);
  if (!old) return { verdict: 'ignore', rule: 'age', reason: 'archived too recently', ...dated, ...(keep ? { keptBy: keep } : { budgetable: true }) };
  if (keep) return { verdict: 'keep', ...keep, ...dated };
  const age = ctx.thresholdDays !== undefined ? `older than ${ctx.thresholdDays} days` : `archived before ${ctx.cutoff.toISOString()}`;
  return { verdict: 'delete', rule: 'age', reason: age, ...dated };
}

/** One archived task as the project stage sees it (a few fields: every archived task is held). */
export interface StageTask {
  id: string;
  /** project id ('' = none) */
  project: string;
  archivedAt: number;
  /** bytes of its files as far as known (0 = none known) */
  bytes: number;
  decision: Decision;
}

export interface ProjectBudget {
  project: string;
  name: string;
  budgetBytes: number;
  /** every archived task of the project, before this pass */
  archivedBytes: number;
  /** after what this pass deletes in the project (age and budget) */
  afterBytes: number;
  /** tasks and bytes the budget rule took (beyond those the age rule took) */
  taken: number;
  takenBytes: number;
}

/**
 * keep_last_per_project, then the budget, over every archived task of every project (decisions are
 * updated in place). The N most recently archived tasks of a project stay, whatever their age or
 * status (they count among the N even when another rule keeps them). Then, while the project's
 * archived tasks still hold more than the budget after this pass's deletions, its oldest tasks that
 * no rule keeps are taken, whatever their age; a task with no known bytes is never taken for the
 * budget (deleting it would not bring the project under it). Returns the projects over budget.
 */
export function projectStage(tasks: StageTask[], r: CompiledRetention, projectName: (id: string) => string): ProjectBudget[] {
  const byProject = new Map<string, StageTask[]>();
  for (const t of tasks) {
    const list = byProject.get(t.project);
    if (list) list.push(t);
    else byProject.set(t.project, [t]);
  }
  const budgets: ProjectBudget[] = [];
  const keepLast = r.rules.keepLastPerProject;
  for (const [project, list] of byProject) {
    const name = projectName(project);
    // newest first; ties by id so that the same data gives the same decision
    list.sort((a, b) => b.archivedAt - a.archivedAt || (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
    for (const t of list.slice(0, keepLast)) {
      const d = t.decision;
      d.budgetable = false;
      if (d.verdict === 'delete') {
        t.decision = { ...d, verdict: 'keep', rule: 'keep_last_per_project', reason: `last ${keepLast} of project ${name}` };
      }
    }
    if (r.budgetBytes <= 0) continue;
    const total = list.reduce((n, t) => n + t.bytes, 0);
    if (total <= r.budgetBytes) continue;
    let after = total - list.reduce((n, t) => n + (t.decision.verdict === 'delete' ? t.bytes : 0), 0);
    const row: ProjectBudget = { project, name, budgetBytes: r.budgetBytes, archivedBytes: total, afterBytes: after, taken: 0, takenBytes: 0 };
    const reason = `over budget of ${name} (${formatBytes(total)} > ${r.rules.archivedBudgetGbPerProject} GB)`;
    for (let i = list.length - 1; i >= 0 && after > r.budgetBytes; i--) {
      const t = list[i];
      if (t.decision.verdict !== 'ignore' || !t.decision.budgetable || t.bytes <= 0) continue;
      t.decision = { ...t.decision, verdict: 'delete', rule: 'budget', reason, budgetable: false };
      after -= t.bytes;
      row.taken++;
      row.takenBytes += t.bytes;
    }
    row.afterBytes = after;
    budgets.push(row);
  }
  return budgets;
}
