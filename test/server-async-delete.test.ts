/**
 * The embedded server deletes files by itself as a stock clearml-server does (delete_external_artifacts
 * defaults to true; the async_delete job drains the queue), and our client never lets it: every
 * deleting call we send says `delete_external_artifacts: false`, so a full pass queues nothing.
 */
import { ClearMLClient } from '../src/api/index.js';
import { runPass, silentLogger } from '../src/cleanup/index.js';
import { startServer } from '../src/server/index.js';
import { World, type BuiltTask } from './support/cleanup-world.js';
import { login, rawCall } from './support/embedded-api.js';

let w: World;
let token: string;

beforeAll(async () => {
  w = await World.start({ asyncDelete: { retryTimeoutMs: 30 } });
  token = await login(w.server);
});

afterAll(async () => {
  await w?.close();
});

/** A call exactly as given (no client guard): what another tool, or a careless one, would send. */
async function raw(endpoint: string, body: Record<string, unknown>): Promise<any> {
  const a = await rawCall(`${w.server.apiUrl}/v2.23/${endpoint}`, {
    method: 'POST',
    headers: { Authorization: `Bearer ${token}`, 'Content-Type': 'application/json' },
    body: JSON.stringify(body),
  });
  if (a.status !== 200) throw new Error(`${endpoint} -> ${a.status}: ${JSON.stringify(a.body?.meta)}`);
  return a.body.data;
}

function queuedSince(n: number) {
  return w.server.asyncDelete.history().slice(n);
}

test('models.delete_many without the flag deletes a file another model still points to', async () => {
  const keeper = await w.task({ archived: false, models: [{}] });
  const sharer = await w.task({ models: [{ uri: keeper.models[0].uri }] });
  await w.finalize();
  const before = w.server.asyncDelete.history().length;

  await raw('models.delete_many', { ids: [sharer.models[0].id] });
  await w.server.asyncDelete.drain();

  expect(await w.modelExists(keeper.models[0].id)).toBe(true);
  // the kept model's file is gone: the server checked no other reference
  expect(await w.exists(keeper.models[0].uri)).toBe(false);
  const q = queuedSince(before);
  expect(q.map((e) => [e.url, e.endpoint, e.storage, e.status])).toEqual([[keeper.models[0].uri, 'models.delete_many', 'fileserver', 'deleted']]);
  // the same view over HTTP
  const http = await rawCall(`${w.server.apiUrl}/_embedded/async_delete`);
  expect(http.body.enabled).toBe(true);
  expect(http.body.urls.some((e: any) => e.url === keeper.models[0].uri && e.status === 'deleted')).toBe(true);
});

test('delete_external_artifacts: false, as our client always sends, queues nothing', async () => {
  const a = await w.task({ archived: false, models: [{}] });
  const b = await w.task({ models: [{ uri: a.models[0].uri }], artifacts: 1, debugImages: 2, plotImages: 1 });
  await w.finalize();
  const before = w.server.asyncDelete.history().length;
  await raw('models.delete', { model: b.models[0].id, delete_external_artifacts: false });
  await raw('tasks.delete', { task: b.id, force: true, delete_external_artifacts: false });
  await w.server.asyncDelete.drain();
  expect(queuedSince(before)).toEqual([]);
  expect(await w.existing([a.models[0].uri, ...b.files])).toHaveLength(1 + b.files.length);

  // the client forces false even when a caller asks for the server's deletion
  const c = await w.task({ models: [{ uri: a.models[0].uri }], artifacts: 1 });
  await w.finalize();
  await w.client.call('tasks.delete', { task: c.id, force: true, delete_external_artifacts: true, delete_output_models: true });
  await w.client.tasks.reset({ task: a.id, force: true });
  await w.server.asyncDelete.drain();
  expect(queuedSince(before)).toEqual([]);
  expect(await w.existing([a.models[0].uri, ...c.files])).toHaveLength(1 + c.files.length);
});

test('tasks.delete without the flag queues artifacts, unused draft models, debug and plot images; published models are re-pointed', async () => {
  const t = await w.task({ artifacts: 2, s3Artifacts: 1, debugImages: 3, plotImages: 2, models: [{}, { ready: true }], foreignArtifacts: ['file:///data/set.csv'] });
  await w.finalize();
  const before = w.server.asyncDelete.history().length;
  await raw('tasks.delete', { task: t.id, force: true });
  await w.server.asyncDelete.drain();
  const q = queuedSince(before);
  const published = t.models[1];
  const draftModelFile = t.models[0].uri;
  const fileserverFiles = t.files.filter((u) => u.startsWith(w.server.filesUrl) && u !== published.uri);
  expect(q.filter((e) => e.storage === 'fileserver').map((e) => e.url).sort()).toEqual(fileserverFiles.sort());
  expect(fileserverFiles).toContain(draftModelFile);
  expect(await w.existing(fileserverFiles)).toEqual([]);
  // the published model survives with its file, pointing at the deleted task
  expect(await w.exists(published.uri)).toBe(true);
  const m = await w.call<{ model: { task?: string } }>('models.get_by_id', { model: published.id });
  expect(m.model.task).toBe(`__DELETED__${t.id}`);
  // s3: queued, but this server holds no S3 credentials (as a server without storage config)
  const s3 = q.filter((e) => e.storage === 's3');
  expect(s3).toHaveLength(1);
  expect(s3[0].status).toBe('failed');
  expect(s3[0].lastFailureReason).toMatch(/missing AWS configuration/);
  // a file:// URL is not a storage the real server knows: collected, never queued
  expect(q.filter((e) => e.storage === null).map((e) => [e.url, e.status])).toEqual([['file:///data/set.csv', 'not_queued']]);
});

test('a file the deleter cannot delete is retried as the real job does, then marked failed', async () => {
  const t = await w.task({ artifacts: 1 });
  await w.finalize();
  // our own storage already deleted the file: the server's attempt fails each time
  await w.realStorage.deleteFiles(t.files);
  const before = w.server.asyncDelete.history().length;
  await raw('tasks.delete', { task: t.id, force: true });
  for (let i = 0; i < 10 && queuedSince(before).some((e) => e.status === 'created'); i++) {
    await new Promise((r) => setTimeout(r, 40));
    await w.server.asyncDelete.drain();
  }
  const [e] = queuedSince(before);
  expect(e.status).toBe('failed');
  expect(e.retryCount).toBe(3);
});

test('projects.delete with delete_contents queues whole file-server folders', async () => {
  const { id: project } = await w.call<{ id: string }>('projects.create', { name: 'doomed project' });
  const t = (await w.task({ artifacts: 2 })) as BuiltTask;
  await w.call('tasks.edit', { task: t.id, project, force: true });
  await w.finalize();
  const before = w.server.asyncDelete.history().length;
  await raw('projects.delete', { project, delete_contents: true, force: true });
  await w.server.asyncDelete.drain();
  const q = queuedSince(before);
  // both artifacts live in their own folder a0/ and a1/: each folder is removed whole
  expect(q.map((e) => e.type)).toEqual(['folder', 'folder']);
  expect(q.every((e) => e.status === 'deleted')).toBe(true);
  expect(await w.existing(t.files)).toEqual([]);
});

test('a full pass of ours (shared files, in-use models, kept tasks) queues nothing and removes nothing the plan kept', async () => {
  const live = await w.task({ archived: false, artifacts: 1, models: [{}] });
  const recent = await w.task({ ageDays: 5, artifacts: 1 });
  const owner = await w.task({ models: [{}] });
  const user = await w.task({ archived: false });
  await w.useAsInput(user.id, owner.models[0].id);
  const sharer = await w.task({ models: [{ uri: live.models[0].uri }], artifacts: 1, debugImages: 5, plotImages: 2 });
  const plain = await w.task({ artifacts: 2, debugImages: 4, models: [{}] });
  await w.finalize();
  const before = w.server.asyncDelete.history().length;

  const report = await runPass(
    { api: w.api, storage: w.storage, log: silentLogger },
    { deleteThresholdDays: 30, forceDelete: true, stateDir: w.stateDir, pacingMs: 0 },
  );
  await w.server.asyncDelete.drain();
  expect(report.tasks.failed).toBe(0);
  expect(await w.taskExists(sharer.id)).toBe(false);
  expect(await w.taskExists(plain.id)).toBe(false);
  expect(queuedSince(before)).toEqual([]);
  const kept = [...live.files, ...recent.files, owner.models[0].uri, live.models[0].uri];
  expect(await w.existing(kept)).toEqual(kept);
  expect(await w.existing([...plain.files, ...sharer.files.filter((u) => u !== live.models[0].uri)])).toEqual([]);
});

test('--no-async-delete (asyncDelete.enabled false): nothing is queued even without the flag', async () => {
  const server = await startServer({ port: 0, filesPort: 0, asyncDelete: { enabled: false } });
  try {
    const c = new ClearMLClient({ api: { apiServer: server.apiUrl, accessKey: server.accessKey, secretKey: server.secretKey }, sendServerDeletesAsGiven: true });
    const { id } = await c.call<{ id: string }>('models.create', { name: 'a model', uri: `${server.filesUrl}/x/m.pt` });
    await c.call('models.delete', { model: id });
    c.close();
    expect(server.asyncDelete.enabled).toBe(false);
    expect(server.asyncDelete.history()).toEqual([]);
  } finally {
    await server.close();
  }
});
