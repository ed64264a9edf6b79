/**
 * Which tasks a pass deletes. Phase one of the two-phase listing: the ids (and the few fields the
 * rules need) of every archived task old enough, read completely before anything is deleted, because
 * the server pages by offset and deleting while paging forward would skip rows.
 */
import type { Api } from './ports.js';
import { serverIso } from './dates.js';
import { forEachPage } from './listing.js';
import { featuresOf } from '../api/server-features.js';
import { decide, isExampleTask, projectStage, type DecideContext, type ProjectBudget, type RuleName, type StageTask, type TaskFacts } from './rules/decide.js';
import { needsProjectStage } from './rules/retention.js';
import { artifactBytes } from './rules/projects.js';

export { isExampleTask };

/** A task as the listing returns it: the fields the rules decide on (rules/decide.ts). */
export type TaskRow = TaskFacts;

export interface Candidate {
  id: string;
  name?: string;
  status: string;
  /** epoch ms of the archive time used */
  archivedAt: number;
  dateField: 'last_change' | 'status_changed' | 'last_update';
  /** the rule that decided the deletion, and why (e.g. age: "older than 30 days") */
  rule?: RuleName;
  reason?: string;
}

export interface SkippedTask {
  id: string;
  name?: string;
  status?: string;
  reason: string;
  /** the rule that kept it (absent: a planning-time reason, e.g. a published child) */
  rule?: RuleName | 'dependencies' | 'changed' | 'dataset_lineage';
}

export interface Selection {
  cutoff: Date;
  deletable: Candidate[];
  skipped: SkippedTask[];
  /** projects over archived_budget_gb_per_project, and what the budget took */
  budgets?: ProjectBudget[];
}

export const SELECT_FIELDS = ['id', 'name', 'status', 'company', 'system_tags', 'last_change', 'status_changed', 'last_update'];

/** The decision context of a pass (see rules/decide.ts), plus where the budget's bytes come from. */
export interface Rules extends DecideContext {
  /** with forceDelete: published (ready) output models go with their task instead of staying */
  deletePublishedModels?: boolean;
  /** bytes of a task's files from a storage listing (report); otherwise its artifacts' content_size */
  taskBytes?: (taskId: string) => number | undefined;
}

export type Verdict =
  | { kind: 'ineligible'; why: string }
  | { kind: 'skip'; why: string; rule: RuleName }
  | { kind: 'delete'; candidate: Candidate };

/**
 * The rules, applied to one row client-side (never trusting the server's date filter alone):
 * ineligible = not something this pass looks at; skip = eligible by age but kept, with the reason.
 * `prior` is the selection's candidate when a task is judged again before deletion: a task the
 * project budget took stays taken as long as no rule of its own keeps it.
 */
export function judge(t: TaskRow, rules: Rules, prior?: Pick<Candidate, 'rule' | 'reason'>): Verdict {
  const d = decide(t, rules);
  const status = t.status ?? 'unknown';
  const candidate = (rule: RuleName, reason: string): Verdict => ({
    kind: 'delete',
    candidate: { id: t.id, name: t.name, status, archivedAt: d.archivedAt!, dateField: d.dateField!, rule, reason },
  });
  if (d.verdict === 'delete') return candidate(d.rule, d.reason);
  if (d.verdict === 'keep') return { kind: 'skip', why: d.reason, rule: d.rule };
  if (prior?.rule === 'budget' && prior.reason) {
    if (d.budgetable) return candidate('budget', prior.reason);
    if (d.keptBy) return { kind: 'skip', why: d.keptBy.reason, rule: d.keptBy.rule };
  }
  return { kind: 'ineligible', why: d.reason };
}

/**
 * All archived tasks older than the cutoff: those with last_change before it, plus legacy tasks
 * without last_change whose last_update is before it (their archive time then falls back to
 * status_changed, else last_update). A server older than API 2.31 does not filter on last_change
 * (it drops the key and would answer with every archived task): there we ask for every archived
 * task outright and the rules above decide each one.
 */
export async function selectTasks(api: Api, rules: Rules): Promise<Selection> {
  if (needsProjectStage(rules.retention?.rules)) return selectByProject(api, rules);
  const before = [`<${serverIso(rules.cutoff)}`];
  const base = { system_tags: ['archived'], only_fields: selectFields(rules), order_by: ['id'], search_hidden: true };
  const seen = new Set<string>();
  const deletable: Candidate[] = [];
  const skipped: SkippedTask[] = [];
  const consider = (t: TaskRow) => {
    if (seen.has(t.id)) return;
    seen.add(t.id);
    const v = judge(t, rules);
    if (v.kind === 'delete') deletable.push(v.candidate);
    else if (v.kind === 'skip') skipped.push({ id: t.id, name: t.name, status: t.status, reason: v.why, rule: v.rule });
  };
  // Rows are judged page by page and dropped: only ids and verdicts are held, whatever the count.
  if (!featuresOf(await api.serverApiVersion?.()).lastChangeFilter) {
    await forEachPage<TaskRow>(api, 'tasks.get_all', base, 'tasks', (rows) => rows.forEach(consider));
    deletable.sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
    return { cutoff: rules.cutoff, deletable, skipped };
  }
  await forEachPage<TaskRow>(api, 'tasks.get_all', { ...base, last_change: before }, 'tasks', (rows) => rows.forEach(consider));
  await forEachPage<TaskRow>(api, 'tasks.get_all', { ...base, last_update: before }, 'tasks', (rows) => {
    for (const t of rows) if (!t.last_change) consider(t);
  });
  deletable.sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
  return { cutoff: rules.cutoff, deletable, skipped };
}

/** The listing's fields: the retention rules add user tags and the project (still one listing). */
export function selectFields(rules: Rules): string[] {
  return rules.retention ? [...SELECT_FIELDS, 'tags', 'project'] : SELECT_FIELDS;
}

/**
 * keep_last_per_project and the budget look at every archived task of a project, recent ones
 * included: one listing of all archived tasks (with their artifacts' sizes when the budget needs
 * bytes), each row reduced to a few fields, then the project stage decides.
 */
async function selectByProject(api: Api, rules: Rules): Promise<Selection> {
  const budget = (rules.retention?.budgetBytes ?? 0) > 0;
  const fields = [...selectFields(rules), ...(budget && !rules.taskBytes ? ['execution.artifacts'] : [])];
  const stage: StageTask[] = [];
  const names = new Map<string, { name?: string; status?: string }>();
  await forEachPage<TaskRow & { execution?: { artifacts?: Array<{ mode?: string; uri?: string; content_size?: number }> } }>(
    api,
    'tasks.get_all',
    { system_tags: ['archived'], only_fields: fields, order_by: ['id'], search_hidden: true },
    'tasks',
    (rows) => {
      for (const t of rows) {
        const decision = decide(t, rules);
        if (decision.archivedAt === undefined) continue;
        const bytes = budget ? (rules.taskBytes?.(t.id) ?? artifactBytes(t)) : 0;
        stage.push({ id: t.id, project: t.project ?? '', archivedAt: decision.archivedAt, bytes, decision });
        if (decision.verdict !== 'ignore' || decision.budgetable) names.set(t.id, { name: t.name, status: t.status });
      }
    },
  );
  const projectName = (id: string) => (id ? rules.projectPath?.(id) || id : '(no project)');
  const budgets = projectStage(stage, rules.retention!, projectName);
  const deletable: Candidate[] = [];
  const skipped: SkippedTask[] = [];
  for (const t of stage) {
    const d = t.decision;
    const n = names.get(t.id) ?? {};
    if (d.verdict === 'delete') {
      deletable.push({ id: t.id, name: n.name, status: n.status ?? 'unknown', archivedAt: t.archivedAt, dateField: d.dateField!, rule: d.rule, reason: d.reason });
    } else if (d.verdict === 'keep') skipped.push({ id: t.id, name: n.name, status: n.status, reason: d.reason, rule: d.rule });
  }
  deletable.sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
  return { cutoff: rules.cutoff, deletable, skipped, budgets };
}
