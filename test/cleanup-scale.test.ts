/**
 * Scale: 2,000 eligible Drafts interleaved with 300 kept tasks, over several 500-task batches.
 * Every eligible task is deleted in ONE pass (none skipped by paging), with all its files, in well
 * under 0.1 API calls per task; a model whose user sits in a later batch waits and then goes too.
 */
import { runPass, silentLogger } from '../src/cleanup/index.js';
import { World, type BuiltTask } from './support/cleanup-world.js';

let w: World;

beforeAll(async () => {
  w = await World.start();
}, 120_000);

afterAll(async () => {
  await w?.close();
});

test('2,000 eligible tasks in one pass, none skipped, <= 0.1 API calls per task', async () => {
  const eligible: BuiltTask[] = [];
  const kept: BuiltTask[] = [];
  const build = async (i: number) => {
    if (i % 23 < 3) {
      kept.push(await w.task({ status: 'completed', artifacts: 1 }));
      return;
    }
    const images = i % 100 === 0 ? 120 : i % 10 === 0 ? 5 : 0;
    eligible.push(await w.task({ artifacts: 1, debugImages: images, models: i % 4 === 0 ? [{}] : [] }));
  };
  const work: Promise<void>[] = [];
  for (let i = 0; i < 2300; i++) work.push(w.limit(() => build(i)));
  await Promise.all(work);
  expect(eligible.length).toBe(2000);

  // a model of the first task (by id, so first batch) used as input by the last one (last batch)
  const byId = [...eligible].sort((a, b) => (a.id < b.id ? -1 : 1));
  const owner = byId.find((t) => t.models.length > 0)!;
  const user = byId[byId.length - 1];
  await w.useAsInput(user.id, owner.models[0].id);
  await w.finalize();

  const r = await runPass(
    { api: w.api, storage: w.storage, log: silentLogger },
    { deleteThresholdDays: 30, forceDelete: false, stateDir: w.stateDir, pacingMs: 0 },
  );
  if (process.env.CLEANUP_TEST_DEBUG) console.log(JSON.stringify(r.apiCalls), r.durationMs);

  expect(r.error).toBeUndefined();
  expect(r.tasks.failed).toBe(0);
  expect(r.tasks.deleted).toBe(2000);
  expect(r.tasks.skipped).toBe(300);
  expect(await w.existingTasks(eligible.map((t) => t.id))).toEqual([]);
  expect((await w.existingTasks(kept.map((t) => t.id))).length).toBe(300);

  const allFiles = eligible.flatMap((t) => t.files);
  expect(allFiles.length).toBeGreaterThan(2000 + 20 * 120);
  expect(await w.existing(allFiles)).toEqual([]);
  const keptFiles = kept.flatMap((t) => t.files);
  expect(await w.existing(keptFiles)).toEqual(keptFiles);

  // the deferred model went at the end of the pass, with its file
  expect(r.models.deferred).toBe(1);
  expect(await w.modelExists(owner.models[0].id)).toBe(false);
  expect(await w.exists(owner.models[0].uri)).toBe(false);
  expect(r.models.deleted).toBe(eligible.filter((t) => t.models.length).length);
  expect(r.journal.pendingEntries).toBe(0);

  // few round trips
  expect(r.apiCalls.perTask).toBeLessThanOrEqual(0.1);
  expect(r.apiCalls.byEndpoint['tasks.delete_many']).toBe(4);
  expect(r.apiCalls.byEndpoint['events.get_task_events'] ?? 0).toBe(0);
}, 300_000);
