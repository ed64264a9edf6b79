/**
 * The service as a ClearML task against the embedded server: parameters read back and validated,
 * re-read before every pass, scalars, console lines, liveness, and the runtime abort protocol
 * driven the way the web app and the agent drive it (tasks.stop -> "stopping").
 */
import type { ClearMLClient } from '../src/api/index.js';
import type { Engine } from '../src/commands/engine.js';
import type { RunningServer } from '../src/server/index.js';
import {
  DEFAULT_PARAMS,
  EXIT_STOPPED,
  InvalidParamsError,
  parseHyperParams,
  readRepoInfo,
  registerTask,
  runTaskService,
  toHyperParams,
  type ServiceParams,
  type TaskServiceDeps,
} from '../src/task/index.js';
import { collectingLog, oldArchivedDrafts, startEngineWorld, waitFor, type Collected, type TempRepo } from './support/task-world.js';

let server: RunningServer;
let client: ClearMLClient;
let engine: Engine;
let repo: TempRepo;
let stateDir: string;
let closeWorld: () => Promise<void>;

beforeAll(async () => {
  ({ server, client, engine, repo, stateDir, close: closeWorld } = await startEngineWorld('task-agent-'));
});
afterAll(async () => {
  await closeWorld?.();
});

/** A registered task, started by a "worker" as the agent does (so a UI Abort gives "stopping"). */
async function agentTask(params: Partial<ServiceParams> = {}, asAgent = true): Promise<string> {
  const reg = await registerTask(client, {
    repo: await readRepoInfo(repo.dir),
    params: { ...DEFAULT_PARAMS, ...params },
    log: collectingLog(),
    taskName: `Cleanup Service ${Math.random().toString(36).slice(2)}`,
  });
  if (asAgent) {
    await client.tasks.enqueue({ task: reg.taskId, queue_name: 'services' });
    await client.call('tasks.dequeue', { task: reg.taskId, new_status: 'in_progress' });
    await client.tasks.started({ task: reg.taskId, force: true, status_message: 'launch by agent' });
    await client.call('workers.status_report', { worker: 'vm:cpu:0', timestamp: Date.now(), task: reg.taskId });
  }
  return reg.taskId;
}

function deps(taskId: string, log: Collected, over: Partial<TaskServiceDeps> = {}): TaskServiceDeps {
  return {
    client,
    api: engine.api,
    storage: engine.storage,
    log,
    taskId,
    underAgent: true,
    shipConsole: false,
    defaults: DEFAULT_PARAMS,
    defaultStateDir: stateDir,
    pollMs: 50,
    pingMs: 200,
    tickMs: 50,
    consoleFlushMs: 50,
    ...over,
  };
}

async function setParam(taskId: string, name: string, value: string): Promise<void> {
  await client.tasks.editHyperParams({ task: taskId, force: true, hyperparams: [{ section: 'General', name, value }] });
}

async function exists(ids: string[]): Promise<number> {
  return (await client.tasks.getAll({ id: ids, only_fields: ['id'], search_hidden: true })).tasks.length;
}

async function logEvents(taskId: string): Promise<string[]> {
  const r = await client.events.getTaskLog({ task: taskId, batch_size: 5000, navigate_earlier: false });
  return r.events.map((e) => String(e.msg));
}

describe('hyperparameter validation', () => {
  test('accepts what the SDK and a person write', () => {
    const items = toHyperParams(DEFAULT_PARAMS).map((h) => ({ ...h }));
    const set = (name: string, value: string) => (items.find((i) => i.name === name)!.value = value);
    set('delete_threshold_days', ' 7 ');
    set('cleanup_period_in_days', '0.25');
    set('force_delete', 'true');
    set('dry_run', '1');
    set('concurrency', '8.0');
    set('state_dir', ' /var/lib/cleanup ');
    const r = parseHyperParams([...items, { section: 'General', name: 'extra', value: 'x' }, { section: 'Args', name: 'x', value: 'y' }]);
    expect(r.params).toMatchObject({ deleteThresholdDays: 7, cleanupPeriodInDays: 0.25, forceDelete: true, dryRun: true, concurrency: 8 });
    expect(r.params.stateDir).toBe(' /var/lib/cleanup ');
    expect(r.unknown).toEqual(['extra']);
    const partial = parseHyperParams(items.filter((i) => i.name !== 'batch_size'), { ...DEFAULT_PARAMS, batchSize: 77 });
    expect(partial.missing).toEqual(['batch_size']);
    expect(partial.params.batchSize).toBe(77);
  });

  const bad: Array<[string, string]> = [
    ['delete_threshold_days', 'abc'],
    ['delete_threshold_days', '-1'],
    ['delete_threshold_days', '1e400'],
    ['delete_threshold_days', 'NaN'],
    ['delete_threshold_days', ''],
    ['delete_threshold_days', 'Infinity'],
    ['delete_threshold_days', '30 days'],
    ['delete_threshold_days', '0x10'],
    ['delete_threshold_days', '99999'],
    ['cleanup_period_in_days', '0'],
    ['cleanup_period_in_days', '-0.5'],
    ['cleanup_period_in_days', 'daily'],
    ['force_delete', 'yes'],
    ['force_delete', ''],
    ['force_delete', '2'],
    ['run_as_service', 'no'],
    ['dry_run', 'Y'],
    ['concurrency', '0'],
    ['concurrency', '65'],
    ['concurrency', '4.5'],
    ['concurrency', 'four'],
    ['batch_size', '501'],
    ['batch_size', '0'],
    ['pacing_ms', '-1'],
    ['pacing_ms', '1.5'],
  ];
  test.each(bad)('%s = %j is refused with a message naming both', (name, value) => {
    const items = toHyperParams(DEFAULT_PARAMS).map((h) => (h.name === name ? { ...h, value } : h));
    let err: unknown;
    try {
      parseHyperParams(items);
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(InvalidParamsError);
    const msg = (err as Error).message;
    expect(msg).toContain(`General/${name} = ${JSON.stringify(value)} `);
    expect(msg).not.toContain('\n');
  });

  test('under an agent a bad value fails the task: one console line, nothing deleted, exit 2', async () => {
    const victims = await oldArchivedDrafts(server, client, 3, 'keep-me');
    for (const [name, value] of [
      ['delete_threshold_days', 'abc'],
      ['delete_threshold_days', '1e400'],
      ['force_delete', 'yes'],
      ['cleanup_period_in_days', ''],
    ]) {
      const id = await agentTask();
      await setParam(id, name, value);
      const log = collectingLog();
      expect(await runTaskService(deps(id, log))).toBe(2);
      const errors = log.lines.filter((l) => l.startsWith('ERROR:'));
      expect(errors).toHaveLength(1);
      expect(errors[0]).toContain(`General/${name} = ${JSON.stringify(value)}`);
      expect(errors[0]).toContain('Nothing was deleted');
      expect(log.text()).not.toContain('Starting cleanup');
      // the agent owns the status: still in_progress until it sees the exit code
      expect((await client.tasks.getById({ task: id })).task.status).toBe('in_progress');
    }
    expect(await exists(victims)).toBe(3);
    await client.call('tasks.delete_many', { ids: victims, force: true });
  });

  test('without an agent a bad value marks the task failed itself, the reason in the console', async () => {
    const id = await agentTask({}, false);
    await setParam(id, 'concurrency', 'lots');
    const log = collectingLog();
    expect(await runTaskService(deps(id, log, { underAgent: false, shipConsole: true }))).toBe(2);
    const { task } = await client.tasks.getById({ task: id });
    expect(task.status).toBe('failed');
    expect(task.status_reason).toBe('invalid hyperparameters');
    const shipped = await logEvents(id);
    expect(shipped.some((m) => m.includes('General/concurrency = "lots"'))).toBe(true);
  });
});

describe('the service loop under an agent', () => {
  test('re-reads the parameters before each pass and while asleep, reports scalars, stops on Abort via the runtime callback', async () => {
    const id = await agentTask({ dryRun: true, cleanupPeriodInDays: 0.00002, batchSize: 2, pacingMs: 0 });
    const victims = await oldArchivedDrafts(server, client, 4, 'victim');
    const log = collectingLog(!!process.env.TASK_TEST_ECHO);
    const running = runTaskService(deps(id, log));

    await waitFor('a dry-run pass', async () => log.text().includes('Summary: would delete 4 tasks'));
    expect(await exists(victims)).toBe(4);
    const { task } = await client.tasks.getById({ task: id });
    expect(task.runtime).toMatchObject({ _abort_callback_timeout: '600', _abort_poll_freq: '10', _abort_callback_completed: '' });

    // the UI edits dry_run: the next pass deletes
    await setParam(id, 'dry_run', 'False');
    await waitFor('a real pass', async () => log.text().includes('Summary: deleted 4 tasks'));
    expect(await exists(victims)).toBe(0);

    // an edited period takes effect while the service sleeps
    await setParam(id, 'cleanup_period_in_days', '5');
    await waitFor('the new period', async () => log.text().includes('cleanup_period_in_days changed from 0.00002 to 5.0'));
    expect(log.text()).toContain('going to sleep for 0.00002 days');

    // scalars: one point per pass
    const h = await client.call<Record<string, Record<string, { x: number[]; y: number[] }>>>('events.scalar_metrics_iter_histogram', { task: id });
    expect(h.tasks.deleted.y.length).toBeGreaterThanOrEqual(2);
    expect(h.tasks.deleted.y).toContain(4);
    expect(h['bytes freed'].bytes.x.length).toBe(h.tasks.deleted.x.length);
    expect(Object.keys(h)).toEqual(expect.arrayContaining(['tasks', 'files', 'bytes freed', 'failures']));

    // Abort in the web app: a live worker runs the task, so the server answers "stopping"
    await client.call('workers.status_report', { worker: 'vm:cpu:0', timestamp: Date.now(), task: id });
    await client.call('tasks.stop', { task: id });
    expect((await client.tasks.getById({ task: id })).task.status_message).toBe('stopping');
    expect(await running).toBe(EXIT_STOPPED);
    const after = (await client.tasks.getById({ task: id })).task;
    expect(after.runtime?._abort_callback_completed).toBe('1');
    expect(after.runtime?._abort_callback_timeout).toBe('600');
    // the agent sets the final status, not us
    expect(after.status).toBe('in_progress');
    expect(log.text()).toContain('stopped by an Abort from the web app');
    // under an agent, stdout is the CONSOLE: no log events of our own
    expect(await logEvents(id)).toEqual([]);
  });

  test('an Abort during a pass lets the current batch finish and writes the summary', async () => {
    const id = await agentTask({ batchSize: 3, pacingMs: 400, runAsService: true });
    const victims = await oldArchivedDrafts(server, client, 12, 'batchy');
    const log = collectingLog();
    const running = runTaskService(deps(id, log));
    await waitFor('the first batch', async () => log.text().includes('Deleting 3 tasks'));
    await client.call('workers.status_report', { worker: 'vm:cpu:0', timestamp: Date.now(), task: id });
    await client.call('tasks.stop', { task: id });
    expect(await running).toBe(EXIT_STOPPED);
    const left = await exists(victims);
    expect(left).toBeGreaterThan(0);
    expect((12 - left) % 3).toBe(0); // whole batches only
    expect(log.text()).toMatch(/Summary: deleted (3|6|9) tasks/);
    expect(log.text()).toContain('pass ended early: stopped before the end of the pass');
    expect((await client.tasks.getById({ task: id })).task.runtime?._abort_callback_completed).toBe('1');
    await client.call('tasks.delete_many', { ids: victims, force: true });
  });

  test('SIGTERM (the signal) stops gracefully with the "stopped" exit code; run_as_service False runs one pass', async () => {
    const id = await agentTask({ cleanupPeriodInDays: 100 });
    const log = collectingLog();
    const ac = new AbortController();
    const running = runTaskService(deps(id, log, { signal: ac.signal }));
    await waitFor('sleep', async () => log.text().includes('going to sleep for 100.0 days'));
    ac.abort();
    expect(await running).toBe(EXIT_STOPPED);
    expect(log.text()).toContain('stopped by a signal');

    const once = await agentTask({ runAsService: false });
    const log2 = collectingLog();
    expect(await runTaskService(deps(once, log2))).toBe(0);
    expect(log2.text()).toContain('Summary:');
    expect(log2.text()).not.toContain('going to sleep');
  });

  test('pings keep the task alive while it sleeps', async () => {
    const id = await agentTask({ cleanupPeriodInDays: 100 });
    const log = collectingLog();
    const ac = new AbortController();
    const before = (await client.tasks.getById({ task: id })).task.last_update!;
    const running = runTaskService(deps(id, log, { signal: ac.signal }));
    await waitFor('sleep', async () => log.text().includes('going to sleep'));
    const pinged = await waitFor('a ping', async () => {
      const t = (await client.tasks.getById({ task: id })).task;
      return Date.parse(t.last_update!) > Date.parse(before) + 300 && t.last_update;
    });
    expect(pinged).toBeTruthy();
    ac.abort();
    await running;
  });
});

describe('run as a task without an agent (run --task-id)', () => {
  test('console lines are shipped once each; the task ends completed', async () => {
    const id = await agentTask({ runAsService: false }, false);
    const log = collectingLog();
    expect(await runTaskService(deps(id, log, { underAgent: false, shipConsole: true }))).toBe(0);
    const shipped = await logEvents(id);
    expect(shipped.length).toBe(log.lines.length);
    expect(shipped).toEqual(log.lines);
    expect(new Set(shipped).size).toBe(shipped.length);
    const { task } = await client.tasks.getById({ task: id });
    expect(task.status).toBe('completed');
  });

  test('an Abort in the web app (no live worker: stopped at once) ends the run', async () => {
    const id = await agentTask({ cleanupPeriodInDays: 100 }, false);
    const log = collectingLog();
    const running = runTaskService(deps(id, log, { underAgent: false, shipConsole: true }));
    await waitFor('sleep', async () => log.text().includes('going to sleep'));
    await client.call('tasks.stop', { task: id });
    expect(await running).toBe(EXIT_STOPPED);
    expect((await client.tasks.getById({ task: id })).task.status).toBe('stopped');
    expect(log.text()).toMatch(/the task is now stopped/);
  });
});
