/** The typed namespaces against the embedded server: request shapes the cleanup and its own task send. */
import { startServer } from '../src/server/index.js';
import { ApiError, ClearMLClient } from '../src/api/index.js';

let s: Awaited<ReturnType<typeof startServer>>;
let c: ClearMLClient;

beforeAll(async () => {
  s = await startServer({ port: 0, filesPort: 0 });
  c = new ClearMLClient({ api: { apiServer: s.apiUrl, accessKey: s.accessKey, secretKey: s.secretKey }, backoffBaseMs: 5 });
});
afterAll(async () => {
  c.close();
  await s.close();
});

test('projects and queues: create, find by anchored name', async () => {
  const { id } = await c.projects.create({ name: 'DevOps Services' });
  const { projects } = await c.projects.getAll({ name: '^DevOps Services$', search_hidden: true });
  expect(projects.map((p) => p.id)).toEqual([id]);
  const dup = (await c.projects.create({ name: 'DevOps Services' }).catch((e) => e)) as ApiError;
  expect(dup).toMatchObject({ code: 400, subcode: 801 });
  const { id: queue } = await c.queues.create({ name: 'services' });
  const { queues } = await c.queues.getAll({ name: '^services$' });
  expect(queues.map((q) => q.id)).toEqual([queue]);
});

test('task lifecycle: create, edit, hyperparams, enqueue, started, ping, log, completed', async () => {
  const project = (await c.projects.create({ name: 'api-lifecycle' })).id;
  const { id: task } = await c.tasks.create({ name: 'Cleanup Service', type: 'service', project, system_tags: ['development'] });
  await c.tasks.edit({ task, force: true, script: { binary: 'bash', entry_point: 'run.sh' }, container: { image: 'node:20' } });
  await c.tasks.editHyperParams({
    task,
    hyperparams: [{ section: 'General', name: 'delete_threshold_days', value: '30.0', type: 'float' }],
  });
  const hp = await c.tasks.getHyperParams({ tasks: [task] });
  expect(hp.params[0].hyperparams).toEqual([expect.objectContaining({ section: 'General', name: 'delete_threshold_days', value: '30.0' })]);

  const queue = (await c.queues.getAll({ name: '^services$' })).queues[0]?.id ?? (await c.queues.create({ name: 'services' })).id;
  await c.tasks.enqueue({ task, queue });
  let t = (await c.tasks.getById({ task })).task;
  expect(t.status).toBe('queued');
  expect(t.system_tags ?? []).not.toContain('development');

  await c.tasks.started({ task, force: true });
  await c.tasks.ping({ task });
  const added = await c.events.addBatch([{ type: 'log', task, timestamp: Date.now(), level: 'info', worker: 'w', msg: 'Cleanup service started' }]);
  expect(added.added).toBe(1);
  const log = await c.events.getTaskLog({ task });
  expect(log.events.map((e) => e.msg)).toContain('Cleanup service started');
  await c.tasks.completed({ task, force: true });
  t = (await c.tasks.getById({ task })).task;
  expect(t.status).toBe('completed');
  expect(t.script).toMatchObject({ binary: 'bash', entry_point: 'run.sh' });
});

test('stopped, failed and reset change status', async () => {
  const { id: task } = await c.tasks.create({ name: 'api-status', type: 'training' });
  await c.tasks.started({ task });
  await c.tasks.stopped({ task, force: true });
  expect((await c.tasks.getById({ task })).task.status).toBe('stopped');
  await c.tasks.reset({ task, force: true });
  expect((await c.tasks.getById({ task })).task.status).toBe('created');
  await c.tasks.started({ task });
  await c.tasks.failed({ task, force: true });
  expect((await c.tasks.getById({ task })).task.status).toBe('failed');
});

test('models: create, list by task, delete; delete of an unknown model is 400/201', async () => {
  const { id: task } = await c.tasks.create({ name: 'api-models', type: 'training' });
  const { id: model } = await c.models.create({ name: 'model-1', uri: `${s.filesUrl}/p/m1.bin`, task });
  const { models } = await c.models.getAll({ task: [task], only_fields: ['id', 'uri', 'ready', 'task'] });
  expect(models).toEqual([expect.objectContaining({ id: model, uri: `${s.filesUrl}/p/m1.bin` })]);
  const del = await c.models.delete({ model, force: false });
  expect(del.deleted).toBeTruthy();
  const err = (await c.models.delete({ model }).catch((e) => e)) as ApiError;
  expect(err).toMatchObject({ code: 400, subcode: 201 });
});

test('tasks.delete answers with counts; deleteMany reports per-task failures', async () => {
  const { id: a } = await c.tasks.create({ name: 'api-del-a', type: 'training' });
  const { id: b } = await c.tasks.create({ name: 'api-del-b', type: 'training' });
  await c.tasks.archive({ tasks: [a, b] });
  const r = await c.tasks.delete({ task: a, force: false, delete_external_artifacts: false, return_file_urls: true });
  expect(r.deleted).toBeTruthy();
  const many = await c.tasks.deleteMany({ ids: [a, b], delete_external_artifacts: false });
  expect(many.succeeded.map((x) => x.id)).toEqual([b]);
  expect(many.failed.map((x) => x.id)).toEqual([a]);
});

test('events: metrics of a task and a debug-image scroll page', async () => {
  const { id: task } = await c.tasks.create({ name: 'api-events', type: 'training' });
  await c.events.addBatch([
    { type: 'training_debug_image', task, timestamp: 1, iter: 0, metric: 'img', variant: 'v', url: 'http://f/x/0.png' },
    { type: 'training_stats_scalar', task, timestamp: 2, iter: 0, metric: 'loss', variant: 'v', value: 1.5 },
  ]);
  const m = await c.events.getTaskMetrics({ tasks: [task], event_type: 'training_debug_image' });
  expect(m.metrics[0]).toMatchObject({ task, metrics: ['img'] });
  const page = await c.events.getTaskEvents({ task, event_type: 'training_debug_image', batch_size: 10 });
  expect(page.events.map((e) => e.url)).toEqual(['http://f/x/0.png']);
  expect(page.total).toBe(1);
});
