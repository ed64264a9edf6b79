/**
 * The retention rules in the task (agent mode): they are General hyperparameters, edited in the web
 * app (tasks.edit_hyper_params) between passes; each pass uses the values of the moment, the CONSOLE
 * says what each rule took and kept, and a malformed value stops the service with one line, nothing
 * deleted.
 */
import type { ClearMLClient } from '../src/api/index.js';
import type { Engine } from '../src/commands/engine.js';
import type { RunningServer } from '../src/server/index.js';
import { DEFAULT_PARAMS, readRepoInfo, registerTask, runTaskService, type ServiceParams } from '../src/task/index.js';
import { collectingLog, startEngineWorld, waitFor, type TempRepo } from './support/task-world.js';

let server: RunningServer;
let client: ClearMLClient;
let engine: Engine;
let repo: TempRepo;
let stateDir: string;
let closeWorld: () => Promise<void>;

beforeAll(async () => {
  ({ server, client, engine, repo, stateDir, close: closeWorld } = await startEngineWorld('task-retention-'));
});
afterAll(async () => {
  await closeWorld?.();
});

async function agentTask(params: Partial<ServiceParams>): Promise<string> {
  const reg = await registerTask(client, {
    repo: await readRepoInfo(repo.dir),
    params: { ...DEFAULT_PARAMS, ...params },
    log: collectingLog(),
    taskName: `Cleanup Service ${Math.random().toString(36).slice(2)}`,
  });
  await client.tasks.enqueue({ task: reg.taskId, queue_name: 'services' });
  await client.call('tasks.dequeue', { task: reg.taskId, new_status: 'in_progress' });
  await client.tasks.started({ task: reg.taskId, force: true, status_message: 'launch by agent' });
  return reg.taskId;
}

const projectIds = new Map<string, string>();

/** An archived Draft in `project` (created if needed), archived 90 days ago. */
async function oldDraft(name: string, project: string, tags: string[] = []): Promise<string> {
  let pid = projectIds.get(project);
  if (!pid) {
    pid = (await client.call<{ id: string }>('projects.create', { name: project, description: '' })).id;
    projectIds.set(project, pid);
  }
  const { id } = await client.tasks.create({ name, type: 'training', project: pid, tags } as never);
  await client.tasks.archive({ tasks: [id] });
  const res = await fetch(`${server.apiUrl}/_embedded/backdate`, { method: 'POST', body: JSON.stringify({ tasks: [id], days: 90 }) });
  if (res.status !== 200) throw new Error(`backdate failed: ${res.status}`);
  return id;
}

async function setParams(taskId: string, values: Record<string, string>): Promise<void> {
  await client.tasks.editHyperParams({
    task: taskId,
    force: true,
    hyperparams: Object.entries(values).map(([name, value]) => ({ section: 'General', name, value })),
  });
}

async function alive(ids: string[]): Promise<string[]> {
  return (await client.tasks.getAll({ id: ids, only_fields: ['id'], search_hidden: true })).tasks.map((t) => t.id);
}

test('rules edited in the web app between passes apply from the next pass; a malformed glob stops the service, nothing deleted', async () => {
  const kept = await oldDraft('tagged run', 'Scratch/alpha', ['keep']);
  const scratch = await oldDraft('scratch run', 'Scratch/alpha');
  const prod = await oldDraft('prod run', 'Prod');
  const guarded = await oldDraft('guarded run', 'Keep/xyz');
  const all = [kept, scratch, prod, guarded];
  const id = await agentTask({ keepTags: 'keep', includeProjects: 'Scratch/**', cleanupPeriodInDays: 0.00002, pacingMs: 0 });
  const log = collectingLog(!!process.env.TASK_TEST_ECHO);
  const running = runTaskService({
    client,
    api: engine.api,
    storage: engine.storage,
    log,
    taskId: id,
    underAgent: true,
    shipConsole: false,
    defaults: DEFAULT_PARAMS,
    defaultStateDir: stateDir,
    pollMs: 50,
    pingMs: 200,
    tickMs: 50,
  });

  // pass 1: only Scratch/**, and the tagged task stays
  await waitFor('the first pass', async () => log.text().includes('Summary: deleted 1 tasks'));
  expect(await alive(all)).toEqual(expect.arrayContaining([kept, prod, guarded]));
  expect(await alive([scratch])).toEqual([]);
  expect(log.text()).toMatch(/by rule: took age 1; kept include_projects 2, keep_tags 1/);
  expect(log.text()).toContain('keep_tags');

  // the web app: no more include/keep_tags, but Keep/** is excluded
  await setParams(id, { include_projects: '', keep_tags: '', exclude_projects: 'Keep/**' });
  await waitFor('the pass with the edited rules', async () => log.text().includes('Summary: deleted 2 tasks'));
  expect(await alive(all)).toEqual([guarded]);
  expect(log.text()).toMatch(/by rule: took age 2; kept exclude_projects 1/);
  const h = await client.call<Record<string, Record<string, { y: number[] }>>>('events.scalar_metrics_iter_histogram', { task: id });
  expect(h['tasks by rule']['took age'].y).toEqual(expect.arrayContaining([1, 2]));
  expect(h['tasks by rule']['kept keep_tags'].y).toContain(1);

  // a malformed glob: the service stops with one line naming it; the excluded task is still there
  await setParams(id, { exclude_projects: 'Keep/[xyz' });
  expect(await running).toBe(2);
  const line = log.text().split('\n').find((l) => l.includes('General/exclude_projects'));
  expect(line).toContain('hyperparameter General/exclude_projects = "Keep/[xyz" has a malformed project glob "Keep/[xyz"');
  expect(await alive([guarded])).toEqual([guarded]);
});

test('a bad value at the start fails the task before any pass', async () => {
  const victim = await oldDraft('would go', 'Elsewhere');
  const id = await agentTask({});
  await setParams(id, { archived_budget_gb_per_project: '-3' });
  const log = collectingLog();
  const code = await runTaskService({
    client,
    api: engine.api,
    storage: engine.storage,
    log,
    taskId: id,
    underAgent: true,
    shipConsole: false,
    defaults: DEFAULT_PARAMS,
    defaultStateDir: stateDir,
    pollMs: 50,
    pingMs: 200,
    tickMs: 50,
  });
  expect(code).toBe(2);
  expect(log.text()).toContain('hyperparameter General/archived_budget_gb_per_project = "-3" must be a number of GB from 0');
  expect(log.text()).not.toContain('Summary:');
  expect(await alive([victim])).toEqual([victim]);
});
