/**
 * Issue 12 (g): a deleted task's own folder on the file server is removed once nothing inside is
 * needed, and only then. Against the embedded server (real HTTP, its file server on disk).
 */
import { existsSync } from 'node:fs';
import path from 'node:path';
import { Journal, type JournalModel, type JournalTask } from '../src/cleanup/journal.js';
import { runPass, silentLogger, type PassReport } from '../src/cleanup/index.js';
import { World } from './support/cleanup-world.js';

let w: World;

beforeAll(async () => {
  w = await World.start();
});

afterAll(async () => {
  await w?.close();
});

function pass(extra: Record<string, unknown> = {}, world = w): Promise<PassReport> {
  return runPass(
    { api: world.api, storage: world.storage, log: silentLogger },
    { deleteThresholdDays: 30, forceDelete: false, stateDir: world.stateDir, pacingMs: 0, ...extra },
  );
}

/** the task's folder on the embedded file server's disk */
const folderOf = (t: { id: string; name: string }, world = w) => path.join(world.server.dataDir, 'files', 'proj', `${t.name}.${t.id}`);
/** What a pass killed after writing its journal entry leaves behind. */
async function leftEntry(id: string, force: boolean, tasks: JournalTask[], models: JournalModel[]): Promise<void> {
  const journal = new Journal(w.stateDir);
  await journal.init();
  await journal.write({ version: 1, id: `20000101-000000-0000-${id}`, createdAt: new Date().toISOString(), force, tasks, models, deferred: [] });
}

const urlIn = (t: { id: string; name: string }, rest: string, world = w) => `${world.server.filesUrl}/proj/${t.name}.${t.id}/${rest}`;

test('the emptied folder of a deleted task goes, with a leftover file nothing lists', async () => {
  const t = await w.task({ artifacts: 2, models: [{}], debugImages: 2, plotImages: 1 });
  // an upload the task never registered (a retried upload's first copy): the task's own, unreferenced
  const leftover = w.put(`proj/${t.name}.${t.id}/artifacts/tmp/partial.bin`);
  const neighbour = await w.task({ archived: false, artifacts: 1 });
  await w.finalize();
  expect(existsSync(folderOf(t))).toBe(true);

  const r = await pass();
  expect(r.error).toBeUndefined();
  expect(await w.taskExists(t.id)).toBe(false);
  expect(existsSync(folderOf(t))).toBe(false);
  expect(await w.exists(leftover)).toBe(false);
  expect(r.files.folders).toEqual({ removed: 1, held: 0, failed: 0 });
  // the task that stays keeps its folder and files
  expect(await w.existing(neighbour.files)).toEqual(neighbour.files);
  expect(existsSync(path.join(w.server.dataDir, 'files', 'proj'))).toBe(true);
});

test('a folder holding a file a kept task still shows stays; only that file is left in it', async () => {
  const t = await w.task({ artifacts: 2, debugImages: 1 });
  const kept = await w.task({ archived: false });
  const shown = t.files[0];
  w.debugEvents(kept.id, [shown]);
  await w.finalize();

  const r = await pass();
  expect(r.error).toBeUndefined();
  expect(await w.taskExists(t.id)).toBe(false);
  expect(await w.existing(t.files)).toEqual([shown]);
  expect(existsSync(folderOf(t))).toBe(true);
  expect(r.files.folders.held).toBe(1);
  expect(r.files.folders.removed).toBe(0);
});

test('a folder a kept model points into stays, whatever the spelling (the /files proxy, %-encoding)', async () => {
  const t = await w.task({ name: 'run one', artifacts: 1, models: [{}] });
  const owner = await w.task({ archived: false });
  await w.finalize();
  // another task's model registered on the deleted task's weights, spelled through the web server's proxy
  const spelled = urlIn(t, 'models/m0.pt').replace(w.server.filesUrl, `${w.server.filesUrl}/files`).replace('run one', 'run%20one');
  await w.model('reused weights', spelled, owner.id);

  const r = await pass();
  expect(r.error).toBeUndefined();
  expect(await w.taskExists(t.id)).toBe(false);
  expect(existsSync(folderOf(t))).toBe(true);
  expect(await w.exists(t.models[0].uri)).toBe(true);
  expect(r.files.folders.removed).toBe(0);
});

test('a reference to the folder itself, or above it, keeps it', async () => {
  const a = await w.task({ artifacts: 1 });
  const b = await w.task({ artifacts: 1 });
  const kept = await w.task({ archived: false, foreignArtifacts: [`${w.server.filesUrl}/proj/${a.name}.${a.id}`] });
  await w.finalize();
  const r = await pass();
  expect(r.error).toBeUndefined();
  expect(await w.existingTasks([a.id, b.id, kept.id])).toEqual([kept.id]);
  expect(existsSync(folderOf(a))).toBe(true);
  expect(await w.existing(a.files)).toEqual(a.files); // the reference holds all of it
  expect(existsSync(folderOf(b))).toBe(false);
  expect(r.files.folders.removed).toBe(1);
});

test('a published model re-pointed under force_delete keeps its folder', async () => {
  const t = await w.task({ status: 'completed', artifacts: 1, models: [{ ready: true }] });
  await w.finalize();
  const r = await pass({ forceDelete: true });
  expect(r.error).toBeUndefined();
  expect(await w.taskExists(t.id)).toBe(false);
  expect(await w.modelExists(t.models[0].id)).toBe(true);
  expect(await w.exists(t.models[0].uri)).toBe(true);
  expect(existsSync(folderOf(t))).toBe(true);
});

test('a journal entry replayed after a kill (task already gone) removes the folder too', async () => {
  const t = await w.task({ artifacts: 1, models: [{}] });
  await w.finalize();
  // killed after the task was deleted, before the entry was rewritten
  await leftEntry('folders', false, [{ id: t.id, name: t.name, files: t.files }], [{ id: t.models[0].id, owner: t.id, file: t.models[0].uri }]);
  await w.call('tasks.delete_many', { ids: [t.id], force: true, delete_output_models: false, delete_external_artifacts: false });
  expect(existsSync(folderOf(t))).toBe(true);

  const r = await pass();
  expect(r.error).toBeUndefined();
  expect(r.journal.pendingEntries).toBe(0);
  expect(await w.modelExists(t.models[0].id)).toBe(false);
  expect(existsSync(folderOf(t))).toBe(false);
});

test('a replayed entry whose task has a published model kept under force keeps the folder (found by chaos, seed 7)', async () => {
  // killed before its task was deleted: the published model still names the task, so the pass's
  // index (which leaves out the models of tasks it means to delete) does not hold its file
  const t = await w.task({ status: 'completed', artifacts: 2, models: [{ ready: true }] });
  await w.finalize();
  const published = t.models[0];
  await leftEntry('published', true, [{ id: t.id, name: t.name, files: t.files.filter((f) => f !== published.uri) }], []);
  const r = await pass({ forceDelete: true });
  expect(r.error).toBeUndefined();
  expect(await w.taskExists(t.id)).toBe(false);
  expect(await w.modelExists(published.id)).toBe(true);
  expect(await w.exists(published.uri)).toBe(true);
  expect(await w.existing(t.files.filter((f) => f !== published.uri))).toEqual([]);
});

// the plan kept the used model and its file, so the entry names neither (a model kept because a
// kept task uses it: in neither the entry nor the pass's index)
test.each([
  ['after its task was deleted', true],
  ['before its task was deleted', false],
])('a replayed entry (killed %s) keeps the folder when a model of its task that stays (used by a kept task) has its file there', async (_when, taskGone) => {
  const t = await w.task({ artifacts: 1, models: [{}, {}] });
  const user = await w.task({ archived: false });
  await w.finalize();
  const [going, used] = t.models;
  await w.useAsInput(user.id, used.id);
  await leftEntry(`folders-kept-model-${taskGone}`, false, [{ id: t.id, name: t.name, files: t.files.filter((f) => f !== used.uri) }], [{ id: going.id, owner: t.id, file: going.uri }]);
  if (taskGone) await w.call('tasks.delete_many', { ids: [t.id], force: true, delete_output_models: false, delete_external_artifacts: false });

  const r = await pass();
  expect(r.error).toBeUndefined();
  expect(r.journal.pendingEntries).toBe(0);
  expect(await w.modelExists(used.id)).toBe(true);
  expect(await w.exists(used.uri)).toBe(true);
  expect(await w.exists(going.uri)).toBe(false);
  expect(existsSync(folderOf(t))).toBe(true);
});

test('a folder that cannot be removed keeps its task, with its files, for the next pass', async () => {
  const t = await w.task({ artifacts: 2, models: [{}] });
  await w.finalize();
  const base = w.storage;
  const failing = {
    ...base,
    deleteFolders: async (urls: string[]) => urls.map((url) => ({ url, backend: 'fileserver', status: 'failed' as const, reason: 'HTTP 500' })),
  };
  const r1 = await runPass({ api: w.api, storage: failing, log: silentLogger }, { deleteThresholdDays: 30, forceDelete: false, stateDir: w.stateDir, pacingMs: 0 });
  expect(r1.tasks.failedList.map((f) => f.id)).toEqual([t.id]);
  expect(r1.files.folders.failed).toBe(1);
  expect(await w.taskExists(t.id)).toBe(true);
  expect(await w.modelExists(t.models[0].id)).toBe(true);
  expect(await w.existing(t.files)).toEqual(t.files);
  const r2 = await pass();
  expect(r2.error).toBeUndefined();
  expect(await w.taskExists(t.id)).toBe(false);
  expect(existsSync(folderOf(t))).toBe(false);
});

test('a dry run removes nothing', async () => {
  const t = await w.task({ artifacts: 1 });
  await w.finalize();
  const r = await pass({ dryRun: true });
  expect(r.error).toBeUndefined();
  expect(await w.taskExists(t.id)).toBe(true);
  expect(existsSync(folderOf(t))).toBe(true);
  expect(r.files.folders.removed).toBe(0);
  await pass(); // leave the world clean for the next tests
  expect(existsSync(folderOf(t))).toBe(false);
});

test('a file server without delete_many (allow_batch off): files go one by one, the folder stays', async () => {
  const v = await World.start({ filesBatchDelete: false });
  try {
    const t = await v.task({ artifacts: 2, debugImages: 1 });
    await v.finalize();
    const r = await pass({}, v);
    expect(r.error).toBeUndefined();
    expect(await v.taskExists(t.id)).toBe(false);
    expect(await v.existing(t.files)).toEqual([]);
    expect(existsSync(folderOf(t, v))).toBe(true);
    expect(r.files.folders.removed).toBe(0);
    expect(r.files.folders.failed).toBe(0);
  } finally {
    await v.close();
  }
});
