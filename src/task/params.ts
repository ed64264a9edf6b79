/**
 * The hyperparameters of the Cleanup Service task (section General), written the way the ClearML
 * SDK writes `task.connect(dict)` (values as strings: "30.0"/float, "True"/bool, "4"/int), and read
 * back strictly: a value that does not parse fails the task instead of falling back to a default,
 * because a cleanup must never guess what it may delete.
 */
import type { HyperParam } from '../types/clearml.js';
import { DEFAULT_MAX_REQUESTS_PER_SECOND } from '../cleanup/options.js';
import { HYPERPARAM_SECTION } from './constants.js';
import {
  checkBudget,
  MAX_KEEP_LAST,
  parseGlobList,
  parseStatusList,
  parseTagList,
  type Parsed,
  type RetentionRules,
} from '../cleanup/rules/retention.js';

export type ParamType = 'float' | 'int' | 'bool' | 'str';

export interface ServiceParams {
  deleteThresholdDays: number;
  cleanupPeriodInDays: number;
  forceDelete: boolean;
  /** with force_delete: published output models go with their task (default: they stay) */
  deletePublishedModels: boolean;
  runAsService: boolean;
  dryRun: boolean;
  concurrency: number;
  batchSize: number;
  /** deprecated: pause between batches (0: none); maxRequestsPerSecond spares the server now */
  pacingMs: number;
  /** API requests per second a pass may send (0: no limit) */
  maxRequestsPerSecond: number;
  /** journal directory; "" = the default one */
  stateDir: string;
  /** after each pass, delete files nothing references any more */
  sweepOrphans: boolean;
  orphanMinAgeDays: number;
  /** a real file server's data directory mounted in the agent ("" = list the file server itself) */
  orphanFileserverDir: string;
  /** retention rules, as typed (comma-separated lists); see retentionOfParams */
  keepTags: string;
  keepLastPerProject: number;
  includeProjects: string;
  excludeProjects: string;
  deleteStatuses: string;
  archivedBudgetGbPerProject: number;
}

export const DEFAULT_PARAMS: ServiceParams = {
  deleteThresholdDays: 30,
  cleanupPeriodInDays: 1,
  forceDelete: false,
  deletePublishedModels: false,
  runAsService: true,
  dryRun: false,
  concurrency: 4,
  batchSize: 500,
  pacingMs: 0,
  maxRequestsPerSecond: DEFAULT_MAX_REQUESTS_PER_SECOND,
  stateDir: '',
  sweepOrphans: false,
  orphanMinAgeDays: 7,
  orphanFileserverDir: '',
  keepTags: '',
  keepLastPerProject: 0,
  includeProjects: '',
  excludeProjects: '',
  deleteStatuses: '',
  archivedBudgetGbPerProject: 0,
};

/** Days are capped so that dates stay representable (and a typo like 1e9 is caught). */
export const MAX_DAYS = 36_500;

interface ParamSpec {
  name: string;
  key: keyof ServiceParams;
  type: ParamType;
  description: string;
  /** the value, or what is wrong with the text */
  parse(text: string): { value: ServiceParams[keyof ServiceParams] } | { problem: string };
}

const DECIMAL = /^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$/;
const INTEGER = /^[+-]?\d+(\.0*)?$/;

function days(min: number, minInclusive: boolean) {
  const range = `${minInclusive ? 'from' : 'greater than'} ${min}${minInclusive ? ` to ${MAX_DAYS}` : ` and at most ${MAX_DAYS}`}`;
  return (text: string) => {
    const n = DECIMAL.test(text) ? Number(text) : NaN;
    if (!Number.isFinite(n) || (minInclusive ? n < min : n <= min) || n > MAX_DAYS) {
      return { problem: `must be a number of days ${range} (fractions allowed, e.g. 30.0)` };
    }
    return { value: n };
  };
}

function integer(min: number, max: number, unit = '') {
  return (text: string) => {
    const n = INTEGER.test(text) ? Number(text) : NaN;
    if (!Number.isSafeInteger(n) || n < min || n > max) return { problem: `must be a whole number${unit} from ${min} to ${max}` };
    return { value: n };
  };
}

function rate(text: string) {
  const n = DECIMAL.test(text) ? Number(text) : NaN;
  if (!Number.isFinite(n) || n < 0 || n > 10_000) return { problem: 'must be a number of requests per second from 0 (no limit) to 10000' };
  return { value: n };
}

/** A comma-separated list checked by `parse`, kept as typed. */
function listOf(parse: (text: string) => Parsed<string[]>) {
  return (text: string) => {
    const r = parse(text);
    return 'problem' in r ? r : { value: text };
  };
}

function budgetGb(text: string) {
  const n = DECIMAL.test(text) ? Number(text) : NaN;
  const problem = checkBudget(n);
  return problem ? { problem } : { value: n };
}

function boolean(text: string) {
  const t = text.toLowerCase();
  if (t === 'true' || t === '1') return { value: true };
  if (t === 'false' || t === '0') return { value: false };
  return { problem: 'must be True or False' };
}

export const PARAM_SPECS: readonly ParamSpec[] = [
  {
    name: 'delete_threshold_days',
    key: 'deleteThresholdDays',
    type: 'float',
    description:
      'Delete archived tasks that were archived more than this many days ago (fractions allowed). ' +
      'Tasks that are not archived are never touched.',
    parse: days(0, true),
  },
  {
    name: 'cleanup_period_in_days',
    key: 'cleanupPeriodInDays',
    type: 'float',
    description:
      'Days between two cleanup passes (fractions allowed: 0.25 is every 6 hours). ' +
      'Read again while the service sleeps, so an edit takes effect without a restart.',
    parse: days(0, false),
  },
  {
    name: 'force_delete',
    key: 'forceDelete',
    type: 'bool',
    description:
      'False: delete only archived Draft tasks. True: delete archived tasks in any status, ' +
      'Published included, with their output models unless another task uses them or they are published.',
    parse: boolean,
  },
  {
    name: 'delete_published_models',
    key: 'deletePublishedModels',
    type: 'bool',
    description:
      'False: a published output model stays when force_delete deletes its task (the server re-points it to ' +
      '__DELETED__<task id>; serving may pick it by query). True: it is deleted with its task unless a task uses it. ' +
      'Only matters with force_delete.',
    parse: boolean,
  },
  {
    name: 'run_as_service',
    key: 'runAsService',
    type: 'bool',
    description:
      'True: keep running, one pass every cleanup_period_in_days. False: run one pass, then the task completes.',
    parse: boolean,
  },
  {
    name: 'dry_run',
    key: 'dryRun',
    type: 'bool',
    description: 'True: only report (in the console and the scalars) what each pass would delete; delete nothing.',
    parse: boolean,
  },
  {
    name: 'concurrency',
    key: 'concurrency',
    type: 'int',
    description: 'API read calls in flight at once (1 to 64). Keep it low on a busy shared server.',
    parse: integer(1, 64),
  },
  {
    name: 'batch_size',
    key: 'batchSize',
    type: 'int',
    description: 'Tasks deleted per batch (1 to 500). An Abort lets the batch in progress finish.',
    parse: integer(1, 500),
  },
  {
    name: 'max_requests_per_second',
    key: 'maxRequestsPerSecond',
    type: 'float',
    description:
      `API requests per second a pass may send at most (0 to 10000; 0: no limit). Default ${DEFAULT_MAX_REQUESTS_PER_SECOND}: ` +
      'about the rate of ClearML\'s own cleanup service, far above what a normal pass needs (each call carries up to 500 ids). ' +
      'File-server requests are not counted.',
    parse: rate,
  },
  {
    name: 'pacing_ms',
    key: 'pacingMs',
    type: 'int',
    description:
      'Deprecated, use max_requests_per_second: a pause between two batches, in milliseconds (0 to 3600000). ' +
      '0: none (tasks registered before kept 200 ms, which still works).',
    parse: integer(0, 3_600_000, ' of milliseconds'),
  },
  {
    name: 'state_dir',
    key: 'stateDir',
    type: 'str',
    description:
      'Directory of the deletion journal, which lets a killed pass be finished by the next one. ' +
      'Empty: ~/.clearml-cleanup/state of the agent (inside a container: mount a volume to keep it).',
    parse: (text) => ({ value: text }),
  },
  {
    name: 'sweep_orphans',
    key: 'sweepOrphans',
    type: 'bool',
    description:
      'True: after each pass, delete the files under the storage roots that no task, model, debug image or plot ' +
      'references any more (older than orphan_min_age_days), through the same allow-list and journal.',
    parse: boolean,
  },
  {
    name: 'orphan_min_age_days',
    key: 'orphanMinAgeDays',
    type: 'float',
    description: 'Unreferenced files younger than this many days are left alone (an upload may be in progress).',
    parse: days(0, false),
  },
  {
    name: 'orphan_fileserver_dir',
    key: 'orphanFileserverDir',
    type: 'str',
    description:
      'The file server\'s data directory as mounted where the task runs (the ClearML file server cannot list ' +
      'its files). Empty: ask the file server (only the embedded one answers); S3/GS/Azure roots are listed directly.',
    parse: (text) => ({ value: text }),
  },
  {
    name: 'keep_tags',
    key: 'keepTags',
    type: 'str',
    description: 'Comma-separated user tags (e.g. "keep,best"): a task carrying any of them is never deleted. Empty: off.',
    parse: listOf(parseTagList),
  },
  {
    name: 'keep_last_per_project',
    key: 'keepLastPerProject',
    type: 'int',
    description: 'In each project, the N most recently archived tasks stay whatever their age (e.g. 3). 0: off.',
    parse: integer(0, MAX_KEEP_LAST),
  },
  {
    name: 'include_projects',
    key: 'includeProjects',
    type: 'str',
    description:
      'Comma-separated globs on the full project path: only matching projects are cleaned ' +
      '(e.g. "Sandbox/*,Scratch*"; * stays in one level, ** spans any depth). Empty: every project.',
    parse: listOf(parseGlobList),
  },
  {
    name: 'exclude_projects',
    key: 'excludeProjects',
    type: 'str',
    description: 'Globs as for include_projects (e.g. "Production/**"): a matching project is never touched, even if included.',
    parse: listOf(parseGlobList),
  },
  {
    name: 'delete_statuses',
    key: 'deleteStatuses',
    type: 'str',
    description:
      'With force_delete True: delete only these statuses (e.g. "created,failed,stopped"). Empty: every status. ' +
      'With force_delete False only Drafts are deleted, whatever this says.',
    parse: listOf(parseStatusList),
  },
  {
    name: 'archived_budget_gb_per_project',
    key: 'archivedBudgetGbPerProject',
    type: 'float',
    description:
      "When a project's archived tasks hold more than this many GB of files, its oldest archived tasks are deleted " +
      'first, whatever their age, until it fits (never those kept by the other rules). 0.0: off.',
    parse: budgetGb,
  },
];

/** The retention rules of validated parameters (lists split, statuses normalised). */
export function retentionOfParams(p: ServiceParams): RetentionRules {
  const list = (text: string, parse: (t: string) => Parsed<string[]>) => {
    const r = parse(text);
    if ('problem' in r) throw new Error(`internal: unvalidated retention value ${JSON.stringify(text)}`);
    return r.value;
  };
  return {
    keepTags: list(p.keepTags, parseTagList),
    keepLastPerProject: p.keepLastPerProject,
    includeProjects: list(p.includeProjects, parseGlobList),
    excludeProjects: list(p.excludeProjects, parseGlobList),
    deleteStatuses: list(p.deleteStatuses, parseStatusList),
    archivedBudgetGbPerProject: p.archivedBudgetGbPerProject,
  };
}

/** Python's str() of the value, as the SDK stores it. */
export function formatParam(type: ParamType, value: unknown): string {
  if (type === 'bool') return value ? 'True' : 'False';
  if (type === 'float') {
    const n = Number(value);
    return Number.isInteger(n) ? n.toFixed(1) : String(n);
  }
  return String(value ?? '');
}

/** The section General as hyperparameter items (for tasks.edit / edit_hyper_params). */
export function toHyperParams(p: ServiceParams): HyperParam[] {
  return PARAM_SPECS.map((s) => ({
    section: HYPERPARAM_SECTION,
    name: s.name,
    value: formatParam(s.type, p[s.key]),
    type: s.type,
    description: s.description,
  }));
}

/** The `hyperparams` field of a task document: {General: {name: item}}. */
export function toHyperParamsField(p: ServiceParams): Record<string, Record<string, HyperParam>> {
  return { [HYPERPARAM_SECTION]: Object.fromEntries(toHyperParams(p).map((h) => [h.name, h])) };
}

/** One bad value: the console line names the parameter and shows the value as typed. */
export interface ParamProblem {
  name: string;
  value: string;
  problem: string;
}

export class InvalidParamsError extends Error {
  constructor(readonly problems: ParamProblem[]) {
    super(
      problems
        .map((p) => `hyperparameter ${HYPERPARAM_SECTION}/${p.name} = ${JSON.stringify(p.value)} ${p.problem}`)
        .join('; '),
    );
    this.name = 'InvalidParamsError';
  }
}

export interface ReadParams {
  params: ServiceParams;
  /** parameters not on the task, for which the default was used */
  missing: string[];
  /** parameters in General this service does not know */
  unknown: string[];
}

/**
 * Validates every value of section General. Throws InvalidParamsError listing all bad values;
 * a parameter someone deleted in the UI takes its default (and is reported in `missing`).
 */
export function parseHyperParams(items: readonly HyperParam[], defaults: ServiceParams = DEFAULT_PARAMS): ReadParams {
  const general = new Map(items.filter((i) => i.section === HYPERPARAM_SECTION).map((i) => [i.name, i]));
  const params: ServiceParams = { ...defaults };
  const problems: ParamProblem[] = [];
  const missing: string[] = [];
  for (const spec of PARAM_SPECS) {
    const item = general.get(spec.name);
    general.delete(spec.name);
    if (!item) {
      missing.push(spec.name);
      continue;
    }
    const raw = item.value === undefined || item.value === null ? '' : String(item.value);
    const text = spec.type === 'str' ? raw : raw.trim();
    if (spec.type !== 'str' && text === '') {
      problems.push({ name: spec.name, value: raw, problem: 'is empty: give it a value' });
      continue;
    }
    const r = spec.parse(text);
    if ('problem' in r) problems.push({ name: spec.name, value: raw, problem: r.problem });
    else (params as unknown as Record<string, unknown>)[spec.key] = r.value;
  }
  if (problems.length) throw new InvalidParamsError(problems);
  // the SDK's own marker, not a parameter of ours
  general.delete('_ignore_remote_overrides_');
  return { params, missing, unknown: [...general.keys()] };
}
