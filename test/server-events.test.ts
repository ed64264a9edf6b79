import Database from 'better-sqlite3';
import { deflateSync } from 'node:zlib';
import { ApiFault } from '../src/server/api/fault.js';
import type { CallRequest, Service, ServerState } from '../src/server/api/service.js';
import { EventsStore } from '../src/server/store/events-store.js';
import { createEventsService } from '../src/server/services/events.js';
import type { Task, TaskStatus } from '../src/types/clearml.js';

/**
 * The events service and store on a real SQLite database, called the way the HTTP framework calls
 * handlers (the envelope/HTTP path is covered by the integration tests of the embedded server).
 */

const tasks = new Map<string, Task>();
let db: Database.Database;
let store: EventsStore;
let svc: Service;
let clock = Date.parse('2026-11-27T00:00:00Z');

function addTask(id: string, status: TaskStatus = 'in_progress'): void {
  tasks.set(id, { id, name: `task ${id}`, type: 'training', status });
}

function call(action: string, body: Record<string, unknown> = {}, extra: Partial<CallRequest> = {}): any {
  const req: CallRequest = {
    endpoint: `events.${action}`,
    service: 'events',
    action,
    version: '2.23',
    body,
    rawBody: Buffer.alloc(0),
    contentType: 'application/json',
    identity: { user: 'u', company: 'c', role: 'user', name: 'n' },
    ...extra,
  };
  const handler = svc[action];
  if (!handler) throw new Error(`no handler ${action}`);
  return handler(req);
}

function addBatch(events: Array<Record<string, unknown>>): any {
  const raw = Buffer.from(events.map((e) => JSON.stringify({ ...e, method: 'get' })).join('\n'));
  return call('add_batch', {}, { rawBody: raw, contentType: 'application/json-lines' });
}

function fault(fn: () => unknown): ApiFault {
  try {
    fn();
  } catch (e) {
    if (e instanceof ApiFault) return e;
    throw e;
  }
  throw new Error('expected an ApiFault');
}

function image(task: string, iter: number, metric = 'img', variant = 'series', url?: string) {
  return {
    type: 'training_debug_image',
    task,
    iter,
    metric,
    variant,
    key: `p/${task}/metrics/${metric}/${variant}/${iter}.png`,
    url: url ?? `http://files:8081/p/${task}/metrics/${metric}/${variant}/${metric}_${variant}_${String(iter).padStart(8, '0')}.png`,
    timestamp: 1_700_000_000_000 + iter,
  };
}

beforeEach(() => {
  tasks.clear();
  db = new Database(':memory:');
  store = new EventsStore(db);
  const state: ServerState = {
    db,
    now: () => new Date(clock),
    getTask: (id) => tasks.get(id),
    events: store,
  };
  svc = createEventsService(state);
});

afterEach(() => db.close());

describe('events.add_batch', () => {
  test('json-lines events are stored with server defaults; per-event problems are counted', () => {
    addTask('t1');
    const res = addBatch([
      { type: 'log', task: 't1', level: 'info', msg: 'hello\nworld', timestamp: 5 },
      { type: 'training_stats_scalar', task: 't1', iter: '3', metric: 'loss', variant: 'train', value: 0.5 },
      { type: 'log', task: 'missing', msg: 'x' },
      { type: 'bogus', task: 't1' },
      { task: 't1' },
    ]);
    expect(res).toEqual({
      added: 2,
      errors: 3,
      errors_info: { 'Invalid task id missing': 1, 'Invalid event type bogus': 1, "Event must have a 'type' field": 1 },
    });
    const all = call('get_task_events', { task: 't1', order: 'asc' });
    expect(all.total).toBe(2);
    const scalar = all.events.find((e: any) => e.type === 'training_stats_scalar');
    expect(scalar.iter).toBe(3);
    expect(scalar.timestamp).toBe(clock);
    expect(typeof scalar['@timestamp']).toBe('string');
    expect(scalar.model_event).toBe(false);
    const log = all.events.find((e: any) => e.type === 'log');
    expect(log.msg).toBe('hello\nworld');
    expect(log).not.toHaveProperty('allow_locked');
  });

  test('an empty batch is 400/17, a batch with nothing valid is 400/131', () => {
    addTask('t1');
    expect(fault(() => call('add_batch', {}, { rawBody: Buffer.from(''), contentType: 'application/json-lines' })).subcode).toBe(17);
    const f = fault(() => addBatch([{ type: 'log', task: 'nope', msg: 'x' }]));
    expect([f.code, f.subcode]).toEqual([400, 131]);
    const bad = fault(() => call('add_batch', {}, { rawBody: Buffer.from('{"a":1}\nnot json'), contentType: 'application/json-lines' }));
    expect(bad.code).toBe(400);
  });

  test('published tasks refuse events unless allow_locked', () => {
    addTask('pub', 'published');
    expect(fault(() => addBatch([{ type: 'log', task: 'pub', msg: 'x' }])).subcode).toBe(131);
    expect(addBatch([{ type: 'log', task: 'pub', msg: 'x', allow_locked: true }]).added).toBe(1);
  });

  test('a resent debug image (same task/iter/metric/variant/key) replaces the first', () => {
    addTask('t1');
    addBatch([image('t1', 1, 'img', 'a', 'http://files/old.png')]);
    addBatch([image('t1', 1, 'img', 'a', 'http://files/new.png')]);
    const res = call('get_task_events', { task: 't1', event_type: 'training_debug_image' });
    expect(res.total).toBe(1);
    expect(res.events[0].url).toBe('http://files/new.png');
  });

  test('the optional onTaskEvents hook gets the max iteration and newest scalars per task', () => {
    addTask('t1');
    const seen: Array<[string, unknown]> = [];
    const hooked = createEventsService({
      db,
      now: () => new Date(clock),
      getTask: (id) => tasks.get(id),
      events: store,
      onTaskEvents: (task, summary) => seen.push([task, summary]),
    });
    const raw = [
      { type: 'training_stats_scalar', task: 't1', iter: 2, metric: 'loss', variant: 'a', value: 0.2, timestamp: 1 },
      { type: 'training_stats_scalar', task: 't1', iter: 10, metric: 'loss', variant: 'a', value: 0.1, timestamp: 2 },
      { type: 'training_stats_scalar', task: 't1', iter: 99, metric: ':monitor:machine', variant: 'cpu', value: 5, timestamp: 3 },
    ];
    hooked.add_batch({
      endpoint: 'events.add_batch', service: 'events', action: 'add_batch', version: '2.23', body: {},
      rawBody: Buffer.from(raw.map((r) => JSON.stringify(r)).join('\n')), contentType: 'application/json-lines',
      identity: { user: 'u', company: 'c', role: 'user', name: 'n' },
    });
    expect(seen).toEqual([
      ['t1', {
        maxIter: 10,
        scalars: [
          { metric: 'loss', variant: 'a', value: 0.1, iter: 10, timestamp: 2 },
          { metric: ':monitor:machine', variant: 'cpu', value: 5, iter: 99, timestamp: 3 },
        ],
      }],
    ]);
  });

  test('events.add takes one event as the body', () => {
    addTask('t1');
    expect(call('add', { type: 'log', task: 't1', msg: 'one' }).added).toBe(1);
  });
});

describe('events.get_task_events', () => {
  test('scrolls through 250 debug images in batches of 100 to the end, total fixed', () => {
    addTask('t1');
    addBatch(Array.from({ length: 250 }, (_, i) => image('t1', i + 1)));
    addBatch([{ type: 'log', task: 't1', msg: 'not an image' }]);
    const urls = new Set<string>();
    let scroll: string | undefined;
    let calls = 0;
    for (;;) {
      const res = call('get_task_events', {
        task: 't1',
        event_type: 'training_debug_image',
        batch_size: 100,
        order: 'asc',
        ...(scroll ? { scroll_id: scroll } : {}),
      });
      calls += 1;
      expect(res.total).toBe(250);
      expect(res.returned).toBe(res.events.length);
      expect(typeof res.scroll_id).toBe('string');
      for (const e of res.events) urls.add(e.url);
      scroll = res.scroll_id;
      if (!res.returned) break;
    }
    expect(urls.size).toBe(250);
    expect(calls).toBe(4);
    // past the end the same scroll keeps answering nothing
    const after = call('get_task_events', { task: 't1', scroll_id: scroll });
    expect(after).toMatchObject({ returned: 0, total: 250, events: [] });
  });

  test('desc order, metric filter, and a batch never splits one iteration', () => {
    addTask('t1');
    addBatch([image('t1', 1, 'a', 'x'), image('t1', 2, 'a', 'x'), image('t1', 2, 'a', 'y'), image('t1', 2, 'b', 'x'), image('t1', 3, 'b', 'x')]);
    const desc = call('get_task_events', { task: 't1', event_type: 'training_debug_image', order: 'desc', batch_size: 2 });
    expect(desc.events.map((e: any) => e.iter)).toEqual([3, 2, 2, 2]);
    const rest = call('get_task_events', { task: 't1', scroll_id: desc.scroll_id, batch_size: 2 });
    expect(rest.events.map((e: any) => e.iter)).toEqual([1]);
    const onlyA = call('get_task_events', { task: 't1', metrics: [{ metric: 'a', variants: ['y'] }] });
    expect(onlyA.events.map((e: any) => `${e.metric}/${e.variant}/${e.iter}`)).toEqual(['a/y/2']);
  });

  test('like the real server, a batch ending on iteration 0 restarts the scroll (clients must stop on total)', () => {
    addTask('z');
    addBatch([image('z', 0, 'a', 'x'), image('z', 0, 'a', 'y'), image('z', 0, 'b', 'x')]);
    const first = call('get_task_events', { task: 'z', event_type: 'training_debug_image', batch_size: 2 });
    expect(first).toMatchObject({ returned: 3, total: 3 });
    const again = call('get_task_events', { task: 'z', scroll_id: first.scroll_id, batch_size: 2 });
    expect(again.returned).toBe(3);
  });

  test('invalid scroll id is 400/1104; unknown task is 400/101', () => {
    addTask('t1');
    const f = fault(() => call('get_task_events', { task: 't1', scroll_id: 'forged.scroll.id' }));
    expect([f.code, f.subcode]).toEqual([400, 1104]);
    const g = fault(() => call('get_task_events', { task: 'ghost' }));
    expect([g.code, g.subcode]).toEqual([400, 101]);
  });

  test('plots carry source_urls; big plots come back as plot_data like the real server', () => {
    addTask('t1');
    const small = JSON.stringify({ data: [], layout: { images: [{ source: 'http://files:8081/p/t1/metrics/plot/a.png' }, { source: 'not-a-url' }] } });
    const big = JSON.stringify({ data: ['x'.repeat(120_000)], layout: { images: [{ source: 's3://bucket/big.png' }] } });
    addBatch([
      { type: 'plot', task: 't1', iter: 0, metric: 'm', variant: 'small', plot_str: small },
      { type: 'plot', task: 't1', iter: 0, metric: 'm', variant: 'big', plot_str: big },
    ]);
    const res = call('get_task_events', { task: 't1', event_type: 'plot' });
    const bySize = Object.fromEntries(res.events.map((e: any) => [e.variant, e]));
    expect(bySize.small.source_urls).toEqual(['http://files:8081/p/t1/metrics/plot/a.png']);
    expect(bySize.small.plot_str).toBe(small);
    expect(bySize.big.source_urls).toEqual(['s3://bucket/big.png']);
    expect(bySize.big.plot_str).toBeUndefined();
    expect(typeof bySize.big.plot_data).toBe('string');
    const plots = call('get_task_plots', { task: 't1' });
    expect(plots.returned).toBe(2);
    expect(plots.plots.find((p: any) => p.variant === 'big').plot_str).toBe(big);
    // sanity: our compression is zlib, like Python's zlib.compress
    expect(deflateSync(Buffer.from('a')).length).toBeGreaterThan(0);
  });
});

describe('events.debug_images (multi-task)', () => {
  test('lists images of several tasks by iteration and scrolls to the earliest', () => {
    addTask('a');
    addTask('b');
    addBatch([
      ...Array.from({ length: 5 }, (_, i) => image('a', i, 'img', 'v1')),
      ...Array.from({ length: 5 }, (_, i) => image('a', i, 'img', 'v2')),
      ...Array.from({ length: 3 }, (_, i) => image('b', i * 10, 'other', 'x')),
    ]);
    const first = call('debug_images', { metrics: [{ task: 'a' }, { task: 'b', metric: 'other' }], iters: 2 });
    expect(typeof first.scroll_id).toBe('string');
    expect(first.metrics.map((m: any) => m.task)).toEqual(['a', 'b']);
    const a = first.metrics[0];
    expect(a.iterations.map((it: any) => it.iter)).toEqual([4, 3]);
    expect(a.iterations[0].events.map((e: any) => e.variant)).toEqual(['v1', 'v2']);
    expect(first.metrics[1].iterations.map((it: any) => it.iter)).toEqual([20, 10]);

    const seen = new Set<string>();
    let res = first;
    for (let i = 0; i < 10; i += 1) {
      const n = res.metrics.reduce((s: number, m: any) => s + m.iterations.length, 0);
      for (const m of res.metrics) for (const it of m.iterations) for (const e of it.events) seen.add(e.url);
      if (!n) break;
      res = call('debug_images', { metrics: [{ task: 'a' }, { task: 'b', metric: 'other' }], iters: 2, scroll_id: res.scroll_id });
      expect(res.scroll_id).toBe(first.scroll_id);
    }
    expect(seen.size).toBe(13);
  });

  test('recycled urls hide the iterations whose files were overwritten', () => {
    addTask('r');
    // 3 files per variant, reused round-robin over 9 iterations
    addBatch(Array.from({ length: 9 }, (_, i) => image('r', i, 'img', 'v', `http://files/r/img_${i % 3}.png`)));
    const res = call('debug_images', { metrics: [{ task: 'r', metric: 'img' }], iters: 100 });
    expect(res.metrics[0].iterations.map((it: any) => it.iter)).toEqual([8, 7, 6]);
    const urls = res.metrics[0].iterations.map((it: any) => it.events[0].url).sort();
    expect(urls).toEqual(['http://files/r/img_0.png', 'http://files/r/img_1.png', 'http://files/r/img_2.png']);
  });

  test('unknown tasks are 400/101, an empty metrics list is a validation error', () => {
    expect(fault(() => call('debug_images', { metrics: [{ task: 'ghost' }] })).subcode).toBe(101);
    expect(fault(() => call('debug_images', { metrics: [] })).code).toBe(400);
  });
});

describe('logs, metrics, scalars, deletion', () => {
  test('get_task_log returns the newest first by default, oldest first when asked', () => {
    addTask('t1');
    addBatch(Array.from({ length: 10 }, (_, i) => ({ type: 'log', task: 't1', msg: `line ${i}`, timestamp: 1000 + i })));
    const newest = call('get_task_log', { task: 't1', batch_size: 3 });
    expect(newest.events.map((e: any) => e.msg)).toEqual(['line 9', 'line 8', 'line 7']);
    expect(newest.total).toBe(10);
    const asc = call('get_task_log', { task: 't1', batch_size: 3, navigate_earlier: false });
    expect(asc.events.map((e: any) => e.msg)).toEqual(['line 0', 'line 1', 'line 2']);
    const next = call('get_task_log', { task: 't1', batch_size: 3, navigate_earlier: false, from_timestamp: 1002 });
    expect(next.events.map((e: any) => e.msg)).toEqual(['line 3', 'line 4', 'line 5']);
    const legacy = call('get_task_log', { task: 't1', batch_size: 4, order: 'asc' }, { version: '1.5' });
    expect(legacy.events.map((e: any) => e.msg)).toEqual(['line 0', 'line 1', 'line 2', 'line 3']);
  });

  test('get_task_metrics, scalar histogram, metrics and variants, latest values', () => {
    addTask('t1');
    addTask('t2');
    addBatch([
      ...[1, 2, 3].map((i) => ({ type: 'training_stats_scalar', task: 't1', iter: i, metric: 'loss', variant: 'train', value: i / 10 })),
      { type: 'training_stats_scalar', task: 't1', iter: 1, metric: 'acc', variant: 'val', value: 0.9 },
      image('t2', 0, 'samples', 'x'),
    ]);
    expect(call('get_task_metrics', { tasks: ['t1', 't2'], event_type: 'training_stats_scalar' })).toEqual({
      metrics: [
        { task: 't1', metrics: ['acc', 'loss'] },
        { task: 't2', metrics: [] },
      ],
    });
    const hist = call('scalar_metrics_iter_histogram', { task: 't1' });
    expect(hist.loss.train).toEqual({ name: 'train', x: [1, 2, 3], y: [0.1, 0.2, 0.3] });
    expect(call('get_scalar_metrics_and_variants', { task: 't1' })).toEqual({ metrics: { acc: ['val'], loss: ['train'] } });
    const latest = call('get_task_latest_scalar_values', { task: 't1' });
    expect(latest.metrics).toEqual([
      { name: 'acc', variants: [{ name: 'val', last_value: 0.9, last_10_value: 0.9 }] },
      { name: 'loss', variants: [{ name: 'train', last_value: 0.3, last_10_value: 0.3 }] },
    ]);
    expect(latest.last_iter).toBe(3);
  });

  test('delete_for_task removes every event of that task only; published needs allow_locked', () => {
    addTask('t1');
    addTask('t2');
    addTask('pub', 'published');
    addBatch([image('t1', 1), { type: 'log', task: 't1', msg: 'x' }, image('t2', 1)]);
    addBatch([{ type: 'log', task: 'pub', msg: 'x', allow_locked: true }]);
    expect(call('delete_for_task', { task: 't1' })).toEqual({ deleted: 2 });
    expect(call('get_task_events', { task: 't1' }).total).toBe(0);
    expect(call('get_task_events', { task: 't2' }).total).toBe(1);
    expect(fault(() => call('delete_for_task', { task: 'pub' })).subcode).toBe(101);
    expect(call('delete_for_task', { task: 'pub', allow_locked: true })).toEqual({ deleted: 1 });
    expect(fault(() => call('delete_for_task', { task: 'ghost' })).subcode).toBe(101);
    // the store entry point used by tasks.delete
    addBatch([image('t2', 2)]);
    expect(store.deleteForTask('t2')).toBe(2);
  });

  test('clear_task_log keeps recent lines', () => {
    addTask('t1');
    addBatch([
      { type: 'log', task: 't1', msg: 'old', timestamp: clock - 3_600_000 },
      { type: 'log', task: 't1', msg: 'new', timestamp: clock - 1000 },
      image('t1', 1),
    ]);
    expect(call('clear_task_log', { task: 't1', threshold_sec: 60 })).toEqual({ deleted: 1 });
    expect(call('get_task_log', { task: 't1' }).events.map((e: any) => e.msg)).toEqual(['new']);
  });
});

describe('EventsStore at scale', () => {
  test('a million events: batched inserts and indexed reads stay fast', () => {
    addTask('big');
    for (let t = 0; t < 20; t += 1) addTask(`other${t}`);
    const started = Date.now();
    const rows = [];
    for (let i = 0; i < 1_000_000; i += 1) {
      const task = i % 10 === 0 ? 'big' : `other${i % 20}`;
      rows.push({
        task,
        type: 'training_debug_image',
        metric: 'm',
        variant: `v${i % 4}`,
        iter: i,
        timestamp: i,
        url: `http://files/${task}/${i}.png`,
        modelEvent: false,
        dedupKey: `img:${i}`,
        doc: { task, iter: i, url: `http://files/${task}/${i}.png` },
      });
      if (rows.length === 50_000) store.add(rows.splice(0));
    }
    const inserted = Date.now() - started;
    const readStart = Date.now();
    const page = store.pageByKey({ tasks: ['big'], type: 'training_debug_image' }, 'iter', false, { value: 500_000 }, 500);
    const count = store.count({ tasks: ['big'], type: 'training_debug_image' });
    const res = call('debug_images', { metrics: [{ task: 'big' }], iters: 10 });
    const reads = Date.now() - readStart;
    expect(page).toHaveLength(500);
    expect(page[0].iter).toBe(500_010);
    expect(count).toBe(100_000);
    expect(res.metrics[0].iterations).toHaveLength(10);
    expect(inserted).toBeLessThan(60_000);
    expect(reads).toBeLessThan(3_000);
    const delStart = Date.now();
    expect(store.deleteForTask('big')).toBe(100_000);
    expect(Date.now() - delStart).toBeLessThan(10_000);
  }, 120_000);
});

describe('through the embedded server (real HTTP)', () => {
  // imported lazily so the unit tests above do not depend on the server wiring
  let srv: { apiUrl: string; filesUrl: string; accessKey: string; secretKey: string; close(): Promise<void> };
  let token: string;

  async function api(endpoint: string, body: unknown, contentType = 'application/json') {
    const res = await fetch(`${srv.apiUrl}/v2.23/${endpoint}`, {
      method: 'POST',
      headers: { authorization: `Bearer ${token}`, 'content-type': contentType },
      body: typeof body === 'string' ? body : JSON.stringify(body),
    });
    const env = (await res.json()) as { meta: { result_code: number; result_subcode: number }; data: any };
    expect(env.meta.result_code).toBe(res.status);
    return { status: res.status, subcode: env.meta.result_subcode, data: env.data };
  }

  async function newTask(name: string): Promise<string> {
    const r = await api('tasks.create', { name, type: 'training' });
    expect(r.status).toBe(200);
    return r.data.id as string;
  }

  beforeAll(async () => {
    const { startServer } = await import('../src/server/index.js');
    srv = await startServer();
    const login = await fetch(`${srv.apiUrl}/auth.login`, {
      headers: { authorization: `Basic ${Buffer.from(`${srv.accessKey}:${srv.secretKey}`).toString('base64')}` },
    });
    token = ((await login.json()) as any).data.token;
    expect(token.split('.')).toHaveLength(3);
  });

  afterAll(async () => {
    await srv?.close();
  });

  test('add_batch json-lines, scroll 150 debug images, multi-task debug_images, files, delete', async () => {
    const t1 = await newTask('events one');
    const t2 = await newTask('events two');
    const lines = [
      ...Array.from({ length: 150 }, (_, i) => ({
        ...image(t1, i, 'img', 'series', `${srv.filesUrl}/p/events one.${t1}/metrics/img/series/img_${i}.png`),
        method: 'get',
      })),
      ...Array.from({ length: 3 }, (_, i) => image(t2, i, 'other', 'v')),
      { type: 'log', task: t1, msg: 'hello', level: 'info', worker: 'w', timestamp: Date.now() },
    ];
    const added = await api('events.add_batch', lines.map((l) => JSON.stringify(l)).join('\n'), 'application/json-lines');
    expect(added.status).toBe(200);
    expect(added.data).toEqual({ added: 154, errors: 0, errors_info: {} });

    // the images exist on the file server, uploaded with the bearer token
    const form = new FormData();
    for (let i = 0; i < 150; i += 1) {
      const name = `/p/events one.${t1}/metrics/img/series/img_${i}.png`;
      form.append(name, new Blob([`png ${i}`]), name);
    }
    const up = await fetch(`${srv.filesUrl}/`, { method: 'POST', body: form, headers: { authorization: `Bearer ${token}` } });
    expect(up.status).toBe(200);
    expect(((await up.json()) as string[]).length).toBe(150);
    expect((await fetch(`${srv.filesUrl}/p/events%20one.${t1}/metrics/img/series/img_0.png`)).status).toBe(401);

    const urls: string[] = [];
    let scroll: string | undefined;
    for (let guard = 0; guard < 10; guard += 1) {
      const r = await api('events.get_task_events', {
        task: t1,
        event_type: 'training_debug_image',
        batch_size: 100,
        order: 'asc',
        model_events: false,
        ...(scroll ? { scroll_id: scroll } : {}),
      });
      expect(r.status).toBe(200);
      expect(r.data.total).toBe(150);
      urls.push(...r.data.events.map((e: any) => e.url));
      scroll = r.data.scroll_id;
      if (!r.data.returned) break;
    }
    expect(new Set(urls).size).toBe(150);
    expect((await api('events.get_task_events', { task: t1, scroll_id: 'garbage' })).subcode).toBe(1104);

    const multi = await api('events.debug_images', { metrics: [{ task: t1 }, { task: t2 }], iters: 200 });
    expect(multi.status).toBe(200);
    const counts = multi.data.metrics.map((m: any) => m.iterations.length);
    expect(counts).toEqual([150, 3]);

    // delete the files found through the events in one call, then the events
    const paths = urls.map((u) => decodeURIComponent(new URL(u).pathname));
    const del = await fetch(`${srv.filesUrl}/delete_many`, {
      method: 'POST',
      headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
      body: JSON.stringify({ files: paths }),
    });
    const delBody = (await del.json()) as { deleted: Record<string, string>; errors: Record<string, string[]> };
    expect(Object.keys(delBody.deleted)).toHaveLength(150);
    expect(delBody.errors).toEqual({});

    const cleared = await api('events.delete_for_task', { task: t1 });
    expect(cleared.data).toEqual({ deleted: 151 });
    expect((await api('events.get_task_events', { task: t1 })).data.total).toBe(0);
    expect((await api('events.delete_for_task', { task: 'nope' })).subcode).toBe(101);

    // tasks.delete removes the remaining events of its task through the store
    const gone = await api('tasks.delete', { task: t2, force: true });
    expect(gone.status).toBe(200);
    expect(gone.data.events).toEqual({ deleted: 3 });
    expect((await api('events.get_task_events', { task: t2 })).subcode).toBe(101);
  });
});
