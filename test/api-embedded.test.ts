/** ClearMLClient against the embedded ClearML server over real HTTP: auth, refresh, faults, paging, scroll. */
import { startServer } from '../src/server/index.js';
import {
  ApiError,
  ClearMLClient,
  iterateTaskPages,
  iterateTasks,
  scrollTaskEvents,
  type ClearMLClientOptions,
} from '../src/api/index.js';
import type { ServerCounters, TaskEvent } from '../src/types/clearml.js';

type Server = Awaited<ReturnType<typeof startServer>>;

const opened: Array<{ close(): unknown }> = [];
afterAll(async () => {
  for (const o of opened.reverse()) await o.close();
});

async function server(opts: Record<string, unknown> = {}): Promise<Server> {
  const s = await startServer({ port: 0, filesPort: 0, ...opts } as Parameters<typeof startServer>[0]);
  opened.push(s);
  return s;
}

function client(s: Server, extra: Partial<ClearMLClientOptions> = {}): ClearMLClient {
  const c = new ClearMLClient({
    api: { apiServer: s.apiUrl, accessKey: s.accessKey, secretKey: s.secretKey, verifyCertificate: true, apiVersion: '2.23' },
    backoffBaseMs: 5,
    backoffMaxMs: 50,
    ...extra,
  });
  opened.push(c);
  return c;
}

async function counters(s: Server): Promise<ServerCounters> {
  return (await fetch(`${s.apiUrl}/_embedded/counters`)).json() as Promise<ServerCounters>;
}
async function resetCounters(s: Server): Promise<void> {
  await fetch(`${s.apiUrl}/_embedded/counters/reset`, { method: 'POST' });
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** n tasks created with bounded concurrency; returns their ids in creation order */
async function createTasks(c: ClearMLClient, n: number, prefix: string): Promise<string[]> {
  const ids: string[] = new Array(n);
  let next = 0;
  await Promise.all(
    Array.from({ length: 16 }, async () => {
      while (next < n) {
        const i = next++;
        ids[i] = (await c.tasks.create({ name: `${prefix}-${i}`, type: 'training' })).id;
      }
    }),
  );
  return ids;
}

async function archive(c: ClearMLClient, ids: string[]): Promise<void> {
  for (let i = 0; i < ids.length; i += 200) await c.tasks.archive({ tasks: ids.slice(i, i + 200) });
}

describe('auth against the embedded server', () => {
  let s: Server;
  beforeAll(async () => {
    s = await server();
  });

  test('login, create, get_by_id and get_all', async () => {
    const c = client(s);
    const { id } = await c.tasks.create({ name: 'api-basic', type: 'training' });
    const { task } = await c.tasks.getById({ task: id });
    expect(task).toMatchObject({ id, name: 'api-basic', status: 'created' });
    const { tasks } = await c.tasks.getAll({ id: [id], only_fields: ['id', 'name'] });
    expect(tasks).toEqual([expect.objectContaining({ id, name: 'api-basic' })]);
    expect(c.stats.logins).toBe(1);
    const token = await c.getToken();
    expect(token.split('.')).toHaveLength(3);
  });

  test('an invalid id is 400/101 and is not retried (server counts one request)', async () => {
    const c = client(s);
    await c.getToken();
    await resetCounters(s);
    const err = (await c.tasks.getById({ task: 'no-such-task' }).catch((e) => e)) as ApiError;
    expect(err).toBeInstanceOf(ApiError);
    expect(err).toMatchObject({ code: 400, subcode: 101, endpoint: 'tasks.get_by_id' });
    expect(err.message).toMatch(/^tasks\.get_by_id failed: 400\/101 /);
    expect((await counters(s)).api['tasks.get_by_id']).toBe(1);
    expect(c.stats.retries).toBe(0);
  });

  test('a short-lived token is renewed before it runs out, without a 401', async () => {
    // The server's iat is whole seconds, so the token has 3 to 4 s left at login: kept now, renewed after 2.2 s.
    const c = client(s, { tokenExpirationSec: 4, refreshMarginSec: 2 });
    await c.tasks.getAll({ page: 0, page_size: 1 });
    await c.tasks.getAll({ page: 0, page_size: 1 });
    expect(c.stats.logins).toBe(1);
    await sleep(2200);
    await resetCounters(s);
    await c.tasks.getAll({ page: 0, page_size: 1 });
    expect(c.stats.logins).toBe(2);
    expect((await counters(s)).api).toEqual({ 'auth.login': 1, 'tasks.get_all': 1 });
  });

  test('an expired token the client believed valid: one 401, one new login, the call succeeds', async () => {
    // A negative margin makes the client trust the token past its exp, so the server answers 401.
    const c = client(s, { tokenExpirationSec: 2, refreshMarginSec: -3600 });
    await c.tasks.getAll({ page: 0, page_size: 1 });
    expect(c.stats.logins).toBe(1);
    await sleep(3100);
    await resetCounters(s);
    await expect(c.tasks.getAll({ page: 0, page_size: 1 })).resolves.toHaveProperty('tasks');
    expect(c.stats.logins).toBe(2);
    expect((await counters(s)).api).toEqual({ 'auth.login': 1, 'tasks.get_all': 2 });
  });

  test('wrong secret: auth.login 401, message without the secret', async () => {
    const c = new ClearMLClient({ api: { apiServer: s.apiUrl, accessKey: s.accessKey, secretKey: 'wrong-secret-xyz' } });
    opened.push(c);
    const err = (await c.tasks.getAll({}).catch((e) => e)) as ApiError;
    expect(err).toMatchObject({ endpoint: 'auth.login', code: 401 });
    expect(err.message).not.toContain('wrong-secret-xyz');
  });
});

describe('faults', () => {
  test('with 30% injected 500/503/dropped connections every call eventually succeeds', async () => {
    const s = await server({ faultRate: 0.3, faultSeed: 1234 });
    const c = client(s, { retries: 12 });
    const ids = await createTasks(c, 60, 'fault');
    for (const id of ids) expect((await c.tasks.getById({ task: id })).task.id).toBe(id);
    const all = await c.tasks.getAll({ name: '^fault-', only_fields: ['id'] });
    expect(all.tasks).toHaveLength(60); // faults hit before the handler: no duplicate creates
    expect(c.stats.calls).toBe(121);
    expect(c.stats.failures).toBe(0);
    expect(c.stats.retries).toBeGreaterThan(10);
    // Every attempt reached the server: its count equals ours, and the excess is exactly our retries.
    const seen = await counters(s);
    expect(seen.apiTotal).toBe(c.stats.requests);
    expect(seen.apiTotal).toBe(c.stats.calls + c.stats.logins + c.stats.retries);
  });
});

describe('paging while deleting', () => {
  let s: Server;
  let c: ClearMLClient;
  beforeAll(async () => {
    s = await server();
    c = client(s);
  });

  test('deleting each page while iterating 1,100 archived tasks sees every task exactly once', async () => {
    const archived = await createTasks(c, 1100, 'page-arch');
    const kept = await createTasks(c, 40, 'page-kept');
    await archive(c, archived);

    const seen: string[] = [];
    let snapshot = -1;
    const query = { system_tags: ['archived'], name: '^page-', order_by: ['-last_update'], only_fields: ['id', 'name', 'system_tags'] };
    for await (const page of iterateTaskPages(c, query, { pageSize: 100, onSnapshot: (n) => { snapshot = n; } })) {
      expect(page.length).toBeLessThanOrEqual(100);
      for (const t of page) expect(t.system_tags).toContain('archived');
      seen.push(...page.map((t) => t.id));
      const r = await c.tasks.deleteMany({ ids: page.map((t) => t.id), force: true, delete_external_artifacts: false });
      expect(r.failed).toEqual([]);
    }
    expect(snapshot).toBe(1100);
    expect(seen).toHaveLength(1100);
    expect(new Set(seen).size).toBe(1100);
    expect(new Set(seen)).toEqual(new Set(archived));
    expect((await c.tasks.getAll({ system_tags: ['archived'], name: '^page-', only_fields: ['id'] })).tasks).toEqual([]);
    expect((await c.tasks.getAll({ name: '^page-kept', only_fields: ['id'] })).tasks).toHaveLength(kept.length);
  });

  test('control: the naive "page N+1 after deleting page N" skips tasks on this server', async () => {
    const ids = await createTasks(c, 300, 'naive');
    await archive(c, ids);
    const seen = new Set<string>();
    for (let page = 0; ; page++) {
      const { tasks } = await c.tasks.getAll({ system_tags: ['archived'], name: '^naive-', only_fields: ['id'], order_by: ['id'], page, page_size: 100 });
      if (!tasks.length) break;
      tasks.forEach((t) => seen.add(t.id));
      await c.tasks.deleteMany({ ids: tasks.map((t) => t.id), force: true });
    }
    expect(seen.size).toBeLessThan(300); // which is why iterateTaskPages exists
  });

  test('a task that stops matching after the snapshot (un-archived) is not yielded', async () => {
    const ids = await createTasks(c, 30, 'unarch');
    await archive(c, ids);
    const restored = ids[17];
    const seen: string[] = [];
    const query = { system_tags: ['archived'], name: '^unarch-', only_fields: ['id'] };
    let snapshot = 0;
    // Un-archived between the id snapshot and the fetch of its page: like a user restoring it mid-pass.
    const onSnapshot = async (n: number) => {
      snapshot = n;
      await c.call('tasks.update', { task: restored, system_tags: [] });
    };
    for await (const t of iterateTasks(c, query, { pageSize: 10, onSnapshot })) seen.push(t.id);
    expect(snapshot).toBe(30);
    expect(seen).toHaveLength(29);
    expect(seen).not.toContain(restored);
  });
});

describe('event scroll', () => {
  test('scrollTaskEvents reads all 1,234 debug images of a task, each once', async () => {
    const s = await server();
    const c = client(s);
    const { id: task } = await c.tasks.create({ name: 'events-task', type: 'training' });
    const events: TaskEvent[] = Array.from({ length: 1234 }, (_, i) => ({
      type: 'training_debug_image',
      task,
      timestamp: 1_700_000_000_000 + i,
      iter: i,
      metric: 'm',
      variant: 'v',
      url: `http://files.example/p/t.${task}/metrics/m/v/img_${i}.png`,
    }));
    for (let i = 0; i < events.length; i += 500) {
      const r = await c.events.addBatch(events.slice(i, i + 500));
      expect(r.added).toBe(Math.min(500, events.length - i));
    }
    const urls: string[] = [];
    let batches = 0;
    for await (const batch of scrollTaskEvents(c, { task, event_type: 'training_debug_image' }, { batchSize: 100 })) {
      batches++;
      urls.push(...batch.map((e) => String(e.url)));
    }
    expect(urls).toHaveLength(1234);
    expect(new Set(urls).size).toBe(1234);
    expect(batches).toBeGreaterThanOrEqual(13);
  });
});
