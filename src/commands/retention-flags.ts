/** The retention rule flags shared by run, plan and report (the task's hyperparameters of the same names). */
import type { Options } from 'yargs';
import {
  checkBudget,
  checkKeepLast,
  parseGlobList,
  parseStatusList,
  parseTagList,
  type Parsed,
  type RetentionRules,
} from '../cleanup/rules/retention.js';

export const retentionOptions = {
  'keep-tags': { type: 'string', default: '', describe: 'comma-separated user tags: a task carrying any of them is never deleted (e.g. keep,best)' },
  'keep-last-per-project': {
    type: 'number',
    default: 0,
    describe: 'in each project, the N most recently archived tasks stay whatever their age (0 = off)',
  },
  'include-projects': {
    type: 'string',
    default: '',
    describe: 'comma-separated globs on the full project path; only matching projects are cleaned ("" = all; * one level, ** any depth: "Sandbox/*,Scratch*")',
  },
  'exclude-projects': { type: 'string', default: '', describe: 'globs as for --include-projects; a matching project is never touched, even if included' },
  'delete-statuses': {
    type: 'string',
    default: '',
    describe: 'with --force-delete: only these statuses (e.g. created,failed,stopped; "" = every status); without it only Drafts',
  },
  'archived-budget-gb-per-project': {
    type: 'number',
    default: 0,
    describe: "when a project's archived tasks hold more than this many GB, its oldest archived tasks go first, whatever their age (0 = off)",
  },
} satisfies Record<string, Options>;

export interface RetentionArgs {
  keepTags?: string;
  keepLastPerProject?: number;
  includeProjects?: string;
  excludeProjects?: string;
  deleteStatuses?: string;
  archivedBudgetGbPerProject?: number;
}

/** The rules the flags give; a bad value throws fail(flag, problem) (the caller's usage error). */
export function retentionOfArgs(a: RetentionArgs, fail: (flag: string, value: unknown, problem: string) => Error): RetentionRules {
  const list = (flag: string, text: string | undefined, parse: (t: string) => Parsed<string[]>): string[] => {
    const r = parse(String(text ?? ''));
    if ('problem' in r) throw fail(flag, text, r.problem);
    return r.value;
  };
  const num = (flag: string, n: number | undefined, check: (n: number) => string | undefined): number => {
    const v = n ?? 0;
    const problem = check(v);
    if (problem) throw fail(flag, n, problem);
    return v;
  };
  return {
    keepTags: list('--keep-tags', a.keepTags, parseTagList),
    keepLastPerProject: num('--keep-last-per-project', a.keepLastPerProject, checkKeepLast),
    includeProjects: list('--include-projects', a.includeProjects, parseGlobList),
    excludeProjects: list('--exclude-projects', a.excludeProjects, parseGlobList),
    deleteStatuses: list('--delete-statuses', a.deleteStatuses, parseStatusList),
    archivedBudgetGbPerProject: num('--archived-budget-gb-per-project', a.archivedBudgetGbPerProject, checkBudget),
  };
}
