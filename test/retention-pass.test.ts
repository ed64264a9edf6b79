/**
 * The retention rules end to end against the embedded server: plan --json verdicts and rules for each
 * rule alone and combined, the budget with keep rules and with a lineage stand-in, bad flag values
 * (exit 2, one line, nothing deleted), report's budget columns, then a real pass that deletes what
 * the rules say and nothing else. Defaults behave as before (no extra listing).
 */
import { PassThrough } from 'node:stream';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { createLogger, type Log } from '../src/log/index.js';
import { runRunCommand } from '../src/commands/run.js';
import { runPlanCommand, type PlanArgs } from '../src/commands/plan.js';
import { runReportCommand, type ReportArgs } from '../src/commands/report.js';
import { runPass, silentLogger } from '../src/cleanup/index.js';
import { GB } from '../src/cleanup/rules/retention.js';
import { applyEnv, clearmlEnvFor, runOnceArgs } from './support/in-process-cli.js';
import { World, type BuiltTask, type TaskSpec } from './support/cleanup-world.js';

let w: World;
let home: string;
let restoreEnv: () => void;
const T: Record<string, BuiltTask> = {};
const projects: Record<string, string> = {};
/** bytes of a task's files (what the artifacts record and the file server holds) */
const bytes: Record<string, number> = {};

function capture(): { log: Log; text: () => string } {
  const stream = new PassThrough();
  let text = '';
  stream.on('data', (b: Buffer) => (text += b.toString()));
  return { log: createLogger({ format: 'text', stream }), text: () => text };
}

async function make(key: string, project: string, spec: TaskSpec, tags: string[] = []): Promise<void> {
  const t = await w.task({ name: `task ${key}`, artifacts: 2, ...spec });
  await w.call('tasks.update', { task: t.id, project: projects[project], tags });
  T[key] = t;
  const docs = await w.call<{ tasks: Array<{ execution?: { artifacts?: Array<{ content_size?: number }> } }> }>('tasks.get_all', {
    id: [t.id],
    only_fields: ['execution.artifacts'],
  });
  bytes[key] = (docs.tasks[0].execution?.artifacts ?? []).reduce((n, a) => n + (a.content_size ?? 0), 0);
}

beforeAll(async () => {
  w = await World.start();
  home = await mkdtemp(path.join(tmpdir(), 'retention-home-'));
  restoreEnv = applyEnv(clearmlEnvFor(w.server, home));
  for (const name of ['Sandbox/alice', 'Production/main', 'Scratch pad']) {
    projects[name] = (await w.call<{ id: string }>('projects.create', { name, description: '' })).id;
  }
  await make('a1', 'Sandbox/alice', { ageDays: 90 }, ['keep']);
  await make('a2', 'Sandbox/alice', { ageDays: 80 });
  await make('a3', 'Sandbox/alice', { ageDays: 70, status: 'stopped' });
  await make('a4', 'Sandbox/alice', { ageDays: 10 });
  await make('a5', 'Sandbox/alice', { ageDays: 5 });
  await make('b1', 'Production/main', { ageDays: 90 });
  // archived a day after b1: keep_last_per_project 1 keeps b2, never a tie broken by random ids
  await make('b2', 'Production/main', { ageDays: 89, status: 'completed' });
  await make('c1', 'Scratch pad', { ageDays: 60 });
  await w.finalize();
}, 60_000);

afterAll(async () => {
  restoreEnv?.();
  await w?.close();
  await rm(home, { recursive: true, force: true });
});

const base = (): PlanArgs => ({ ...runOnceArgs(w.stateDir), json: true });
const name = (id: string) => Object.keys(T).find((k) => T[k].id === id) ?? id;

interface PlanDoc {
  tasks: Array<{ id: string; verdict: string; rule: string; reason: string }>;
  skipped: Array<{ id: string; verdict: string; rule: string; reason: string }>;
  byRule: { taken: Record<string, number>; kept: Record<string, number> };
  budgets: Array<{ name: string; taken: number; archivedBytes: number; afterBytes: number }>;
}

async function plan(over: Partial<PlanArgs> = {}): Promise<{ doc: PlanDoc; verdicts: Record<string, string> }> {
  let out = '';
  const code = await runPlanCommand({ ...base(), ...over }, { log: capture().log, out: (t) => (out += t) });
  expect(code).toBe(0);
  const doc = JSON.parse(out) as PlanDoc;
  const verdicts: Record<string, string> = {};
  for (const t of doc.tasks) verdicts[name(t.id)] = `${t.verdict}:${t.rule}`;
  for (const s of doc.skipped) verdicts[name(s.id)] = `${s.verdict}:${s.rule}`;
  return { doc, verdicts };
}

async function apiCount(endpoint: string): Promise<number> {
  return ((await w.counters()).api[endpoint] ?? 0) as number;
}

describe('plan --json: each rule alone', () => {
  test('defaults: as before (age and Draft rules), no project listing', async () => {
    const before = await apiCount('projects.get_all');
    const { doc, verdicts } = await plan();
    expect(verdicts).toEqual({ a1: 'delete:age', a2: 'delete:age', b1: 'delete:age', c1: 'delete:age', a3: 'keep:status', b2: 'keep:status' });
    expect(doc.tasks[0].reason).toBe('older than 30 days');
    expect(doc.byRule).toEqual({ taken: { age: 4 }, kept: { status: 2 } });
    expect(await apiCount('projects.get_all')).toBe(before);
  });

  test('keep_tags', async () => {
    const { doc, verdicts } = await plan({ keepTags: 'keep,best' });
    expect(verdicts.a1).toBe('keep:keep_tags');
    expect(doc.skipped.find((s) => s.id === T.a1.id)!.reason).toBe('tag keep');
    expect(verdicts.a2).toBe('delete:age');
  });

  test('include_projects and exclude_projects', async () => {
    const inc = await plan({ includeProjects: 'Sandbox/**, Scratch*' });
    expect(inc.verdicts).toMatchObject({ a1: 'delete:age', c1: 'delete:age', b1: 'keep:include_projects', b2: 'keep:include_projects' });
    const ex = await plan({ includeProjects: 'Sandbox/**,Scratch*', excludeProjects: 'Scratch*' });
    expect(ex.verdicts).toMatchObject({ a1: 'delete:age', c1: 'keep:exclude_projects', b1: 'keep:include_projects' });
    expect(ex.doc.skipped.find((s) => s.id === T.c1.id)!.reason).toBe('project "Scratch pad" matches exclude_projects "Scratch*"');
  });

  test('delete_statuses with force_delete', async () => {
    const { verdicts } = await plan({ forceDelete: true, deleteStatuses: 'created,stopped' });
    expect(verdicts).toMatchObject({ a3: 'delete:age', b2: 'keep:delete_statuses', a1: 'delete:age' });
    const all = await plan({ forceDelete: true });
    expect(all.verdicts).toMatchObject({ a3: 'delete:age', b2: 'delete:age' });
  });

  test('keep_last_per_project: recent archived tasks count among the last N', async () => {
    const { doc, verdicts } = await plan({ keepLastPerProject: 4 });
    // Sandbox: a5 a4 a3 a2 are the last 4 (a3 stays for its status anyway); Production: both; Scratch: c1
    expect(verdicts).toEqual({ a1: 'delete:age', a2: 'keep:keep_last_per_project', a3: 'keep:status', b1: 'keep:keep_last_per_project', b2: 'keep:status', c1: 'keep:keep_last_per_project' });
    expect(doc.skipped.find((s) => s.id === T.a2.id)!.reason).toBe('last 4 of project Sandbox/alice');
  });

  test('budget: oldest first whatever the age, until the project fits', async () => {
    const sandbox = ['a1', 'a2', 'a3', 'a4', 'a5'].reduce((n, k) => n + bytes[k], 0);
    // room for two tasks' files: a1, a2 go by age, a3 is kept by its status, a4 goes for the budget
    const budget = (bytes.a4 + bytes.a5 + 1) / GB;
    const { doc, verdicts } = await plan({ archivedBudgetGbPerProject: budget });
    expect(verdicts).toMatchObject({ a1: 'delete:age', a2: 'delete:age', a3: 'keep:status', a4: 'delete:budget' });
    expect(verdicts.a5).toBeUndefined();
    const a4 = doc.tasks.find((t) => t.id === T.a4.id)!;
    expect(a4.reason).toMatch(/^over budget of Sandbox\/alice \(\d+ B > [\d.e-]+ GB\)$/);
    expect(doc.budgets).toEqual([expect.objectContaining({ name: 'Sandbox/alice', archivedBytes: sandbox, taken: 1 })]);
    expect(doc.byRule.taken).toEqual({ age: 4, budget: 1 });
  });
});

test('plan text: each line names its rule, the summary counts per rule', async () => {
  let out = '';
  const c = capture();
  expect(await runPlanCommand({ ...base(), json: false, keepTags: 'keep' }, { log: c.log, out: (t) => (out += t) })).toBe(0);
  expect(out).toContain(`keep   ${T.a1.id} "task a1": tag keep [keep_tags]`);
  expect(out).toMatch(new RegExp(`delete ${T.a2.id} .* \\[age: older than 30 days\\]`));
  expect(c.text()).toMatch(/by rule: would take age 3; kept status 2, keep_tags 1/);
  // at defaults the lines are as before
  out = '';
  expect(await runPlanCommand({ ...base(), json: false }, { log: capture().log, out: (t) => (out += t) })).toBe(0);
  expect(out).not.toContain('[');
});

describe('rules in combination', () => {
  const tight = () => (bytes.a3 + 1) / GB;

  test('budget with keep_tags and keep_last_per_project: never past them', async () => {
    const tags = await plan({ archivedBudgetGbPerProject: tight(), keepTags: 'keep' });
    expect(tags.verdicts).toMatchObject({ a1: 'keep:keep_tags', a2: 'delete:age', a3: 'keep:status', a4: 'delete:budget', a5: 'delete:budget' });
    const last = await plan({ archivedBudgetGbPerProject: tight(), keepTags: 'keep', keepLastPerProject: 1 });
    expect(last.verdicts).toMatchObject({ a1: 'keep:keep_tags', a2: 'delete:age', a4: 'delete:budget' });
    expect(last.verdicts.a5).toBeUndefined();
    // still over budget: the rest is kept by rules, and the plan says so
    const sandbox = last.doc.budgets.find((b) => b.name === 'Sandbox/alice')!;
    expect(sandbox.afterBytes).toBe(bytes.a1 + bytes.a3 + bytes.a5);
    // Production is over too, but its age deletion alone brings it under: the budget takes nothing there
    expect(last.doc.budgets.find((b) => b.name === 'Production/main')).toMatchObject({ taken: 0, afterBytes: bytes.b2 });
  });

  test('budget with include/exclude: an excluded project is never taken from', async () => {
    const { verdicts } = await plan({ archivedBudgetGbPerProject: tight(), excludeProjects: 'Sandbox/*' });
    for (const k of ['a1', 'a2', 'a3']) expect(verdicts[k]).toBe('keep:exclude_projects');
    expect(verdicts.a4).toBeUndefined();
    expect(verdicts.a5).toBeUndefined();
  });

  test('budget with a lineage-protected task (the hook issue 13 fills)', async () => {
    const seen: string[] = [];
    const r = await runPass(
      {
        api: w.client,
        storage: w.realStorage,
        log: silentLogger,
        protect: (t) => (t.id === T.a4.id ? 'a kept dataset version depends on it' : undefined),
        onPlan: (p) => void seen.push(...p.tasks.map((t) => `${name(t.id)}:${t.rule}`)),
      },
      { dryRun: true, pacingMs: 0, retention: { keepTags: [], keepLastPerProject: 0, includeProjects: [], excludeProjects: [], deleteStatuses: [], archivedBudgetGbPerProject: (bytes.a5 + 1) / GB } },
    );
    // a4 is protected: the budget takes a5 in its place, never a4
    expect(seen.sort()).toEqual(['a1:age', 'a2:age', 'a5:budget', 'b1:age', 'c1:age']);
    expect(r.rules.taken).toEqual({ age: 4, budget: 1 });
    expect(r.budgets?.find((b) => b.name === 'Sandbox/alice')).toMatchObject({ taken: 1, takenBytes: bytes.a5 });
  });
});

describe('bad values and the report', () => {
  test('a malformed glob, a negative budget, an unknown status: exit 2, one line, nothing deleted', async () => {
    const cases: Array<[Partial<PlanArgs>, string]> = [
      [{ includeProjects: 'Sandbox/[a' }, '--include-projects has a malformed project glob "Sandbox/[a"'],
      [{ excludeProjects: 'Prod**' }, '--exclude-projects has a malformed project glob "Prod**"'],
      [{ archivedBudgetGbPerProject: -1 }, '--archived-budget-gb-per-project must be a number of GB from 0'],
      [{ deleteStatuses: 'failed,finished' }, '--delete-statuses has an unknown task status "finished"'],
      [{ keepLastPerProject: -2 }, '--keep-last-per-project must be a whole number'],
    ];
    for (const [over, line] of cases) {
      let err = '';
      const code = await runRunCommand({ ...runOnceArgs(w.stateDir), ...over }, { log: capture().log, err: (t) => (err += t) });
      expect(code).toBe(2);
      expect(err.startsWith(`clearml-cleanup: ${line}`)).toBe(true);
      expect(err.trim().split('\n')).toHaveLength(1);
    }
    expect(await w.existingTasks(Object.values(T).map((t) => t.id))).toHaveLength(8);
  });

  test('report: per-project budget and how far over; counts per rule', async () => {
    const budgetGb = (bytes.a4 + bytes.a5 + 1) / GB;
    const args: ReportArgs = { ...runOnceArgs(w.stateDir), json: true, by: 'project', top: 5, minAgeDays: 7, archivedBudgetGbPerProject: budgetGb, keepTags: 'keep' };
    let out = '';
    expect(await runReportCommand(args, { out: (t) => (out += t), err: (t) => (out += t), log: capture().log })).toBe(0);
    const doc = JSON.parse(out);
    const sandbox = doc.byProject.find((p: { name: string }) => p.name === 'Sandbox/alice');
    expect(sandbox.budgetBytes).toBeCloseTo(bytes.a4 + bytes.a5 + 1, 3);
    expect(sandbox.overBytes).toBeCloseTo(sandbox.archivedBytes - sandbox.budgetBytes, 3);
    expect(sandbox.overBytes).toBeGreaterThan(0);
    const scratch = doc.byProject.find((p: { name: string }) => p.name === 'Scratch pad');
    expect(scratch.overBytes).toBe(0);
    expect(doc.nextPass.rules.kept).toMatchObject({ keep_tags: 1 });
    expect(doc.nextPass.rules.taken.budget).toBeGreaterThanOrEqual(1);

    out = '';
    expect(await runReportCommand({ ...args, json: false }, { out: (t) => (out += t), err: () => {}, log: capture().log })).toBe(0);
    expect(out).toMatch(/archived bytes\s+budget\s+over budget/);
    expect(out).toMatch(/next pass by rule: would take age \d+, budget \d+; kept .*keep_tags 1/);
    expect(out).toMatch(/next pass budget of Sandbox\/alice: .* over; the budget would take/);
  });
});

describe('a real pass', () => {
  test('deletes what the rules say with its files, keeps the rest; the summary counts per rule', async () => {
    const c = capture();
    const budget = (bytes.a1 + bytes.a3 + bytes.a5 + 1) / GB;
    const code = await runRunCommand(
      { ...runOnceArgs(w.stateDir), keepTags: 'keep', excludeProjects: 'Scratch*', archivedBudgetGbPerProject: budget },
      { log: c.log },
    );
    expect(code).toBe(0);
    const gone = ['a2', 'a4', 'b1'];
    const kept = ['a1', 'a3', 'a5', 'b2', 'c1'];
    const left = await w.existingTasks(Object.values(T).map((t) => t.id));
    expect(left.map(name).sort()).toEqual(kept);
    for (const k of gone) expect(await w.existing(T[k].files)).toEqual([]);
    for (const k of kept) expect(await w.existing(T[k].files)).toEqual(T[k].files);
    expect(c.text()).toMatch(/by rule: took age 2, budget 1; kept status 2, exclude_projects 1, keep_tags 1/);
    expect(c.text()).toMatch(/budget of Sandbox\/alice: .* the budget took 1 tasks/);
  });
});
