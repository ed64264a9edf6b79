/**
 * The retention rules beyond age (keep_tags, keep_last_per_project, include/exclude_projects,
 * delete_statuses, archived_budget_gb_per_project): their values, how a text value is read and
 * checked (the same for a CLI flag and a task hyperparameter), and their compiled form.
 */
import { compileGlob, globProblem, type ProjectMatcher } from './glob.js';

export interface RetentionRules {
  /** user tags: a task carrying any of them is never deleted */
  keepTags: string[];
  /** per project, this many most recently archived tasks stay whatever their age (0 = off) */
  keepLastPerProject: number;
  /** project path globs; empty = every project */
  includeProjects: string[];
  /** project path globs never touched, even if included */
  excludeProjects: string[];
  /** with force_delete: only these statuses; empty = every status */
  deleteStatuses: string[];
  /** per project, archived tasks beyond this many GB (2^30 bytes) go oldest first (0 = off) */
  archivedBudgetGbPerProject: number;
}

export const DEFAULT_RETENTION: RetentionRules = {
  keepTags: [],
  keepLastPerProject: 0,
  includeProjects: [],
  excludeProjects: [],
  deleteStatuses: [],
  archivedBudgetGbPerProject: 0,
};

/** A GB in the budget is 2^30 bytes, the unit the report prints. */
export const GB = 1024 ** 3;

/** Largest keep_last_per_project accepted (a typo guard, not a real limit). */
export const MAX_KEEP_LAST = 1_000_000;
/** Largest budget accepted, in GB (1 EB; beyond that a float loses whole bytes). */
export const MAX_BUDGET_GB = 1_000_000_000;

/**
 * The task statuses of a ClearML server (clearml-server apiserver/database/model/task/task.py,
 * TaskStatus), and the names the web app shows for some of them, accepted as aliases.
 */
export const TASK_STATUSES = ['created', 'queued', 'in_progress', 'stopped', 'published', 'publishing', 'closed', 'failed', 'completed', 'unknown'] as const;
const STATUS_ALIASES: Record<string, string> = { draft: 'created', pending: 'queued', running: 'in_progress', aborted: 'stopped' };

export type Parsed<T> = { value: T } | { problem: string };

/** "a, b,,c " -> ["a","b","c"]: an empty entry (a trailing comma) is no entry. */
export function splitList(text: string): string[] {
  return text
    .split(',')
    .map((s) => s.trim())
    .filter((s) => s !== '');
}

export function parseTagList(text: string): Parsed<string[]> {
  return { value: [...new Set(splitList(text))] };
}

export function parseGlobList(text: string): Parsed<string[]> {
  const globs = splitList(text);
  for (const g of globs) {
    const problem = globProblem(g);
    if (problem) return { problem: `has a malformed project glob "${g}": it ${problem}` };
  }
  return { value: globs };
}

export function parseStatusList(text: string): Parsed<string[]> {
  const out: string[] = [];
  for (const s of splitList(text)) {
    const k = s.toLowerCase();
    const status = (TASK_STATUSES as readonly string[]).includes(k) ? k : STATUS_ALIASES[k];
    if (!status) return { problem: `has an unknown task status "${s}" (known: ${TASK_STATUSES.join(', ')})` };
    if (!out.includes(status)) out.push(status);
  }
  return { value: out };
}

export function checkKeepLast(n: number): string | undefined {
  if (!Number.isSafeInteger(n) || n < 0 || n > MAX_KEEP_LAST) return `must be a whole number from 0 to ${MAX_KEEP_LAST} (0 = off)`;
  return undefined;
}

export function checkBudget(n: number): string | undefined {
  if (!Number.isFinite(n) || n < 0 || n > MAX_BUDGET_GB) return `must be a number of GB from 0 to ${MAX_BUDGET_GB} (fractions allowed; 0 = off)`;
  return undefined;
}

/** True when any rule is away from its default (at defaults a pass behaves exactly as before). */
export function retentionActive(r: RetentionRules | undefined): boolean {
  if (!r) return false;
  return (
    r.keepTags.length > 0 ||
    r.keepLastPerProject > 0 ||
    r.includeProjects.length > 0 ||
    r.excludeProjects.length > 0 ||
    r.deleteStatuses.length > 0 ||
    r.archivedBudgetGbPerProject > 0
  );
}

/** The per-project rules need every archived task of a project, not only the old ones. */
export function needsProjectStage(r: RetentionRules | undefined): boolean {
  return !!r && (r.keepLastPerProject > 0 || r.archivedBudgetGbPerProject > 0);
}

export interface CompiledRetention {
  rules: RetentionRules;
  keepTags: ReadonlySet<string>;
  include: Array<{ pattern: string; match: ProjectMatcher }>;
  exclude: Array<{ pattern: string; match: ProjectMatcher }>;
  /** undefined = every status (with force_delete) */
  statuses?: ReadonlySet<string>;
  budgetBytes: number;
}

export function compileRetention(r: RetentionRules): CompiledRetention {
  const globs = (list: string[]) =>
    list.map((pattern) => {
      const problem = globProblem(pattern);
      if (problem) throw new Error(`project glob "${pattern}" ${problem}`);
      return { pattern, match: compileGlob(pattern) };
    });
  return {
    rules: r,
    keepTags: new Set(r.keepTags),
    include: globs(r.includeProjects),
    exclude: globs(r.excludeProjects),
    statuses: r.deleteStatuses.length ? new Set(r.deleteStatuses) : undefined,
    budgetBytes: r.archivedBudgetGbPerProject * GB,
  };
}
