/**
 * sweep_orphans in the task: after the pass, the orphan sweep runs with orphan_min_age_days; its
 * summary goes to the console and its figures to the scalars. Off by default.
 */
import { mkdirSync, utimesSync, writeFileSync, existsSync } from 'node:fs';
import path from 'node:path';
import type { RunningServer } from '../src/server/index.js';
import type { ClearMLClient } from '../src/api/index.js';
import type { Engine } from '../src/commands/engine.js';
import { DEFAULT_PARAMS, parseHyperParams, readRepoInfo, registerTask, runTaskService, toHyperParams, type ServiceParams } from '../src/task/index.js';
import { collectingLog, startEngineWorld, type TempRepo } from './support/task-world.js';

let server: RunningServer;
let client: ClearMLClient;
let engine: Engine;
let repo: TempRepo;
let stateDir: string;
let closeWorld: () => Promise<void>;

beforeAll(async () => {
  ({ server, client, engine, repo, stateDir, close: closeWorld } = await startEngineWorld('task-orphans-'));
});
afterAll(async () => {
  await closeWorld?.();
});

function plant(rel: string, ageDays: number): string {
  const full = path.join(server.dataDir, 'files', rel);
  mkdirSync(path.dirname(full), { recursive: true });
  writeFileSync(full, 'bytes');
  const t = new Date(Date.now() - ageDays * 86_400_000);
  utimesSync(full, t, t);
  return full;
}

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

test('the hyperparameters: off by default, strict values, in the registered set', () => {
  expect(DEFAULT_PARAMS).toMatchObject({ sweepOrphans: false, orphanMinAgeDays: 7, orphanFileserverDir: '' });
  const items = toHyperParams(DEFAULT_PARAMS);
  expect(items.find((i) => i.name === 'sweep_orphans')).toMatchObject({ value: 'False', type: 'bool' });
  expect(items.find((i) => i.name === 'orphan_min_age_days')).toMatchObject({ value: '7.0', type: 'float' });
  const bad = items.map((i) => (i.name === 'orphan_min_age_days' ? { ...i, value: '0' } : i.name === 'sweep_orphans' ? { ...i, value: 'maybe' } : i));
  expect(() => parseHyperParams(bad)).toThrow(/sweep_orphans = "maybe" must be True or False; .*orphan_min_age_days = "0" must be a number of days greater than 0/);
});

test('sweep_orphans runs the sweep after the pass: the old orphan goes, young and referenced files stay; scalars and console', async () => {
  const { id: user } = await client.tasks.create({ name: 'keeps its file', type: 'training' });
  const referenced = plant(`proj/keeps its file.${user}/artifacts/a/data.bin`, 30);
  await client.call('tasks.add_or_update_artifacts', {
    task: user,
    artifacts: [{ key: 'a', type: 'custom', mode: 'output', uri: `${server.filesUrl}/proj/keeps%20its%20file.${user}/artifacts/a/data.bin` }],
  });
  const orphan = plant(`proj/gone.${'c'.repeat(32)}/artifacts/a/lost.bin`, 30);
  const young = plant(`proj/gone.${'c'.repeat(32)}/artifacts/a/fresh.bin`, 1);

  const id = await agentTask({ runAsService: false, sweepOrphans: true, orphanMinAgeDays: 2 });
  const log = collectingLog();
  const run = engine.storage;
  expect(await runTaskService({
    client, api: engine.api, storage: run, log, taskId: id, underAgent: true, shipConsole: false,
    defaults: DEFAULT_PARAMS, defaultStateDir: stateDir, pollMs: 50, pingMs: 200, tickMs: 50,
  })).toBe(0);
  expect(existsSync(orphan)).toBe(false);
  expect(existsSync(young)).toBe(true);
  expect(existsSync(referenced)).toBe(true);
  expect(log.text()).toMatch(/Orphans: deleted 1 of 1 unreferenced files older than 2 days/);
  const h = await client.call<Record<string, Record<string, { y: number[] }>>>('events.scalar_metrics_iter_histogram', { task: id });
  expect(h.orphans?.found?.y).toEqual([1]);
  expect(h.orphans?.deleted?.y).toEqual([1]);
  expect(h['orphan bytes']?.freed?.y).toEqual([5]);

  // off (the default): no sweep
  const orphan2 = plant(`proj/gone.${'d'.repeat(32)}/artifacts/a/lost.bin`, 30);
  const id2 = await agentTask({ runAsService: false });
  const log2 = collectingLog();
  expect(await runTaskService({
    client, api: engine.api, storage: run, log: log2, taskId: id2, underAgent: true, shipConsole: false,
    defaults: DEFAULT_PARAMS, defaultStateDir: stateDir, pollMs: 50, pingMs: 200, tickMs: 50,
  })).toBe(0);
  expect(existsSync(orphan2)).toBe(true);
  expect(log2.text()).not.toMatch(/Orphans:/);
}, 60_000);
