/**
 * Every clearml-server API version we support (2.13 ... 2.34): the embedded server emulates each one
 * (--api-version) and the same cleanup scenario runs on it: eligible tasks and all their files go
 * (more than 100 debug images each), kept tasks, a model file shared with a kept model and a model
 * in use stay. What the client sent is read from the server's request log.
 */
import { runPass, silentLogger } from '../src/cleanup/index.js';
import type { RecordedRequest } from '../src/server/index.js';
import { rawCall } from './support/embedded-api.js';
import { World } from './support/cleanup-world.js';

function older(a: string, b: string): boolean {
  const [x, y] = [a.split('.').map(Number), b.split('.').map(Number)];
  return x[0] !== y[0] ? x[0] < y[0] : x[1] < y[1];
}

describe.each(['2.13', '2.20', '2.23', '2.34'])('a clearml-server of API %s', (version) => {
  let w: World;
  beforeAll(async () => {
    w = await World.start({ apiVersion: version, recordRequests: true });
  });
  afterAll(async () => {
    await w?.close();
  });

  test('one pass deletes every eligible task with its files and keeps everything else', async () => {
    expect(await w.client.serverApiVersion()).toBe(version);
    const eligible = await w.task({ artifacts: 2, s3Artifacts: 1, debugImages: 130, plotImages: 3, models: [{}] });
    const eligible2 = await w.task({ artifacts: 1, debugImages: 101 });
    const live = await w.task({ archived: false, artifacts: 1, debugImages: 2 });
    const recent = await w.task({ ageDays: 3, artifacts: 1 });
    const completed = await w.task({ status: 'completed', artifacts: 1 });
    const keeper = await w.task({ archived: false, models: [{}] });
    const sharer = await w.task({ artifacts: 1, models: [{ uri: keeper.models[0].uri }] });
    const owner = await w.task({ artifacts: 1, models: [{}] });
    const user = await w.task({ archived: false });
    await w.useAsInput(user.id, owner.models[0].id);
    await w.finalize();
    w.server.clearRequests();

    const r = await runPass({ api: w.api, storage: w.storage, log: silentLogger }, { deleteThresholdDays: 30, forceDelete: false, stateDir: w.stateDir, pacingMs: 0 });
    expect(r.error).toBeUndefined();
    expect(r.tasks.failed).toBe(0);
    expect(r.tasks.deleted).toBe(4);

    for (const t of [eligible, eligible2]) {
      expect(await w.taskExists(t.id)).toBe(false);
      expect(await w.existing(t.files)).toEqual([]);
    }
    expect(eligible.files.length).toBe(2 + 1 + 130 + 3 + 1);
    expect(await w.modelExists(eligible.models[0].id)).toBe(false);
    for (const t of [live, recent, completed, keeper, user]) {
      expect(await w.taskExists(t.id)).toBe(true);
      expect(await w.existing(t.files)).toEqual(t.files);
    }
    // the shared file stays with the kept model; the sharer's own model and files go
    expect(await w.taskExists(sharer.id)).toBe(false);
    expect(await w.modelExists(sharer.models[0].id)).toBe(false);
    expect(await w.exists(keeper.models[0].uri)).toBe(true);
    expect(await w.modelExists(keeper.models[0].id)).toBe(true);
    // the model in use stays with its file
    expect(await w.taskExists(owner.id)).toBe(false);
    expect(await w.modelExists(owner.models[0].id)).toBe(true);
    expect(await w.exists(owner.models[0].uri)).toBe(true);

    // on the wire: nothing above the server's version, nothing it lacks, nothing it does not know
    const sent: RecordedRequest[] = w.server.requests();
    expect(sent.length).toBeGreaterThan(0);
    for (const q of sent) {
      expect(q.status).not.toBe(404);
      if (q.endpoint !== 'auth.login') expect(older(version, q.requested)).toBe(false);
    }
    const endpoints = new Set(sent.map((q) => q.endpoint));
    expect(endpoints.has('events.plots')).toBe(!older(version, '2.20'));
    const taskDeletes = sent.filter((q) => q.endpoint === 'tasks.delete_many');
    const modelDeletes = sent.filter((q) => q.endpoint === 'models.delete_many');
    expect(taskDeletes.length).toBeGreaterThan(0);
    expect(modelDeletes.length).toBeGreaterThan(0);
    for (const q of taskDeletes) {
      const body = q.body as Record<string, unknown>;
      expect(body.delete_output_models).toBe(false);
      expect('delete_external_artifacts' in body ? body.delete_external_artifacts : 'absent').toBe(older(version, '2.21') ? 'absent' : false);
    }
    for (const q of modelDeletes) {
      const body = q.body as Record<string, unknown>;
      expect('delete_external_artifacts' in body ? body.delete_external_artifacts : 'absent').toBe(older(version, '2.25') ? 'absent' : false);
    }
    const lists = sent.filter((q) => q.endpoint === 'tasks.get_all').map((q) => q.body as Record<string, unknown>);
    expect(lists.some((b) => 'last_change' in b)).toBe(!older(version, '2.31'));
    expect(lists.some((b) => 'search_hidden' in b)).toBe(!older(version, '2.17'));
  });
});

describe('the emulation itself', () => {
  let w: World;
  beforeAll(async () => {
    w = await World.start({ apiVersion: '2.20' });
  });
  afterAll(async () => {
    await w?.close();
  });

  async function raw(path: string, body: object) {
    return rawCall(`${w.server.apiUrl}${path}`, {
      method: 'POST',
      headers: { authorization: `Bearer ${await w.client.getToken()}`, 'content-type': 'application/json' },
      body: JSON.stringify(body),
    });
  }

  test('token, served version, missing endpoints and filters as on that server', async () => {
    const claims = JSON.parse(Buffer.from((await w.client.getToken()).split('.')[1], 'base64url').toString('utf8'));
    expect(claims.api_version).toBe('2.20');
    expect(claims.server_version).toBe('1.6.0');
    expect((await w.call('server.info', {})).version).toBe('1.6.0');
    // the web app asks for v999.0: served by the newest the server has
    const high = await raw('/v999.0/tasks.get_all', { only_fields: ['id'] });
    expect(high.status).toBe(200);
    expect(high.body.meta.endpoint).toEqual({ name: 'tasks.get_all', requested_version: '999.0', actual_version: '2.20' });
    // an endpoint of a later API answers as the real server does for an unknown endpoint
    const later = await raw('/v2.20/events.get_multi_task_metrics', { tasks: ['x'] });
    expect(later.status).toBe(404);
    expect(later.body.meta.result_msg).toBe('Unable to find endpoint for name events.get_multi_task_metrics and version 2.20');
    // a release that has an endpoint answers it at lower request versions too (registered from 1.0)
    const t0 = await w.task({ plotImages: 1 });
    await w.finalize();
    const lower = await raw('/v2.13/events.plots', { metrics: [{ task: t0.id }] });
    expect(lower.status).toBe(200);
    expect(lower.body.meta.endpoint.actual_version).toBe('2.13');
    // the multi-task debug_images form answers from 2.7 only
    expect((await raw('/v2.5/events.debug_images', { metrics: [{ task: t0.id }] })).status).toBe(404);
    // last_change is not a filter before 2.31: the server drops it and every archived task matches
    const t = await w.task({});
    await w.finalize();
    const old = await raw('/v2.20/tasks.get_all', { id: [t.id], system_tags: ['archived'], last_change: ['<2001-01-01T00:00:00'], only_fields: ['id'] });
    expect(old.body.data.tasks.map((x: { id: string }) => x.id)).toEqual([t.id]);
  });

  test('a current server does filter on last_change', async () => {
    const cur = await World.start();
    try {
      const t = await cur.task({});
      await cur.finalize();
      const res = await cur.call('tasks.get_all', { id: [t.id], system_tags: ['archived'], last_change: ['<2001-01-01T00:00:00'], only_fields: ['id'] });
      expect(res.tasks).toEqual([]);
    } finally {
      await cur.close();
    }
  });
});

test('before API 2.17 nothing is hidden: get_all lists hidden tasks without search_hidden', async () => {
  const [old, cur] = await Promise.all([World.start({ apiVersion: '2.16' }), World.start({ apiVersion: '2.17' })]);
  try {
    for (const w of [old, cur]) {
      const { id } = await w.call<{ id: string }>('tasks.create', { name: 'hidden one', type: 'training', system_tags: ['hidden'] });
      const listed = await w.call<{ tasks: Array<{ id: string }> }>('tasks.get_all', { name: '^hidden one$', only_fields: ['id'] });
      expect({ api: w.server.apiVersion, ids: listed.tasks.map((t) => t.id) }).toEqual({ api: w.server.apiVersion, ids: w === old ? [id] : [] });
    }
  } finally {
    await Promise.all([old.close(), cur.close()]);
  }
});

test('the server deletes files by itself only from the release that has delete_external_artifacts', async () => {
  const [before, from] = await Promise.all([World.start({ apiVersion: '2.24' }), World.start({ apiVersion: '2.25' })]);
  try {
    for (const w of [before, from]) {
      const t = await w.task({ archived: false, models: [{}] });
      await w.finalize();
      // sent raw: our client would add delete_external_artifacts: false
      const res = await rawCall(`${w.server.apiUrl}/v2.23/models.delete_many`, {
        method: 'POST',
        headers: { authorization: `Bearer ${await w.client.getToken()}`, 'content-type': 'application/json' },
        body: JSON.stringify({ ids: [t.models[0].id], force: true }),
      });
      expect(res.status).toBe(200);
      await w.server.asyncDelete.drain();
      const queued = w.server.asyncDelete.history().map((q) => q.url);
      expect({ api: w.server.apiVersion, queued, fileLeft: await w.exists(t.models[0].uri) }).toEqual(
        w === before
          ? { api: '2.24', queued: [], fileLeft: true }
          : { api: '2.25', queued: [t.models[0].uri], fileLeft: false },
      );
    }
  } finally {
    await Promise.all([before.close(), from.close()]);
  }
});
