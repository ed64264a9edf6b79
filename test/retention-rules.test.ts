/**
 * The retention rules as pure functions: project globs, the value checks shared by the CLI flags and
 * the task's hyperparameters, decide() for each rule alone and in combination, and the project stage
 * (keep_last_per_project, then the budget) including a lineage protector standing in for issue 13.
 */
import { compileGlob, globProblem } from '../src/cleanup/rules/glob.js';
import {
  compileRetention,
  DEFAULT_RETENTION,
  GB,
  parseGlobList,
  parseStatusList,
  retentionActive,
  type RetentionRules,
} from '../src/cleanup/rules/retention.js';
import { decide, projectStage, type DecideContext, type StageTask, type TaskFacts } from '../src/cleanup/rules/decide.js';
import { judge } from '../src/cleanup/select.js';
import { retentionOf, UsageError } from '../src/commands/engine.js';
import { DEFAULT_PARAMS, InvalidParamsError, parseHyperParams, retentionOfParams, toHyperParams } from '../src/task/params.js';

const cutoff = new Date('2026-01-01T00:00:00Z');
const OLD = '2025-11-01T00:00:00';
const RECENT = '2026-01-10T00:00:00';
const paths: Record<string, string> = { p1: 'Sandbox/alice', p2: 'Production/model', p3: 'Scratch pad', p4: 'Sandbox/deep/er' };

function ctx(r: Partial<RetentionRules> = {}, over: Partial<DecideContext> = {}): DecideContext {
  return {
    cutoff,
    forceDelete: false,
    thresholdDays: 30,
    retention: compileRetention({ ...DEFAULT_RETENTION, ...r }),
    projectPath: (id) => (id ? paths[id] : ''),
    ...over,
  };
}

function task(over: Partial<TaskFacts> = {}): TaskFacts {
  return { id: 't1', name: 'n', status: 'created', project: 'p1', company: 'c', system_tags: ['archived'], tags: [], last_change: OLD, ...over };
}

describe('project globs', () => {
  test('* stays in one segment, ** spans any depth (none included), ? one character', () => {
    expect(compileGlob('Sandbox/*')('Sandbox/alice')).toBe(true);
    expect(compileGlob('Sandbox/*')('Sandbox/deep/er')).toBe(false);
    expect(compileGlob('Sandbox/*')('Sandbox')).toBe(false);
    expect(compileGlob('Sandbox/**')('Sandbox/deep/er')).toBe(true);
    expect(compileGlob('Sandbox/**')('Sandbox')).toBe(true);
    expect(compileGlob('Sandbox/**')('Sandboxes/x')).toBe(false);
    expect(compileGlob('**/er')('Sandbox/deep/er')).toBe(true);
    expect(compileGlob('**/er')('er')).toBe(true);
    expect(compileGlob('Scratch*')('Scratch pad')).toBe(true);
    expect(compileGlob('Scratch*')('Scratch/x')).toBe(false);
    expect(compileGlob('**')('a/b/c')).toBe(true);
    expect(compileGlob('a?c')('abc')).toBe(true);
    expect(compileGlob('a?c')('a/c')).toBe(false);
    // regex characters are literal
    expect(compileGlob('v1.0 (old)')('v1.0 (old)')).toBe(true);
    expect(compileGlob('v1.0')('v1x0')).toBe(false);
  });

  test('malformed globs are named, never taken literally', () => {
    for (const bad of ['Sandbox/[ab]', 'a{b}', '/abs', 'trail/', 'a//b', 'Scratch**', 'a/**b', 'back\\slash']) {
      expect(globProblem(bad)).toBeDefined();
      const r = parseGlobList(`ok/*, ${bad}`);
      expect('problem' in r && r.problem).toContain(`malformed project glob "${bad}"`);
    }
    expect(parseGlobList(' Sandbox/* , Scratch*,')).toEqual({ value: ['Sandbox/*', 'Scratch*'] });
  });

  test('statuses are checked against the ClearML list; the web app names are accepted', () => {
    expect(parseStatusList('created, failed,stopped')).toEqual({ value: ['created', 'failed', 'stopped'] });
    expect(parseStatusList('Draft,Aborted,running')).toEqual({ value: ['created', 'stopped', 'in_progress'] });
    const r = parseStatusList('failed,finished');
    expect('problem' in r && r.problem).toMatch(/unknown task status "finished" \(known: created, queued, in_progress/);
  });
});

describe('decide: each rule alone', () => {
  test('defaults: exactly the age and Draft rules of before', () => {
    const c = ctx();
    expect(retentionActive(DEFAULT_RETENTION)).toBe(false);
    expect(decide(task(), c)).toMatchObject({ verdict: 'delete', rule: 'age', reason: 'older than 30 days' });
    expect(decide(task({ last_change: RECENT }), c)).toMatchObject({ verdict: 'ignore', rule: 'age', budgetable: true });
    expect(decide(task({ status: 'failed' }), c)).toMatchObject({ verdict: 'keep', rule: 'status' });
    expect(decide(task({ system_tags: [] }), c)).toMatchObject({ verdict: 'ignore', rule: 'archived' });
    expect(decide(task({ company: '' }), c)).toMatchObject({ verdict: 'keep', rule: 'example_task' });
    expect(decide(task(), { ...c, protectedIds: new Set(['t1']) })).toMatchObject({ verdict: 'keep', rule: 'service_task' });
  });

  test('keep_tags', () => {
    const c = ctx({ keepTags: ['keep', 'best'] });
    expect(decide(task({ tags: ['x', 'best'] }), c)).toMatchObject({ verdict: 'keep', rule: 'keep_tags', reason: 'tag best' });
    expect(decide(task({ tags: ['keeper'] }), c)).toMatchObject({ verdict: 'delete', rule: 'age' });
    // a kept recent task is not for the budget either
    expect(decide(task({ tags: ['keep'], last_change: RECENT }), c)).toMatchObject({ verdict: 'ignore', keptBy: { rule: 'keep_tags' } });
    expect(decide(task({ tags: ['keep'], last_change: RECENT }), c).budgetable).toBeUndefined();
  });

  test('include_projects and exclude_projects (exclude wins)', () => {
    const inc = ctx({ includeProjects: ['Sandbox/**', 'Scratch*'] });
    expect(decide(task({ project: 'p1' }), inc).verdict).toBe('delete');
    expect(decide(task({ project: 'p4' }), inc).verdict).toBe('delete');
    expect(decide(task({ project: 'p3' }), inc).verdict).toBe('delete');
    expect(decide(task({ project: 'p2' }), inc)).toMatchObject({ verdict: 'keep', rule: 'include_projects', reason: 'project "Production/model" matches no include_projects glob' });
    const both = ctx({ includeProjects: ['Sandbox/**'], excludeProjects: ['Sandbox/deep/**'] });
    expect(decide(task({ project: 'p4' }), both)).toMatchObject({ verdict: 'keep', rule: 'exclude_projects', reason: 'project "Sandbox/deep/er" matches exclude_projects "Sandbox/deep/**"' });
    expect(decide(task({ project: 'p1' }), both).verdict).toBe('delete');
  });

  test('delete_statuses narrows force_delete; without force only Drafts', () => {
    const c = ctx({ deleteStatuses: ['created', 'failed'] }, { forceDelete: true });
    expect(decide(task({ status: 'failed' }), c).verdict).toBe('delete');
    expect(decide(task({ status: 'completed' }), c)).toMatchObject({ verdict: 'keep', rule: 'delete_statuses', reason: 'status completed is not in delete_statuses (created, failed)' });
    const noForce = ctx({ deleteStatuses: ['failed'] });
    expect(decide(task({ status: 'failed' }), noForce)).toMatchObject({ verdict: 'keep', rule: 'status' });
    expect(decide(task({ status: 'created' }), noForce).verdict).toBe('delete');
  });

  test('lineage protector keeps, with its reason', () => {
    const c = ctx({}, { protect: (t) => (t.id === 't1' ? 'dataset version used by kept version v2' : undefined) });
    expect(decide(task(), c)).toMatchObject({ verdict: 'keep', rule: 'lineage', reason: 'dataset version used by kept version v2' });
    expect(decide(task({ id: 't2' }), c).verdict).toBe('delete');
  });

  test('judge() keeps a budget decision at the re-check unless a rule now keeps the task', () => {
    const rules = ctx({ keepTags: ['keep'], archivedBudgetGbPerProject: 1 });
    const prior = { rule: 'budget' as const, reason: 'over budget of Sandbox/alice (2.0 GB > 1 GB)' };
    const v = judge({ ...task({ last_change: RECENT }), id: 't1' }, rules, prior);
    expect(v).toMatchObject({ kind: 'delete', candidate: { rule: 'budget', reason: prior.reason } });
    // tagged "keep" in the web app between selection and deletion
    expect(judge({ ...task({ last_change: RECENT, tags: ['keep'] }) }, rules, prior)).toMatchObject({ kind: 'skip', rule: 'keep_tags' });
    // without the budget's verdict a recent task is not eligible
    expect(judge(task({ last_change: RECENT }), rules).kind).toBe('ineligible');
  });
});

/** Archived tasks of one project, day d archived d days before 2026-02-01 (the cutoff is 2026-01-01). */
function stageOf(specs: Array<{ id: string; daysAgo: number; gb: number } & Partial<TaskFacts>>, c: DecideContext): StageTask[] {
  return specs.map(({ id, daysAgo, gb, ...over }) => {
    const at = new Date(Date.UTC(2026, 1, 1) - daysAgo * 86_400_000).toISOString().replace('Z', '');
    const decision = decide(task({ id, last_change: at, ...over }), c);
    return { id, project: (over.project as string) ?? 'p1', archivedAt: decision.archivedAt!, bytes: gb * GB, decision };
  });
}
const verdicts = (s: StageTask[]) => Object.fromEntries(s.map((t) => [t.id, `${t.decision.verdict}:${t.decision.rule}`]));

describe('the project stage', () => {
  const six = [
    { id: 'a', daysAgo: 90, gb: 1 },
    { id: 'b', daysAgo: 80, gb: 1 },
    { id: 'c', daysAgo: 70, gb: 1 },
    { id: 'd', daysAgo: 20, gb: 1 },
    { id: 'e', daysAgo: 10, gb: 1 },
    { id: 'f', daysAgo: 5, gb: 1 },
  ];

  test('keep_last_per_project alone: the N most recently archived stay, recent ones count', () => {
    const c = ctx({ keepLastPerProject: 4 });
    const s = stageOf(six, c);
    projectStage(s, c.retention!, () => 'Sandbox/alice');
    expect(verdicts(s)).toEqual({ a: 'delete:age', b: 'delete:age', c: 'keep:keep_last_per_project', d: 'ignore:age', e: 'ignore:age', f: 'ignore:age' });
    expect(s.find((t) => t.id === 'c')!.decision.reason).toBe('last 4 of project Sandbox/alice');
  });

  test('keep_last counts per project', () => {
    const c = ctx({ keepLastPerProject: 1 });
    const s = stageOf([{ id: 'x1', daysAgo: 90, gb: 0 }, { id: 'x2', daysAgo: 80, gb: 0 }, { id: 'y1', daysAgo: 90, gb: 0, project: 'p2' }], c);
    projectStage(s, c.retention!, (p) => p);
    expect(verdicts(s)).toEqual({ x1: 'delete:age', x2: 'keep:keep_last_per_project', y1: 'keep:keep_last_per_project' });
  });

  test('budget alone: oldest first, whatever the age, until it fits', () => {
    const c = ctx({ archivedBudgetGbPerProject: 2, deleteStatuses: [] }, { thresholdDays: 30 });
    // with age 30 days a, b, c go by age (3 GB); 3 GB left > 2 GB: d (the oldest recent one) goes for the budget
    const s = stageOf(six, c);
    const budgets = projectStage(s, c.retention!, () => 'Sandbox/alice');
    expect(verdicts(s)).toEqual({ a: 'delete:age', b: 'delete:age', c: 'delete:age', d: 'delete:budget', e: 'ignore:age', f: 'ignore:age' });
    expect(s.find((t) => t.id === 'd')!.decision.reason).toBe('over budget of Sandbox/alice (6.0 GB > 2 GB)');
    expect(budgets).toEqual([{ project: 'p1', name: 'Sandbox/alice', budgetBytes: 2 * GB, archivedBytes: 6 * GB, afterBytes: 2 * GB, taken: 1, takenBytes: GB }]);
  });

  test('a project within its budget is left to the age rule; tasks without known bytes are not taken', () => {
    const c = ctx({ archivedBudgetGbPerProject: 10 });
    const s = stageOf(six, c);
    expect(projectStage(s, c.retention!, () => 'P')).toEqual([]);
    const c2 = ctx({ archivedBudgetGbPerProject: 0.5 });
    const s2 = stageOf([{ id: 'old', daysAgo: 90, gb: 0 }, { id: 'zero', daysAgo: 20, gb: 0 }, { id: 'big', daysAgo: 10, gb: 1 }], c2);
    projectStage(s2, c2.retention!, () => 'P');
    expect(verdicts(s2)).toEqual({ old: 'delete:age', zero: 'ignore:age', big: 'delete:budget' });
  });

  test('budget never goes past keep_tags, keep_last_per_project, statuses or lineage', () => {
    const protect = (t: TaskFacts) => (t.id === 'e' ? 'parent of kept dataset version' : undefined);
    const c = ctx({ archivedBudgetGbPerProject: 0.5, keepTags: ['keep'], keepLastPerProject: 1 }, { protect });
    const s = stageOf(
      [
        { id: 'a', daysAgo: 90, gb: 1, tags: ['keep'] },
        { id: 'b', daysAgo: 40, gb: 1, status: 'completed' },
        { id: 'c', daysAgo: 20, gb: 1, status: 'failed' },
        { id: 'd', daysAgo: 15, gb: 1 },
        { id: 'e', daysAgo: 10, gb: 1 },
        { id: 'f', daysAgo: 5, gb: 1 },
      ],
      c,
    );
    const budgets = projectStage(s, c.retention!, () => 'P');
    expect(verdicts(s)).toEqual({
      a: 'keep:keep_tags',
      b: 'keep:status',
      c: 'ignore:age',
      d: 'delete:budget',
      e: 'ignore:age',
      f: 'ignore:age',
    });
    // still over: everything else is kept by a rule
    expect(budgets[0]).toMatchObject({ archivedBytes: 6 * GB, afterBytes: 5 * GB, taken: 1 });
  });
});

describe('the same values from the CLI and from the task', () => {
  test('CLI flags: one UsageError line naming the flag', () => {
    const bad: Array<[object, RegExp]> = [
      [{ includeProjects: 'Sandbox/[x' }, /^--include-projects has a malformed project glob "Sandbox\/\[x"/],
      [{ excludeProjects: 'a//b' }, /^--exclude-projects has a malformed project glob "a\/\/b": it has an empty path segment/],
      [{ deleteStatuses: 'failed,done' }, /^--delete-statuses has an unknown task status "done"/],
      [{ archivedBudgetGbPerProject: -1 }, /^--archived-budget-gb-per-project must be a number of GB from 0 .*, got -1$/],
      [{ archivedBudgetGbPerProject: NaN }, /got a value that is not a number$/],
      [{ keepLastPerProject: 2.5 }, /^--keep-last-per-project must be a whole number from 0 to 1000000 \(0 = off\), got 2.5$/],
    ];
    for (const [args, msg] of bad) {
      let err: unknown;
      try {
        retentionOf(args);
      } catch (e) {
        err = e;
      }
      expect(err).toBeInstanceOf(UsageError);
      expect((err as Error).message).toMatch(msg);
      expect((err as Error).message).not.toContain('\n');
    }
    expect(retentionOf({ keepTags: 'keep, best', includeProjects: 'Sandbox/*', deleteStatuses: 'Draft', archivedBudgetGbPerProject: 40, keepLastPerProject: 3 })).toEqual({
      keepTags: ['keep', 'best'],
      keepLastPerProject: 3,
      includeProjects: ['Sandbox/*'],
      excludeProjects: [],
      deleteStatuses: ['created'],
      archivedBudgetGbPerProject: 40,
    });
  });

  test('hyperparameters: written with the others, read back, bad values named', () => {
    const items = toHyperParams({ ...DEFAULT_PARAMS, keepTags: 'keep', archivedBudgetGbPerProject: 40 });
    const byName = Object.fromEntries(items.map((i) => [i.name, i]));
    expect(byName.keep_tags).toMatchObject({ value: 'keep', type: 'str' });
    expect(byName.archived_budget_gb_per_project).toMatchObject({ value: '40.0', type: 'float' });
    expect(byName.keep_last_per_project).toMatchObject({ value: '0', type: 'int' });
    const read = parseHyperParams(items).params;
    expect(retentionOfParams(read)).toMatchObject({ keepTags: ['keep'], archivedBudgetGbPerProject: 40 });

    const set = (name: string, value: string) => items.map((i) => (i.name === name ? { ...i, value } : i));
    const cases: Array<[string, string, string]> = [
      ['include_projects', 'Sandbox/{a}', 'malformed project glob "Sandbox/{a}"'],
      ['exclude_projects', 'Prod**', '"**" must stand alone'],
      ['delete_statuses', 'created,bogus', 'unknown task status "bogus"'],
      ['archived_budget_gb_per_project', '-5', 'must be a number of GB from 0'],
      ['archived_budget_gb_per_project', '1e400', 'must be a number of GB from 0'],
      ['keep_last_per_project', '-1', 'must be a whole number from 0 to 1000000'],
      ['keep_last_per_project', 'three', 'must be a whole number'],
    ];
    for (const [name, value, problem] of cases) {
      let err: unknown;
      try {
        parseHyperParams(set(name, value));
      } catch (e) {
        err = e;
      }
      expect(err).toBeInstanceOf(InvalidParamsError);
      expect((err as Error).message).toBe(`hyperparameter General/${name} = ${JSON.stringify(value)} ${(err as InvalidParamsError).problems[0].problem}`);
      expect((err as Error).message).toContain(problem);
    }
  });
});
