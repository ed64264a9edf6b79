/** Registration and enqueueing of the Cleanup Service task against the embedded server. */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type { ClearMLClient } from '../src/api/index.js';
import { runRunCommand, type RunArgs } from '../src/commands/run.js';
import type { RunningServer } from '../src/server/index.js';
import {
  CONTAINER_IMAGE,
  ENTRY_POINT,
  PROJECT_NAME,
  TASK_NAME,
  DEFAULT_PARAMS,
  readRepoInfo,
  registerTask,
  TaskSetupError,
} from '../src/task/index.js';
import { collectingLog, makeRepo, startWorld, type TempRepo } from './support/task-world.js';

let server: RunningServer;
let client: ClearMLClient;
const repos: TempRepo[] = [];
const repo = (origin: Parameters<typeof makeRepo>[0], subdir?: string) => {
  const r = makeRepo(origin, subdir);
  repos.push(r);
  return r;
};

beforeAll(async () => {
  ({ server, client } = await startWorld());
});
afterAll(async () => {
  client.close();
  await server.close();
  for (const r of repos) r.cleanup();
});

async function projectIds(): Promise<string[]> {
  const r = await client.projects.getAll({ name: `^${PROJECT_NAME}$`, only_fields: ['id'] });
  return r.projects.map((p) => p.id);
}
async function ourTasks(projectId: string) {
  return (await client.tasks.getAll({ project: [projectId], only_fields: ['id', 'status', 'name'] })).tasks;
}

describe('registerTask', () => {
  test('creates project and task with script, container, runtime and typed, described hyperparameters', async () => {
    const r = repo('pushed');
    const info = await readRepoInfo(r.dir);
    expect(info).toMatchObject({ branch: 'main', commit: r.commit, workingDir: '.', dirty: false, unpushed: false });
    const log = collectingLog();
    const reg = await registerTask(client, { repo: info, params: DEFAULT_PARAMS, log });
    const { task } = await client.tasks.getById({ task: reg.taskId });
    expect(task).toMatchObject({ name: TASK_NAME, type: 'service', status: 'created', project: reg.projectId });
    expect(task.script).toMatchObject({
      repository: info.repository,
      branch: 'main',
      version_num: r.commit,
      entry_point: ENTRY_POINT,
      working_dir: '.',
      binary: 'bash',
    });
    expect(task.container?.image).toBe(CONTAINER_IMAGE);
    expect(task.container?.setup_shell_script).toContain('CLEARML_AGENT_SKIP_PYTHON_ENV_INSTALL=1');
    expect(task.runtime).toMatchObject({ _abort_callback_timeout: '600', _abort_poll_freq: '10', _abort_callback_completed: '' });
    const g = task.hyperparams!.General;
    // the values and types the SDK writes for the official script's arguments
    expect(g.delete_threshold_days).toMatchObject({ value: '30.0', type: 'float', section: 'General' });
    expect(g.cleanup_period_in_days).toMatchObject({ value: '1.0', type: 'float' });
    expect(g.force_delete).toMatchObject({ value: 'False', type: 'bool' });
    expect(g.run_as_service).toMatchObject({ value: 'True', type: 'bool' });
    expect(g.concurrency).toMatchObject({ value: '4', type: 'int' });
    expect(g.batch_size).toMatchObject({ value: '500', type: 'int' });
    expect(g.dry_run).toMatchObject({ value: 'False', type: 'bool' });
    expect(g.state_dir).toMatchObject({ value: '', type: 'str' });
    for (const item of Object.values(g)) expect(item.description!.length).toBeGreaterThan(30);
    expect(g.force_delete.description).toMatch(/Draft/);
    // read back through the endpoint the agent-mode runner uses
    const hp = await client.tasks.getHyperParams({ tasks: [reg.taskId] });
    expect(hp.params[0].hyperparams.map((h) => h.name).sort()).toEqual(Object.keys(g).sort());
  });

  test('twice is idempotent: the unstarted Draft is reused, one project, one task', async () => {
    const r = repo('pushed');
    const info = await readRepoInfo(r.dir);
    const a = await registerTask(client, { repo: info, params: DEFAULT_PARAMS, log: collectingLog(), projectName: 'Idem Services' });
    const b = await registerTask(client, {
      repo: info,
      params: { ...DEFAULT_PARAMS, deleteThresholdDays: 60.5 },
      log: collectingLog(),
      projectName: 'Idem Services',
    });
    expect(b.taskId).toBe(a.taskId);
    expect(b.projectId).toBe(a.projectId);
    expect(b.reused).toBe(true);
    expect((await client.projects.getAll({ name: '^Idem Services$' })).projects).toHaveLength(1);
    expect(await ourTasks(a.projectId)).toHaveLength(1);
    const { task } = await client.tasks.getById({ task: a.taskId });
    expect(task.hyperparams!.General.delete_threshold_days.value).toBe('60.5');
  });

  test('a started task or a UI clone is never reused', async () => {
    const info = await readRepoInfo(repo('pushed').dir);
    const a = await registerTask(client, { repo: info, params: DEFAULT_PARAMS, log: collectingLog(), projectName: 'Reuse Services' });
    const clone = await client.call<{ id: string }>('tasks.clone', { task: a.taskId });
    await client.tasks.started({ task: a.taskId });
    const b = await registerTask(client, { repo: info, params: DEFAULT_PARAMS, log: collectingLog(), projectName: 'Reuse Services' });
    expect(b.reused).toBe(false);
    expect([a.taskId, clone.id]).not.toContain(b.taskId);
    expect(b.active).toEqual([{ id: a.taskId, status: 'in_progress' }]);
  });

  test('credentials in the origin URL are not stored; a sub-directory package gets its working_dir', async () => {
    const r = repo('https://bob:s3cret@git.example.com/org/clearml-cleanup.git', 'tools/cleanup');
    const info = await readRepoInfo(r.dir);
    expect(info.repository).toBe('https://git.example.com/org/clearml-cleanup.git');
    expect(info.workingDir).toBe('tools/cleanup');
    expect(info.unpushed).toBe(true);
  });

  test('a clone without origin, or no clone at all, is a clear error', async () => {
    const r = repo('none');
    await expect(readRepoInfo(r.dir)).rejects.toThrow(TaskSetupError);
    await expect(readRepoInfo(r.dir)).rejects.toThrow(/has no "origin" remote.*git remote add origin/);
    const plain = mkdtempSync(path.join(tmpdir(), 'not-git-'));
    try {
      await expect(readRepoInfo(plain)).rejects.toThrow(/is not a git clone/);
    } finally {
      rmSync(plain, { recursive: true, force: true });
    }
  });
});

describe('clearml-cleanup run --run-as-service true (register + enqueue)', () => {
  let confDir: string;
  const saved = { ...process.env };
  beforeAll(() => {
    confDir = mkdtempSync(path.join(tmpdir(), 'task-conf-'));
    const conf = path.join(confDir, 'agent.conf.json');
    // the agent writes its configuration as JSON: the same loader reads it
    writeFileSync(
      conf,
      JSON.stringify({
        api: {
          api_server: server.apiUrl,
          web_server: 'http://web.example:8080',
          files_server: server.filesUrl,
          credentials: { access_key: server.accessKey, secret_key: server.secretKey },
        },
      }),
    );
    for (const k of Object.keys(process.env)) if (/^(CLEARML|TRAINS)_/.test(k)) delete process.env[k];
    process.env.CLEARML_CONFIG_FILE = conf;
  });
  afterAll(() => {
    process.env = saved;
    rmSync(confDir, { recursive: true, force: true });
  });

  const args = (over: Partial<RunArgs>): RunArgs => ({
    deleteThresholdDays: 30,
    forceDelete: false,
    concurrency: 4,
    batchSize: 500,
    pacingMs: 200,
    logFormat: 'text',
    cleanupPeriodInDays: 1,
    runAsService: true,
    once: false,
    dryRun: false,
    queue: 'services',
    ...over,
  });

  test('a missing queue is one clear line, exit 2, and nothing is registered', async () => {
    const r = repo('pushed');
    const errs: string[] = [];
    const before = await projectIds();
    const code = await runRunCommand(args({ repoDir: r.dir, queue: 'no-such-queue' }), { log: collectingLog(), err: (t) => errs.push(t) });
    expect(code).toBe(2);
    expect(errs.join('')).toMatch(/^clearml-cleanup: queue "no-such-queue" does not exist on http:\/\/127\.0\.0\.1:\d+: .*--queue\n$/);
    expect(await projectIds()).toEqual(before);
  });

  test('registers, enqueues on services, prints the task id and web URL, exit 0', async () => {
    const qid = (await client.queues.create({ name: 'services' })).id;
    const r = repo('pushed');
    const log = collectingLog();
    const code = await runRunCommand(args({ repoDir: r.dir, deleteThresholdDays: 45, dryRun: true }), { log, err: () => {} });
    expect(code).toBe(0);
    const id = /Task id: ([0-9a-f]{32})/.exec(log.text())?.[1];
    expect(id).toBeDefined();
    const { task } = await client.tasks.getById({ task: id! });
    expect(log.text()).toContain(`Web page: http://web.example:8080/projects/${task.project}/experiments/${id}/output/log`);
    expect(task.status).toBe('queued');
    expect(task.execution?.queue).toBe(qid);
    expect(task.system_tags).not.toContain('development');
    expect(task.hyperparams!.General.delete_threshold_days.value).toBe('45.0');
    expect(task.hyperparams!.General.dry_run.value).toBe('True');
    const q = (await client.queues.getAll({ id: [qid] })).queues[0];
    expect(q.entries.map((e) => e.task)).toContain(id);

    // again: the first one is queued (not a Draft), so a second task is made and the first named
    const log2 = collectingLog();
    expect(await runRunCommand(args({ repoDir: r.dir }), { log: log2, err: () => {} })).toBe(0);
    expect(log2.text()).toContain(`another Cleanup Service task is already queued: ${id}`);
  });

  test('--no-enqueue only registers a Draft; --queue picks another queue', async () => {
    await client.queues.create({ name: 'maintenance' });
    const r = repo('pushed');
    const log = collectingLog();
    expect(await runRunCommand(args({ repoDir: r.dir, enqueue: false }), { log, err: () => {} })).toBe(0);
    const draft = /Task id: ([0-9a-f]{32})/.exec(log.text())![1];
    expect((await client.tasks.getById({ task: draft })).task.status).toBe('created');
    const log2 = collectingLog();
    expect(await runRunCommand(args({ repoDir: r.dir, queue: 'maintenance' }), { log: log2, err: () => {} })).toBe(0);
    const id2 = /Task id: ([0-9a-f]{32})/.exec(log2.text())![1];
    expect(id2).toBe(draft); // the Draft was ours and unstarted: reused, then enqueued
    expect(log2.text()).toContain('on queue "maintenance"');
  });

  test('--container-image sets the image a docker-mode agent uses; a malformed one is one line, exit 2, nothing registered', async () => {
    const r = repo('pushed');
    const log = collectingLog();
    expect(await runRunCommand(args({ repoDir: r.dir, enqueue: false, containerImage: 'registry.example.com/node:24-bookworm' }), { log, err: () => {} })).toBe(0);
    const id = /Task id: ([0-9a-f]{32})/.exec(log.text())![1];
    const { task } = await client.tasks.getById({ task: id });
    expect(task.container?.image).toBe('registry.example.com/node:24-bookworm');
    expect(task.container?.arguments).toContain('CLEARML_AGENT_SKIP_PYTHON_ENV_INSTALL=1');

    const before = await projectIds();
    const errs: string[] = [];
    const code = await runRunCommand(args({ repoDir: r.dir, containerImage: 'node 24' }), { log: collectingLog(), err: (t) => errs.push(t) });
    expect(code).toBe(2);
    expect(errs.join('')).toMatch(/^clearml-cleanup: --container-image: "node 24" is not a docker image name/);
    expect(await projectIds()).toEqual(before);
    expect((await client.tasks.getById({ task: id })).task.container?.image).toBe('registry.example.com/node:24-bookworm');
  });

  test('no origin remote: clear error, exit 2', async () => {
    const r = repo('none');
    const errs: string[] = [];
    const code = await runRunCommand(args({ repoDir: r.dir }), { log: collectingLog(), err: (t) => errs.push(t) });
    expect(code).toBe(2);
    expect(errs.join('')).toMatch(/has no "origin" remote/);
    expect(errs.join('')).not.toMatch(/\n\s+at /);
  });
});
