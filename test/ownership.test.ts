/**
 * Issue 12, "only what the task owns, only what nobody needs": one test per finding, each against
 * the embedded server (real HTTP, its file server) and s3rver. Every test failed before the change
 * it covers.
 */
import { Journal } from '../src/cleanup/journal.js';
import { runPass, silentLogger, type PassReport } from '../src/cleanup/index.js';
import type { BatchPlan } from '../src/cleanup/plan.js';
import { World } from './support/cleanup-world.js';

let w: World;

beforeAll(async () => {
  w = await World.start();
});

afterAll(async () => {
  await w?.close();
});

function pass(extra: Record<string, unknown> = {}, onPlan?: (p: BatchPlan) => Promise<void>): Promise<PassReport> {
  return runPass(
    { api: w.api, storage: w.storage, log: silentLogger, ...(onPlan ? { onPlan } : {}) },
    { deleteThresholdDays: 30, forceDelete: false, stateDir: w.stateDir, pacingMs: 0, ...extra },
  );
}

/** the URL of a file below a task's folder, as the SDK would write it */
const inFolder = (t: { id: string; name: string }, rest: string) => `${w.server.filesUrl}/proj/${t.name}.${t.id}/${rest}`;

const modelRow = async (id: string) => (await w.call('models.get_all', { id: [id], only_fields: ['id', 'task', 'uri'] })).models[0];

test('1. a published output model stays under force_delete (re-pointed), unless delete_published_models', async () => {
  const a = await w.task({ status: 'completed', artifacts: 1, models: [{ ready: true }, {}] });
  await w.finalize();
  const r = await pass({ forceDelete: true });
  expect(r.error).toBeUndefined();
  expect(await w.taskExists(a.id)).toBe(false);
  const [published, draft] = a.models;
  expect(await w.modelExists(published.id)).toBe(true);
  expect(await w.exists(published.uri)).toBe(true);
  expect((await modelRow(published.id)).task).toBe(`__DELETED__${a.id}`);
  expect(await w.modelExists(draft.id)).toBe(false);
  expect(await w.exists(draft.uri)).toBe(false);

  // the opt-in deletes it with its task
  const b = await w.task({ status: 'completed', models: [{ ready: true }] });
  await w.finalize();
  const r2 = await pass({ forceDelete: true, deletePublishedModels: true });
  expect(r2.error).toBeUndefined();
  expect(await w.modelExists(b.models[0].id)).toBe(false);
  expect(await w.exists(b.models[0].uri)).toBe(false);
});

test('5. a journal entry left by a killed pass is judged again: a model that gained a user keeps its file', async () => {
  const t = await w.task({ artifacts: 1, models: [{}] });
  const user = await w.task({ archived: false });
  await w.finalize();
  const model = t.models[0];
  // what a pass killed right after writing its journal entry leaves behind
  const journal = new Journal(w.stateDir);
  await journal.init();
  await journal.write({
    version: 1,
    id: '20000101-000000-0000-replay',
    createdAt: new Date().toISOString(),
    force: false,
    tasks: [{ id: t.id, name: t.name, files: t.files }],
    models: [{ id: model.id, owner: t.id, file: model.uri }],
    deferred: [],
  });
  await w.useAsInput(user.id, model.id);

  const r = await pass();
  expect(r.error).toBeUndefined();
  expect(await w.taskExists(t.id)).toBe(false);
  expect(await w.modelExists(model.id)).toBe(true);
  expect(await w.exists(model.uri)).toBe(true);
  expect(await w.existing(t.files.filter((f) => f !== model.uri))).toEqual([]);
  expect(r.models.keptList.find((m) => m.id === model.id)?.reason).toBe(`used as input by task ${user.id}`);
  expect(r.journal.pendingEntries).toBe(0);
});

test('5b. inside a pass, a task un-archived and a model used between planning and deleting are left alone', async () => {
  const a = await w.task({ artifacts: 1 });
  const b = await w.task({ artifacts: 1, models: [{}] });
  const user = await w.task({ archived: false });
  await w.finalize();
  const r = await pass({}, async (plan) => {
    if (!plan.tasks.some((t) => t.id === a.id)) return;
    await w.call('tasks.unarchive_many', { ids: [a.id] });
    await w.useAsInput(user.id, b.models[0].id);
  });
  expect(r.error).toBeUndefined();
  expect(await w.taskExists(a.id)).toBe(true);
  expect(await w.existing(a.files)).toEqual(a.files);
  expect(await w.taskExists(b.id)).toBe(false);
  expect(await w.modelExists(b.models[0].id)).toBe(true);
  expect(await w.exists(b.models[0].uri)).toBe(true);
});

test('6. a link artifact to a file-server folder never deletes the folder (nor any link outside the task folder)', async () => {
  const parts = [w.put('shared/imagenet.v2/part-0.bin'), w.put('shared/imagenet.v2/part-1.bin')];
  const single = w.put('shared/raw/train.csv');
  const folder = `${w.server.filesUrl}/shared/imagenet.v2`;
  const t = await w.task({ artifacts: 1, foreignArtifacts: [folder, single] });
  await w.finalize();
  const r = await pass();
  expect(r.error).toBeUndefined();
  expect(await w.taskExists(t.id)).toBe(false);
  expect(await w.existing(t.files)).toEqual([]);
  expect(await w.existing([...parts, single])).toEqual([...parts, single]);
  const kept = r.files.keptList.map((f) => f.url);
  expect(kept).toEqual(expect.arrayContaining([folder, single]));
});

test('7. a kept model registered with another spelling of the same file keeps it', async () => {
  const t = await w.task({ models: [{}, {}] });
  await w.finalize();
  const [m0, m1] = t.models;
  const port = new URL(w.server.filesUrl).port;
  // localhost instead of 127.0.0.1; the same path percent-encoded
  const alias0 = m0.uri.replace(`127.0.0.1:${port}`, `localhost:${port}`);
  const alias1 = m1.uri.replace(/\/models\//, '/%6Dodels/');
  expect(alias0).not.toBe(m0.uri);
  expect(alias1).not.toBe(m1.uri);
  const keeper = await w.task({ archived: false });
  const k0 = await w.model('kept alias 0', alias0, keeper.id);
  const k1 = await w.model('kept alias 1', alias1, keeper.id);
  await w.finalize();
  const r = await pass();
  expect(r.error).toBeUndefined();
  expect(await w.taskExists(t.id)).toBe(false);
  expect(await w.existing([m0.uri, m1.uri])).toEqual([m0.uri, m1.uri]);
  expect(await w.modelExists(k0)).toBe(true);
  expect(await w.modelExists(k1)).toBe(true);
});

test("8. files a kept task still uses (an input artifact, a debug image) stay when their task's folder goes", async () => {
  const t = await w.task({ artifacts: 2, debugImages: 2 });
  const keeper = await w.task({ archived: false });
  await w.finalize();
  const [art0, art1, img0, img1] = t.files;
  await w.call('tasks.add_or_update_artifacts', {
    task: keeper.id,
    artifacts: [{ key: 'borrowed', type: 'custom', mode: 'input', uri: art0 }],
  });
  w.debugEvents(keeper.id, [img0]);
  await w.finalize();
  const r = await pass();
  expect(r.error).toBeUndefined();
  expect(await w.taskExists(t.id)).toBe(false);
  expect(await w.existing([art0, img0])).toEqual([art0, img0]);
  expect(await w.existing([art1, img1])).toEqual([]);
  expect(r.files.keptList.find((f) => f.url === art0)?.reason).toMatch(new RegExp(`still used by task ${keeper.id}`));
});

test('9. an archived Report (hidden) goes with its reports/<id>/ images; the plan shows it as hidden', async () => {
  const { id } = await w.call<{ id: string }>('reports.create', { name: 'quarterly report' });
  const img = w.put(`reports/${id}/chart.png`);
  const elsewhere = w.put('shared/logo.png');
  await w.finalize();
  await w.call('reports.update', { task: id, report: `# Q3\n![chart](${img}) ![logo](${elsewhere})`, report_assets: [img, elsewhere] });
  await w.call('reports.archive', { task: id });
  await w.backdate([id], 60);

  const plans: BatchPlan[] = [];
  const dry = await runPass(
    { api: w.api, storage: w.storage, log: silentLogger, onPlan: (p) => void plans.push(p) },
    { deleteThresholdDays: 30, dryRun: true, pacingMs: 0 },
  );
  expect(dry.error).toBeUndefined();
  const planned = plans.flatMap((p) => p.tasks).find((t) => t.id === id);
  expect(planned).toMatchObject({ hidden: true, type: 'report', files: [img] });

  const r = await pass();
  expect(r.error).toBeUndefined();
  expect(await w.taskExists(id)).toBe(false);
  expect(await w.exists(img)).toBe(false);
  expect(await w.exists(elsewhere)).toBe(true);
});

test('8b. a file or folder of a deleted task named in a kept task\'s hyperparameters or configuration stays', async () => {
  const t = await w.task({ artifacts: 3 });
  const keeper = await w.task({ archived: false });
  await w.finalize();
  const [byParam, inFolder, byConfig] = t.files;
  const folder = byParam.replace(/\/artifacts\/.*$/, '/artifacts/a1/');
  await w.call('tasks.edit_hyper_params', {
    task: keeper.id,
    hyperparams: [
      { section: 'Args', name: 'weights', value: byParam, type: 'str' },
      { section: 'Args', name: 'data_dir', value: folder, type: 'str' },
      // an output_uri names a root: it must not hold everything below it
      { section: 'Args', name: 'output_uri', value: `${w.server.filesUrl}/proj`, type: 'str' },
    ],
  });
  await w.call('tasks.edit_configuration', {
    task: keeper.id,
    configuration: [{ name: 'General', value: `{"test_file": "${byConfig}"}`, type: 'json' }],
  });
  const r = await pass();
  expect(r.error).toBeUndefined();
  expect(await w.taskExists(t.id)).toBe(false);
  expect(await w.existing([byParam, inFolder, byConfig])).toEqual([byParam, inFolder, byConfig]);
  // and the root in output_uri held nothing: another task's files still go
  const other = await w.task({ artifacts: 1 });
  await w.finalize();
  await pass();
  expect(await w.existing(other.files)).toEqual([]);
});
