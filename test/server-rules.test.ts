import { Api } from './support/embedded-api.js';

let api: Api;
let queue: string;
beforeAll(async () => {
  api = await Api.start();
  queue = (await api.ok('queues.create', { name: 'services' })).id;
});
afterAll(async () => {
  await api.close();
});

const get = async (id: string) => (await api.ok('tasks.get_by_id', { task: id })).task;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe('status transitions', () => {
  test('created -> completed needs force (400/110); force works', async () => {
    const id = await api.createTask('status one');
    expect(await api.fails('tasks.completed', { task: id })).toEqual([400, 110]);
    await api.ok('tasks.completed', { task: id, force: true });
    const t = await get(id);
    expect(t.status).toBe('completed');
    expect(t.status_changed).not.toBeNull();
    expect(t.completed).toBeDefined();
  });

  test('started stamps started and status_changed; same-state and stopped->completed are allowed', async () => {
    const id = await api.createTask('status two');
    const r = await api.ok('tasks.started', { task: id });
    expect(r).toMatchObject({ updated: 1, started: 1 });
    const t1 = await get(id);
    expect(t1.status).toBe('in_progress');
    expect(t1.started).toBe(t1.status_changed);
    await sleep(5);
    await api.ok('tasks.started', { task: id, force: true });
    expect((await get(id)).started).toBe(t1.started);
    await api.ok('tasks.stopped', { task: id, status_reason: 'user abort' });
    const t2 = await get(id);
    expect(t2).toMatchObject({ status: 'stopped', status_reason: 'user abort', status_message: '' });
    await api.ok('tasks.completed', { task: id });
    await api.ok('tasks.completed', { task: id });
    await api.ok('tasks.failed', { task: id, force: true });
    await api.ok('tasks.failed', { task: id });
    expect((await get(id)).status).toBe('failed');
  });

  test('published allows nothing without force; reset of published needs force (400/110)', async () => {
    const id = await api.createTask('status three');
    await api.ok('tasks.started', { task: id });
    await api.ok('tasks.stopped', { task: id });
    await api.ok('tasks.publish', { task: id });
    expect((await get(id)).status).toBe('published');
    expect(await api.fails('tasks.started', { task: id })).toEqual([400, 110]);
    expect(await api.fails('tasks.reset', { task: id })).toEqual([400, 110]);
    await api.ok('tasks.reset', { task: id, force: true });
    const t = await get(id);
    expect(t).toMatchObject({ status: 'created', status_reason: 'reset', status_message: 'reset', runtime: {}, last_iteration: 0 });
    expect(t.started).toBeUndefined();
    expect(t.status_changed).not.toBeNull();
  });

  test('edit needs force unless Draft; script merges, runtime is replaced', async () => {
    const id = await api.createTask('edit task');
    await api.ok('tasks.edit', { task: id, script: { entry_point: 'run.sh', binary: '/bin/bash' }, runtime: { a: '1' } });
    await api.ok('tasks.started', { task: id });
    expect(await api.fails('tasks.edit', { task: id, runtime: { b: '2' } })).toEqual([400, 110]);
    const before = await get(id);
    await sleep(5);
    await api.ok('tasks.edit', { task: id, force: true, script: { version_num: 'abc' }, runtime: { b: '2' } });
    const t = await get(id);
    expect(t.script).toMatchObject({ entry_point: 'run.sh', binary: '/bin/bash', version_num: 'abc' });
    expect(t.runtime).toEqual({ b: '2' });
    expect(t.last_change > before.last_change).toBe(true);
    expect(t.status_changed).toBe(before.status_changed);
  });

  test('ping moves last_update only', async () => {
    const id = await api.createTask('ping task');
    const before = await get(id);
    await sleep(5);
    expect(await api.ok('tasks.ping', { task: id })).toEqual({});
    const t = await get(id);
    expect(t.last_update > before.last_update).toBe(true);
    expect(t.status_changed).toBeNull();
  });
});

describe('queues', () => {
  test('enqueue drops the development tag, records the queue; get_next_task pops; dequeue restores', async () => {
    const id = await api.createTask('queued task', { system_tags: ['development'] });
    const r = await api.ok('tasks.enqueue', { task: id, queue, verify_watched_queue: false });
    expect(r).toMatchObject({ updated: 1, queued: 1 });
    const t = await get(id);
    expect(t.status).toBe('queued');
    expect(t.system_tags).not.toContain('development');
    expect(t.execution.queue).toBe(queue);
    const q = (await api.ok('queues.get_by_id', { queue })).queue;
    expect(q.entries.map((e: any) => e.task)).toContain(id);
    expect(q.tags).toEqual([]);
    const d = await api.ok('tasks.dequeue', { task: id });
    expect(d).toMatchObject({ dequeued: 1, updated: 1 });
    expect((await api.ok('queues.get_by_id', { queue })).queue.entries.map((e: any) => e.task)).not.toContain(id);
    expect((await get(id)).status).toBe('created');

    await api.ok('tasks.enqueue', { task: id, queue });
    const next = await api.ok('queues.get_next_task', { queue });
    expect(next.entry.task).toBe(id);
    expect(await api.ok('queues.get_next_task', { queue })).toEqual({});
  });

  test('unknown queue is 400/701; queues.get_by_id of a name is 400/701; get_default finds the default queue', async () => {
    const id = await api.createTask('queue errors');
    expect(await api.fails('tasks.enqueue', { task: id, queue: 'nope' })).toEqual([400, 701]);
    await api.ok('tasks.enqueue', { task: id, queue_name: 'made on the fly' });
    expect(await api.fails('tasks.enqueue', { task: id, queue_name: 'made on the fly' })).toEqual([400, 706]);
    const made = await api.ok('queues.get_all', { name: '^made on the fly$' });
    expect(made.queues[0].entries.map((e: any) => e.task)).toEqual([id]);
    expect(await api.fails('queues.get_by_id', { queue: 'services' })).toEqual([400, 701]);
    const dflt = await api.ok('queues.get_default');
    expect(dflt.name).toBe('default');
    const { queues } = await api.ok('queues.get_all', { name: '^services$', only_fields: ['id'] });
    expect(queues).toEqual([{ id: queue }]);
  });

  test('stop: a development task stops at once; a task with a live worker gets "stopping"', async () => {
    const dev = await api.createTask('stop dev', { system_tags: ['development'] });
    await api.ok('tasks.started', { task: dev });
    await api.ok('tasks.stop', { task: dev });
    expect((await get(dev)).status).toBe('stopped');

    const remote = await api.createTask('stop remote');
    await api.ok('tasks.enqueue', { task: remote, queue });
    await api.ok('tasks.started', { task: remote, force: true });
    await api.ok('workers.status_report', { worker: 'vm:0', task: remote, timestamp: Date.now(), machine_stats: null, tags: null });
    await api.ok('tasks.stop', { task: remote });
    const t = await get(remote);
    expect(t).toMatchObject({ status: 'in_progress', status_message: 'stopping', last_worker: 'vm:0' });
  });
});

describe('agent flow', () => {
  test('dequeue {new_status: in_progress}: updated 1 for queued or running tasks, 0 for a Draft', async () => {
    const draft = await api.createTask('agent draft');
    expect(await api.ok('tasks.dequeue', { task: draft, new_status: 'in_progress' })).toEqual({ dequeued: 1, updated: 0 });
    expect(await api.ok('tasks.dequeue', { task: 'f'.repeat(32) })).toEqual({ dequeued: 1, updated: 0 });
    expect((await get(draft)).status).toBe('created');

    const id = await api.createTask('agent queued');
    const own = (await api.ok('queues.create', { name: 'agent queue' })).id;
    await api.ok('tasks.enqueue', { task: id, queue: own });
    expect((await api.ok('queues.get_next_task', { queue: own })).entry.task).toBe(id);
    expect((await get(id)).status).toBe('queued');
    expect((await api.ok('tasks.dequeue', { task: id, new_status: 'in_progress' })).updated).toBe(1);
    await api.ok('tasks.started', { task: id, status_reason: 'starting execution soon', status_message: '', force: true });
    expect((await api.ok('tasks.dequeue', { task: id, new_status: 'in_progress' })).updated).toBe(1);
    const t = await get(id);
    expect(t.status).toBe('in_progress');
    // like the real server, leaving the queue does not clear execution.queue
    expect(t.execution.queue).toBe(own);
  });

  test('workers register, report (task last_worker and last_update), list and unregister', async () => {
    const id = await api.createTask('agent worker task');
    await api.ok('workers.register', { worker: 'vm:cpu:0', queues: [queue] });
    await api.ok('workers.status_report', { worker: 'vm:cpu:0', task: id, queue, queues: [queue], is_daemon: true, timestamp: Date.now() });
    const { workers } = await api.ok('workers.get_all', {});
    expect(workers.find((w: any) => w.id === 'vm:cpu:0')).toMatchObject({ queues: [queue], task: { id } });
    expect((await get(id)).last_worker).toBe('vm:cpu:0');
    await api.ok('workers.unregister', { worker: 'vm:cpu:0', queues: [] });
    expect((await api.ok('workers.get_all', {})).workers.map((w: any) => w.id)).not.toContain('vm:cpu:0');
    expect(await api.fails('workers.set_runtime_properties', { worker: 'vm:cpu:0' })).toEqual([404, 0]);
  });

  test('hyperparameters, configuration and requirements round-trip as strings', async () => {
    const id = await api.createTask('params task');
    await api.ok('tasks.edit_hyper_params', {
      task: id,
      hyperparams: [
        { section: 'General', name: 'delete_threshold_days', value: '30.0', type: 'float', description: '' },
        { section: 'General', name: 'run_as_service', value: 'True', type: 'bool' },
      ],
    });
    const p = await api.ok('tasks.get_hyper_params', { tasks: [id] });
    expect(p.params[0].hyperparams).toHaveLength(2);
    expect((await get(id)).hyperparams.General.delete_threshold_days).toEqual({
      section: 'General', name: 'delete_threshold_days', value: '30.0', type: 'float', description: '',
    });
    expect((await api.ok('tasks.delete_hyper_params', { task: id, hyperparams: [{ section: 'General', name: 'run_as_service' }] })).deleted).toBe(1);
    await api.ok('tasks.edit_configuration', { task: id, configuration: [{ name: 'cfg', value: 'a: 1', type: 'hocon' }] });
    const c = await api.ok('tasks.get_configurations', { tasks: [id] });
    expect(c.configurations[0].configuration).toEqual([{ name: 'cfg', value: 'a: 1', type: 'hocon', description: '' }]);
    await api.ok('tasks.set_requirements', { task: id, requirements: { pip: 'clearml == 2.1.7\n' } });
    expect((await get(id)).script.requirements).toEqual({ pip: 'clearml == 2.1.7\n' });
    await api.ok('tasks.started', { task: id });
    expect(await api.fails('tasks.edit_hyper_params', { task: id, hyperparams: [] })).toEqual([400, 110]);
  });

  test('scalar events move last_iteration, last_metrics and last_update', async () => {
    const id = await api.createTask('metrics task');
    const before = await get(id);
    await sleep(5);
    const lines = [
      { type: 'training_stats_scalar', task: id, timestamp: Date.now(), iter: 3, metric: 'loss', variant: 'train', value: 0.5 },
      { type: 'training_stats_scalar', task: id, timestamp: Date.now(), iter: 7, metric: 'loss', variant: 'train', value: 0.25 },
    ].map((e) => JSON.stringify(e)).join('\n');
    const res = await fetch(`${api.server.apiUrl}/events.add_batch`, {
      method: 'POST',
      headers: { Authorization: `Bearer ${api.token}`, 'Content-Type': 'application/json-lines' },
      body: lines,
    });
    expect(res.status).toBe(200);
    expect(((await res.json()) as any).data.added).toBe(2);
    const t = await get(id);
    expect(t.last_iteration).toBe(7);
    const variants = Object.values(t.last_metrics).flatMap((m: any) => Object.values(m)) as any[];
    expect(variants).toHaveLength(1);
    expect(variants[0]).toMatchObject({ metric: 'loss', variant: 'train', value: 0.25 });
    expect(t.last_update > before.last_update).toBe(true);
  });

  test('clone copies the definition into a new Draft with the source as parent', async () => {
    const src = await api.createTask('clone source', { system_tags: ['archived'] });
    await api.ok('tasks.edit', { task: src, script: { entry_point: 'x.sh' }, hyperparams: { General: {} } });
    const { id } = await api.ok('tasks.clone', { task: src, new_task_name: 'clone copy' });
    const t = await get(id);
    expect(t).toMatchObject({ name: 'clone copy', status: 'created', parent: src, status_changed: null, script: { entry_point: 'x.sh' } });
    expect(t.system_tags).not.toContain('archived');
  });
});

describe('archive', () => {
  test('archive adds the system tag, moves last_change, not status_changed; a queued task is dequeued', async () => {
    const draft = await api.createTask('archive draft');
    const before = await get(draft);
    await sleep(5);
    expect(await api.ok('tasks.archive', { tasks: [draft] })).toEqual({ archived: 1 });
    const t = await get(draft);
    expect(t.system_tags).toContain('archived');
    expect(t.status_changed).toBeNull();
    expect(t.last_change > before.last_change).toBe(true);

    const queued = await api.createTask('archive queued');
    await api.ok('tasks.enqueue', { task: queued, queue });
    const r = await api.ok('tasks.archive_many', { ids: [queued, 'f'.repeat(32)] });
    expect(r.succeeded).toEqual([{ id: queued, archived: true }]);
    expect(r.failed[0]).toMatchObject({ id: 'f'.repeat(32), error: { codes: [400, 101] } });
    const q = await get(queued);
    expect(q.status).toBe('created');
    expect(q.status_message).toBe('');
    const entries = (await api.ok('queues.get_by_id', { queue })).queue.entries;
    expect(entries.map((e: any) => e.task)).not.toContain(queued);

    const un = await api.ok('tasks.unarchive_many', { ids: [queued] });
    expect(un.succeeded).toEqual([{ id: queued, unarchived: true }]);
    expect((await get(queued)).system_tags).not.toContain('archived');
  });
});

describe('delete rules', () => {
  test('without force: Draft and archived tasks go, others are 400/123', async () => {
    const draft = await api.createTask('delete draft');
    expect((await api.ok('tasks.delete', { task: draft })).deleted).toBe(true);
    expect(await api.fails('tasks.get_by_id', { task: draft })).toEqual([400, 101]);

    const done = await api.createTask('delete completed');
    await api.ok('tasks.completed', { task: done, force: true });
    expect(await api.fails('tasks.delete', { task: done })).toEqual([400, 123]);
    await api.ok('tasks.archive', { tasks: [done] });
    expect((await api.ok('tasks.delete', { task: done })).deleted).toBe(true);

    const running = await api.createTask('delete running');
    await api.ok('tasks.started', { task: running });
    expect(await api.fails('tasks.delete', { task: running })).toEqual([400, 123]);
    expect((await api.ok('tasks.delete', { task: running, force: true })).deleted).toBe(true);
  });

  test('published children and published output models need force (400/123)', async () => {
    const parent = await api.createTask('parent task');
    const child = await api.createTask('child task', { parent });
    await api.ok('tasks.completed', { task: child, force: true });
    await api.ok('tasks.publish', { task: child });
    expect(await api.fails('tasks.delete', { task: parent })).toEqual([400, 123]);
    const r = await api.ok('tasks.delete', { task: parent, force: true });
    expect(r.updated_children).toBe(1);
    expect((await get(child)).parent).toBe(`__DELETED__${parent}`);

    const owner = await api.createTask('model owner');
    const m = (await api.ok('models.create', { name: 'published model', uri: 'file:///tmp/m.bin', task: owner, ready: true })).id;
    await api.ok('tasks.add_or_update_model', { task: owner, name: 'out', model: m, type: 'output' });
    expect(await api.fails('tasks.delete', { task: owner })).toEqual([400, 123]);
    const d = await api.ok('tasks.delete', { task: owner, force: true });
    expect(d.updated_models).toBe(1);
    expect((await api.ok('models.get_by_id', { model: m })).model.task).toBe(`__DELETED__${owner}`);
  });

  test('built-in example tasks are 403/21', async () => {
    const ex = await api.createTask('example task', { system_tags: ['example'] });
    expect(await api.fails('tasks.delete', { task: ex, force: true })).toEqual([403, 21]);
    expect(await api.fails('tasks.edit', { task: ex, force: true, comment: 'x' })).toEqual([403, 21]);
    expect(await api.fails('tasks.archive', { tasks: [ex] })).toEqual([403, 21]);
    expect((await get(ex)).id).toBe(ex);

    // built-in examples on the real server are entities of no company
    const pub = await api.createTask('public task');
    const r = await fetch(`${api.server.apiUrl}/_embedded/make_public`, {
      method: 'POST',
      headers: { 'Content-Type': 'application/json' },
      body: JSON.stringify({ tasks: [pub] }),
    });
    expect(r.status).toBe(200);
    const t = await get(pub);
    expect(t.company).toBe('');
    expect(await api.fails('tasks.delete', { task: pub, force: true })).toEqual([403, 21]);
    const many = await api.ok('tasks.archive_many', { ids: [pub] });
    expect(many.failed[0]).toMatchObject({ id: pub, error: { codes: [403, 21] } });
  });

  test('delete_output_models deletes unused drafts, detaches used ones, returns urls, dequeues, re-parents', async () => {
    const victim = await api.createTask('victim task');
    const user = await api.createTask('model user');
    const unused = (await api.ok('models.create', { name: 'unused model', uri: 'http://files/a/unused.bin', task: victim })).id;
    const used = (await api.ok('models.create', { name: 'used model', uri: 'http://files/a/used.bin', task: victim })).id;
    await api.ok('tasks.add_or_update_model', { task: user, name: 'in', model: used, type: 'input' });
    await api.ok('tasks.add_or_update_artifacts', {
      task: victim,
      artifacts: [
        { key: 'b', type: 'dict', uri: 'http://files/a/b.json' },
        { key: 'a', type: 'custom', uri: 's3://bucket/a.csv', mode: 'input' },
      ],
      force: true,
    });
    const t = await get(victim);
    expect(t.execution.artifacts.map((a: any) => [a.key, a.mode])).toEqual([['a', 'input'], ['b', 'output']]);
    await api.ok('tasks.enqueue', { task: victim, queue });
    const child = await api.createTask('victim child', { parent: victim });

    const r = await api.ok('tasks.delete', { task: victim, force: true, return_file_urls: true, delete_output_models: true });
    expect(r).toMatchObject({
      deleted: true,
      updated_children: 1,
      updated_models: 0,
      deleted_models: 1,
      events: { deleted: 0 },
      urls: { model_urls: ['http://files/a/unused.bin'], event_urls: [], artifact_urls: ['http://files/a/b.json'] },
    });
    expect(await api.fails('models.get_by_id', { model: unused })).toEqual([400, 201]);
    const usedModel = (await api.ok('models.get_by_id', { model: used })).model;
    expect(usedModel.task).toBeUndefined();
    expect((await get(child)).parent).toBe(`__DELETED__${victim}`);
    const entries = (await api.ok('queues.get_by_id', { queue })).queue.entries;
    expect(entries.map((e: any) => e.task)).not.toContain(victim);
  });

  test('delete_many reports succeeded and failed per id', async () => {
    const a = await api.createTask('many one');
    const b = await api.createTask('many two');
    await api.ok('tasks.started', { task: b });
    const r = await api.ok('tasks.delete_many', { ids: [a, b] });
    expect(r.succeeded).toHaveLength(1);
    expect(r.succeeded[0]).toMatchObject({ id: a, deleted: true });
    expect(r.failed).toHaveLength(1);
    expect(r.failed[0]).toMatchObject({ id: b, error: { codes: [400, 123] } });
    expect(typeof r.failed[0].error.msg).toBe('string');
  });
});

describe('models', () => {
  test('models.delete of a model used as input is 400/205 unless force', async () => {
    const owner = await api.createTask('model owner two');
    const user = await api.createTask('model user two');
    const m = (await api.ok('models.create', { name: 'shared model', uri: 'file:///x/m.pt', task: owner })).id;
    await api.ok('tasks.add_or_update_model', { task: user, name: 'in', model: m, type: 'input' });
    expect(await api.fails('models.delete', { model: m })).toEqual([400, 205]);
    const { tasks } = await api.ok('tasks.get_all', { 'models.input.model': [m], only_fields: ['id'] });
    expect(tasks).toEqual([{ id: user }]);
    expect(await api.ok('models.delete', { model: m, force: true })).toEqual({ deleted: true, url: 'file:///x/m.pt' });
    expect((await get(user)).models.input).toEqual([{ name: 'in', model: `__DELETED__${m}` }]);
    expect(await api.fails('models.delete', { model: m })).toEqual([400, 201]);
  });

  test('models.get_all filters by task and projects fields; delete_many shape', async () => {
    const owner = await api.createTask('model owner three');
    const m1 = (await api.ok('models.create', { name: 'model one', uri: 'file:///m1', task: owner })).id;
    const m2 = (await api.ok('models.create', { name: 'model two', uri: 'file:///m2', task: owner, ready: true })).id;
    const { models } = await api.ok('models.get_all', { task: [owner], only_fields: ['id', 'uri', 'ready', 'task'], order_by: ['name'] });
    expect(models).toEqual([
      { id: m1, uri: 'file:///m1', ready: false, task: owner },
      { id: m2, uri: 'file:///m2', ready: true, task: owner },
    ]);
    const r = await api.ok('models.delete_many', { ids: [m1, m2, 'nope'] });
    expect(r.succeeded.map((s: any) => s.id).sort()).toEqual([m1, m2].sort());
    expect(r.failed[0]).toMatchObject({ id: 'nope', error: { codes: [400, 201] } });
  });
});

describe('projects', () => {
  test('create, duplicate 400/801, short 400/800, regex lookup, hidden only with search_hidden', async () => {
    const id = (await api.ok('projects.create', { name: 'DevOps Services', description: '' })).id;
    expect(await api.fails('projects.create', { name: 'DevOps Services' })).toEqual([400, 801]);
    expect(await api.fails('projects.create', { name: 'ab' })).toEqual([400, 12]);
    expect(await api.fails('projects.create', { name: '//' })).toEqual([400, 407]);
    const { projects } = await api.ok('projects.get_all', { name: '^DevOps\\ Services$', only_fields: ['id'], search_hidden: true });
    expect(projects).toEqual([{ id }]);
    const hidden = (await api.ok('projects.create', { name: 'Hidden Stuff', system_tags: ['hidden'] })).id;
    expect((await api.ok('projects.get_all', { name: 'Hidden' })).projects).toEqual([]);
    expect((await api.ok('projects.get_all', { name: 'Hidden', search_hidden: true })).projects[0].id).toBe(hidden);
    expect((await api.ok('projects.get_by_id', { project: id })).project.name).toBe('DevOps Services');
    expect(await api.fails('tasks.create', { name: 'bad project', type: 'training', project: 'nope' })).toEqual([400, 401]);
  });
});
