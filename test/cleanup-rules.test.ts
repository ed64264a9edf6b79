/**
 * The cleanup rules against the embedded server (real HTTP, its file server) and s3rver: what is
 * deleted, what is kept and why, force_delete both ways, and every file that goes with a task.
 */
import { runPass, silentLogger, summarize, type PassReport } from '../src/cleanup/index.js';
import { FOREIGN_BUCKET, World, type BuiltTask } from './support/cleanup-world.js';

let w: World;

beforeAll(async () => {
  w = await World.start();
});

afterAll(async () => {
  await w?.close();
});

function pass(force: boolean, extra: Record<string, unknown> = {}): Promise<PassReport> {
  return runPass(
    { api: w.api, storage: w.storage, log: silentLogger },
    { deleteThresholdDays: 30, forceDelete: force, stateDir: w.stateDir, pacingMs: 0, ...extra },
  );
}

test('one world, every rule: force off then on', async () => {
  // deleted with force off
  const draft = await w.task({ artifacts: 2, s3Artifacts: 1, debugImages: 150, plotImages: 3, models: [{}] });
  // kept: not archived, too recent, not Draft (force off), published (force off)
  const live = await w.task({ archived: false, artifacts: 1 });
  const recent = await w.task({ ageDays: 5, artifacts: 1 });
  const completed = await w.task({ status: 'completed', artifacts: 1, debugImages: 3 });
  const published = await w.task({ status: 'published', artifacts: 1 });
  // a model used as input by a task that stays
  const owner = await w.task({ models: [{}] });
  const user = await w.task({ archived: false });
  await w.useAsInput(user.id, owner.models[0].id);
  // two models sharing one file: one belongs to a deleted task, the other to a kept one
  const sharedFile = (await w.task({ archived: false, models: [{}] })) as BuiltTask;
  const sharer = await w.task({ models: [{ uri: sharedFile.models[0].uri }] });
  // two deleted tasks whose models share one file: deleted once
  const pairA = await w.task({ models: [{}] });
  const pairB = await w.task({ models: [{ uri: pairA.models[0].uri }] });
  // artifacts registered by URL on a foreign host and in a bucket we were not given
  const foreignS3 = await w.putS3(FOREIGN_BUCKET, 'datasets/train.csv');
  const foreign = await w.task({ foreignArtifacts: ['https://datasets.example.com/imagenet/train.tar', foreignS3], artifacts: 1 });
  // Drafts the server would refuse without force: a published child, a published output model
  const parent = await w.task({ artifacts: 1 });
  await w.task({ parent: parent.id, status: 'published', archived: false });
  const withPublishedModel = await w.task({ artifacts: 1, models: [{ ready: true }] });
  // a built-in example task (public): the server refuses to delete it, so we never start on it
  const example = await w.task({ artifacts: 1 });
  await w.finalize();
  await w.makePublic([example.id]);

  // plan first: nothing is deleted
  const dry = await pass(false, { dryRun: true });
  expect(dry.tasks.deleted).toBe(0);
  expect(dry.tasks.planned).toBe(6);
  expect(await w.existing(draft.files)).toHaveLength(draft.files.length);
  expect(await w.taskExists(draft.id)).toBe(true);

  const r1 = await pass(false);
  if (process.env.CLEANUP_TEST_DEBUG) console.log(JSON.stringify(r1.apiCalls), summarize(r1).join("\n"));
  expect(r1.error).toBeUndefined();
  expect(r1.tasks.failed).toBe(0);
  expect(r1.tasks.deleted).toBe(6); // draft, owner, sharer, pairA, pairB, foreign

  // the Draft and all its files: 2 + 1 s3 artifacts, 150 debug images (> 100), 3 plot images, its model's file
  expect(await w.taskExists(draft.id)).toBe(false);
  expect(draft.files).toHaveLength(2 + 1 + 150 + 3 + 1);
  expect(await w.existing(draft.files)).toEqual([]);
  expect(await w.modelExists(draft.models[0].id)).toBe(false);

  // kept tasks, with their files
  for (const t of [live, recent, completed, published]) {
    expect(await w.taskExists(t.id)).toBe(true);
    expect(await w.existing(t.files)).toEqual(t.files);
  }
  expect(r1.tasks.skippedByReason['status completed is not Draft and force_delete is off']).toBe(1);
  expect(r1.tasks.skippedByReason['status published is not Draft and force_delete is off']).toBe(1);
  expect(r1.tasks.skippedByReason['built-in example task (the server refuses to delete it)']).toBe(1);
  expect(r1.tasks.skippedList.map((s) => s.id).sort()).toEqual(
    [completed.id, published.id, example.id, parent.id, withPublishedModel.id].sort(),
  );
  expect(r1.tasks.skippedList.find((s) => s.id === parent.id)?.reason).toMatch(/^has published child task \w+ and force_delete is off$/);
  expect(r1.tasks.skippedList.find((s) => s.id === withPublishedModel.id)?.reason).toMatch(
    /^has published output model \w+ and force_delete is off$/,
  );
  for (const t of [parent, withPublishedModel]) expect(await w.existing(t.files)).toEqual(t.files);
  expect(await w.existing(example.files)).toEqual(example.files);

  // the model in use elsewhere stays with its file; its task is gone
  expect(await w.taskExists(owner.id)).toBe(false);
  expect(await w.modelExists(owner.models[0].id)).toBe(true);
  expect(await w.exists(owner.models[0].uri)).toBe(true);
  expect(r1.models.keptList.find((m) => m.id === owner.models[0].id)?.reason).toBe(`used as input by task ${user.id}`);

  // shared file: the sharer's model is deleted, the file stays for the kept model
  expect(await w.modelExists(sharer.models[0].id)).toBe(false);
  expect(await w.modelExists(sharedFile.models[0].id)).toBe(true);
  expect(await w.exists(sharedFile.models[0].uri)).toBe(true);
  expect(r1.files.keptShared).toBeGreaterThanOrEqual(1);

  // both models of the pair and their one file are gone
  expect(await w.modelExists(pairA.models[0].id)).toBe(false);
  expect(await w.modelExists(pairB.models[0].id)).toBe(false);
  expect(await w.exists(pairA.models[0].uri)).toBe(false);

  // foreign data (links outside the task's folder) never touched, reported as kept; the task itself is deleted
  expect(await w.taskExists(foreign.id)).toBe(false);
  expect(await w.exists(foreignS3)).toBe(true);
  expect(await w.existing(foreign.files)).toEqual([]);
  expect(r1.files.refusedList).toEqual([]);
  const links = r1.files.keptList.filter((f) => /registered by URL/.test(f.reason)).map((f) => f.url).sort();
  expect(links).toEqual(expect.arrayContaining(['https://datasets.example.com/imagenet/train.tar', foreignS3].sort()));

  // report: per backend, bytes, api calls
  expect(r1.files.byBackend.fileserver.deleted).toBeGreaterThanOrEqual(150 + 3 + 2);
  expect(r1.files.byBackend.fileserver.bytes).toBeGreaterThan(0);
  expect(r1.files.byBackend.s3.deleted).toBe(1);
  expect(r1.apiCalls.total).toBeGreaterThan(0);
  expect(r1.journal.pendingEntries).toBe(0);

  // force on: the completed and the published task go too, with their files
  const r2 = await pass(true);
  expect(r2.tasks.failed).toBe(0);
  expect(r2.tasks.deleted).toBe(4);
  // a published model stays with its file (delete_published_models is off), re-pointed by the server
  const pm = withPublishedModel.models[0];
  expect(await w.modelExists(pm.id)).toBe(true);
  expect(await w.exists(pm.uri)).toBe(true);
  const [pmRow] = (await w.call('models.get_all', { id: [pm.id], only_fields: ['task'] })).models;
  expect(pmRow.task).toBe(`__DELETED__${withPublishedModel.id}`);
  expect(r2.models.keptList.find((m) => m.id === pm.id)?.reason).toBe('published; delete_published_models is off');
  for (const t of [completed, published, parent, withPublishedModel]) {
    expect(await w.taskExists(t.id)).toBe(false);
    expect(await w.existing(t.files)).toEqual(t === withPublishedModel ? [pm.uri] : []);
  }
  // never a task that is not archived or too recent, nor an example task
  for (const t of [live, recent, user, sharedFile, example]) expect(await w.taskExists(t.id)).toBe(true);
  expect(await w.existing(example.files)).toEqual(example.files);
  expect(r2.tasks.skippedByReason['built-in example task (the server refuses to delete it)']).toBe(1);
  expect(await w.existing(recent.files)).toEqual(recent.files);
  // the model in use is still kept
  expect(await w.modelExists(owner.models[0].id)).toBe(true);
});
