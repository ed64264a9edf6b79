/**
 * What clearml-cleanup sends, checked against what clearml-server accepts (src/server/schema/wire-table.ts):
 * every request of plan, report, orphans, a pass without and with force, a pass on an old server
 * (API 2.13, with registration and the task mode there too), registration with enqueueing, and a
 * run as a ClearML task under an agent is read from
 * the embedded server's request log and checked: the endpoint exists at that version, every field is
 * known to that server, of its type and allowed values, and no field whose default makes the server
 * delete something is left unset (delete_external_artifacts explicitly false where it exists).
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { PassThrough } from 'node:stream';
import { runOrphansCommand } from '../src/commands/orphans.js';
import { runPlanCommand } from '../src/commands/plan.js';
import { runReportCommand } from '../src/commands/report.js';
import { runRunCommand, type RunArgs } from '../src/commands/run.js';
import { createLogger } from '../src/log/index.js';
import { createDatasetVersion } from '../src/seed/datasets.js';
import { checkRequest } from '../src/server/schema/check.js';
import { WIRE_TABLE } from '../src/server/schema/wire-table.js';
import { applyEnv, clearmlEnvFor, runOnceArgs } from './support/in-process-cli.js';
import { World } from './support/cleanup-world.js';
import { makeRepo, type TempRepo } from './support/task-world.js';

let w: World;
let old: World;
let home: string;
let repo: TempRepo;

beforeAll(async () => {
  [w, old] = await Promise.all([World.start({ recordRequests: true }), World.start({ apiVersion: '2.13', recordRequests: true })]);
  home = await mkdtemp(path.join(tmpdir(), 'wire-home-'));
  repo = makeRepo('pushed');
});
afterAll(async () => {
  await Promise.all([w?.close(), old?.close()]);
  repo?.cleanup();
  if (home) await rm(home, { recursive: true, force: true });
});

/** io of an in-process command; text() is everything it printed and logged */
function quietIo() {
  const stream = new PassThrough();
  let text = '';
  stream.on('data', (b: Buffer) => (text += b.toString()));
  return { io: { out: (t: string) => void (text += t), err: (t: string) => void (text += t), log: createLogger({ stream }) }, text: () => text };
}

/** Runs one step against `world`, then checks every request it made; returns the endpoints used. */
async function step(world: World, what: string, run: () => Promise<number>, env: Record<string, string> = {}): Promise<string[]> {
  world.server.clearRequests();
  const restore = applyEnv({ ...clearmlEnvFor(world.server, home), ...env });
  let code: number;
  try {
    code = await run();
  } finally {
    restore();
  }
  expect({ what, code }).toEqual({ what, code: 0 });
  const sent = world.server.requests();
  expect(sent.length).toBeGreaterThan(0);
  const problems = sent.flatMap((r) => checkRequest(r, world.server.apiVersion)).map((p) => `${what}: ${p}`);
  expect(problems).toEqual([]);
  if (process.env.WIRE_TEST_DEBUG) console.log(what, [...new Set(sent.map((r) => `${r.endpoint}@${r.requested}`))].join(' '));
  return sent.map((r) => r.endpoint);
}

/** A dataset family (parent kept by its child), archived and old: the lineage step reads it. */
async function datasets(world: World): Promise<void> {
  const sink = { api: world.api, filesUrl: world.server.filesUrl, upload: async (p: string, body: Buffer) => void world.uploadFile(p, body) };
  const parent = await createDatasetVersion(sink, { project: 'wire', name: 'imgs', version: '1.0.0', chunks: 1 });
  const child = await createDatasetVersion(sink, { project: 'wire', name: 'imgs', version: '1.1.0', chunks: 1, parents: [parent] });
  await world.finalize();
  await world.call('tasks.archive_many', { ids: [parent.id] });
  await world.backdate([parent.id, child.id], 60);
}

const common = { deleteThresholdDays: 30, forceDelete: false, concurrency: 4, batchSize: 500, pacingMs: 0, logFormat: 'text' as const };

test('every request of every mode is one the server accepts, with no deleting default left unset', async () => {
  // the world: eligible Drafts with files, images and models; a completed task for the forced pass;
  // a shared model file and a model in use; kept tasks
  const keeper = await w.task({ archived: false, models: [{}] });
  await w.task({ artifacts: 2, debugImages: 120, plotImages: 2, models: [{}] });
  await w.task({ artifacts: 1, models: [{ uri: keeper.models[0].uri }] });
  const owner = await w.task({ models: [{}] });
  const user = await w.task({ archived: false });
  await w.useAsInput(user.id, owner.models[0].id);
  await w.task({ status: 'completed', artifacts: 1, debugImages: 3 });
  await w.task({ ageDays: 2, artifacts: 1 });
  await w.finalize();
  await datasets(w);
  await w.call('queues.create', { name: 'services' });
  const files = path.join(w.server.dataDir, 'files');
  const once: RunArgs = { ...runOnceArgs(w.stateDir), pacingMs: 0 };

  await step(w, 'plan', () => runPlanCommand({ ...common, json: true, stateDir: w.stateDir }, quietIo().io));
  await step(w, 'report', () =>
    runReportCommand({ ...common, json: true, by: 'project', top: 5, minAgeDays: 0, fileserverDir: files, stateDir: w.stateDir }, quietIo().io),
  );
  await step(w, 'orphans', () =>
    runOrphansCommand({ ...common, json: true, delete: false, minAgeDays: 0, fileserverDir: files, stateDir: w.stateDir }, quietIo().io),
  );
  const pass = await step(w, 'pass', () => runRunCommand(once, quietIo().io));
  expect(pass).toEqual(expect.arrayContaining(['tasks.delete_many', 'models.delete_many', 'events.debug_images', 'events.plots', 'tasks.get_configurations']));
  const forced = await step(w, 'forced pass', () => runRunCommand({ ...once, forceDelete: true }, quietIo().io));
  expect(forced).toContain('tasks.delete_many');
  // retention rules (project stage): every archived task listed, projects read
  const kept = await step(w, 'retention pass', () => runRunCommand({ ...once, keepLastPerProject: 1, archivedBudgetGbPerProject: 1 }, quietIo().io));
  expect(kept).toContain('projects.get_all');

  // registration and enqueueing (run --run-as-service true from a clone)
  const reg = quietIo();
  const registered = await step(w, 'register + enqueue', () =>
    runRunCommand({ ...once, once: false, runAsService: true, repoDir: repo.dir, queue: 'services' }, reg.io),
  );
  expect(registered).toEqual(expect.arrayContaining(['tasks.create', 'tasks.edit', 'tasks.enqueue']));
  const taskId = /Task id: ([0-9a-f]{32})/.exec(reg.text())?.[1];
  expect(taskId).toBeDefined();

  // the task under an agent: CLEARML_TASK_ID set, one pass
  const agent = await step(w, 'task mode', () => runRunCommand({ ...once, runAsService: true, once: true }, quietIo().io), {
    CLEARML_TASK_ID: taskId!,
    CLEARML_LOG_TASK_TO_BACKEND: '0',
  });
  expect(agent).toEqual(expect.arrayContaining(['tasks.get_hyper_params', 'events.add_batch']));
  // the same task run without an agent (run --task-id: console and status sent by us), and the
  // storage report posting its figures as the task's scalars
  const own = await step(w, 'run --task-id', () => runRunCommand({ ...once, runAsService: true, once: true, taskId: taskId! }, quietIo().io));
  expect(own).toEqual(expect.arrayContaining(['tasks.completed', 'events.add_batch']));
  await step(w, 'report --task-id', () =>
    runReportCommand({ ...common, json: true, by: 'task', top: 3, minAgeDays: 0, fileserverDir: files, stateDir: w.stateDir, taskId: taskId! }, quietIo().io),
  );

  // an old server (API 2.13): no events.plots, no delete_external_artifacts (that server has none)
  await old.task({ artifacts: 1, debugImages: 110, plotImages: 2, models: [{}] });
  await old.finalize();
  await datasets(old);
  const oldFiles = path.join(old.server.dataDir, 'files');
  await step(old, 'old-server plan', () => runPlanCommand({ ...common, json: true, stateDir: old.stateDir }, quietIo().io));
  await step(old, 'old-server report', () =>
    runReportCommand({ ...common, json: true, by: 'project', top: 5, minAgeDays: 0, fileserverDir: oldFiles, stateDir: old.stateDir }, quietIo().io),
  );
  await step(old, 'old-server orphans', () =>
    runOrphansCommand({ ...common, json: true, delete: false, minAgeDays: 0, fileserverDir: oldFiles, stateDir: old.stateDir }, quietIo().io),
  );
  const oldPass = await step(old, 'old-server pass', () => runRunCommand({ ...runOnceArgs(old.stateDir), pacingMs: 0 }, quietIo().io));
  expect(oldPass).toContain('tasks.delete_many');
  expect(oldPass).not.toContain('events.plots');
  // and registration, enqueueing and the task mode on that old server
  await old.call('queues.create', { name: 'services' });
  const oldReg = quietIo();
  const oldOnce: RunArgs = { ...runOnceArgs(old.stateDir), pacingMs: 0 };
  await step(old, 'old-server register + enqueue', () =>
    runRunCommand({ ...oldOnce, once: false, runAsService: true, repoDir: repo.dir, queue: 'services' }, oldReg.io),
  );
  const oldTask = /Task id: ([0-9a-f]{32})/.exec(oldReg.text())?.[1];
  expect(oldTask).toBeDefined();
  await step(old, 'old-server task mode', () => runRunCommand({ ...oldOnce, runAsService: true, once: true }, quietIo().io), {
    CLEARML_TASK_ID: oldTask!,
    CLEARML_LOG_TASK_TO_BACKEND: '0',
  });
});

describe('the checker finds what a real server would do differently', () => {
  const at = (endpoint: string, body: unknown, served = '2.34') => checkRequest({ endpoint, served, body }, '2.34');

  test('a deleting default left unset, or set to delete', () => {
    expect(at('models.delete_many', { ids: ['a'], force: false })).toEqual([
      expect.stringMatching(/"delete_external_artifacts" left to the server's default \(true\)/),
    ]);
    expect(at('tasks.delete_many', { ids: ['a'], delete_output_models: false, delete_external_artifacts: true })).toEqual([
      expect.stringMatching(/"delete_external_artifacts" must be false/),
    ]);
    expect(checkRequest({ endpoint: 'models.delete_many', served: '2.13', body: { ids: ['a'] } }, '2.13')).toEqual([]);
  });

  test('unknown fields, types, values, endpoints and versions', () => {
    expect(at('tasks.get_all', { only_fields: 'id' })[0]).toMatch(/"only_fields" should be string\[\]/);
    expect(at('events.get_task_events', { task: 't', event_type: 'image' })[0]).toMatch(/not one of/);
    expect(at('tasks.get_all', { onlyfields: ['id'] })[0]).toMatch(/"onlyfields" is not one the server reads/);
    expect(at('tasks.nothing', {})[0]).toMatch(/not in the wire table/);
    expect(checkRequest({ endpoint: 'events.plots', served: '2.13', body: { metrics: [{ task: 't' }] } }, '2.13')[0]).toMatch(/from API 2.20/);
    expect(checkRequest({ endpoint: 'tasks.get_all', served: '2.20', body: { last_change: ['<2020-01-01'] } }, '2.20')[0]).toMatch(/unknown to a server of API 2.20/);
    expect(at('events.add_batch', [{ type: 'training_stats_scalar', task: 't', iter: 1.5 }])[0]).toMatch(/line 1: field "iter" should be integer/);
  });

  test('every endpoint of the table names its sources and starts at a version', () => {
    for (const [name, fact] of Object.entries(WIRE_TABLE)) {
      expect({ name, sources: fact.sources.length > 0 }).toEqual({ name, sources: true });
      expect(fact.since).toMatch(/^\d+\.\d+$/);
    }
  });
});
