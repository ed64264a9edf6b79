import { Api } from './support/embedded-api.js';

let api: Api;
let project: string;
let sub: string;
const ids: Record<string, string> = {};

beforeAll(async () => {
  api = await Api.start();
  project = (await api.ok('projects.create', { name: 'Query Project' })).id;
  sub = (await api.ok('projects.create', { name: 'Query Project/Nested' })).id;
  const mk = async (name: string, extra: Record<string, unknown>) => {
    ids[name] = await api.createTask(name, { project, ...extra });
  };
  await mk('alpha one', { tags: ['red', 'blue'], system_tags: ['archived'] });
  await mk('alpha two', { tags: ['red'], system_tags: [] });
  await mk('beta three', { tags: ['blue'], system_tags: ['archived', 'pinned'] });
  await mk('gamma four', { tags: [], system_tags: ['hidden'] });
  ids['nested five'] = await api.createTask('nested five', { project: sub, tags: ['green'] });
  // status_changed: alpha one 40 days ago, beta three now; alpha two stays a Draft (null)
  await api.ok('tasks.started', { task: ids['alpha one'] });
  await api.ok('tasks.stopped', { task: ids['alpha one'] });
  await api.ok('tasks.started', { task: ids['beta three'] });
  const res = await fetch(`${api.server.apiUrl}/_embedded/backdate`, {
    method: 'POST',
    headers: { 'Content-Type': 'application/json' },
    body: JSON.stringify({ tasks: [ids['alpha one']], days: 40 }),
  });
  expect(res.status).toBe(200);
});
afterAll(async () => {
  await api.close();
});

const names = async (body: Record<string, unknown>) =>
  ((await api.ok('tasks.get_all', { project: [project], only_fields: ['name'], ...body })).tasks as Array<{ name: string }>)
    .map((t) => t.name)
    .sort();

describe('tasks.get_all filters', () => {
  test('tags: include is any-of, "-x" excludes, __$all, __$not', async () => {
    expect(await names({ tags: ['red', 'blue'] })).toEqual(['alpha one', 'alpha two', 'beta three']);
    expect(await names({ tags: ['__$all', 'red', 'blue'] })).toEqual(['alpha one']);
    expect(await names({ system_tags: ['-archived'] })).toEqual(['alpha two']);
    expect(await names({ system_tags: ['__$not', 'archived'] })).toEqual(['alpha two']);
    expect(await names({ system_tags: ['archived'], tags: ['-red'] })).toEqual(['beta three']);
    expect(await names({ system_tags: ['__$all', 'archived', 'pinned'] })).toEqual(['beta three']);
    expect(await names({ system_tags: ['__$any', 'pinned', 'nothing'] })).toEqual(['beta three']);
  });

  test('hidden tasks only with search_hidden or by id', async () => {
    expect(await names({})).not.toContain('gamma four');
    expect(await names({ search_hidden: true })).toContain('gamma four');
    expect(await names({ id: [ids['gamma four']] })).toEqual(['gamma four']);
  });

  test('date conditions; an unparsable date drops the condition; Drafts have no status_changed', async () => {
    const cutoff = new Date(Date.now() - 30 * 86400_000).toISOString().slice(0, 19);
    expect(await names({ status_changed: [`<${cutoff}`] })).toEqual(['alpha one']);
    expect(await names({ status_changed: [`>=${cutoff}`] })).toEqual(['beta three']);
    // created and started are range fields: [min, max], null for an open end; anything else is 400/12
    expect(await names({ created: [null, cutoff.replace('T', ' ')] })).toEqual(['alpha one']);
    expect(await api.fails('tasks.get_all', { created: [`<${cutoff}`] })).toEqual([400, 12]);
    expect(await names({ status_changed: [null, cutoff] })).toEqual(['alpha one', 'alpha two']);
    const from = new Date(Date.now() - 50 * 86400_000).toISOString();
    const to = new Date(Date.now() - 35 * 86400_000).toISOString();
    expect(await names({ last_update: [`>=${from}`, `<${to}`] })).toEqual(['alpha one']);
    expect(await names({ status_changed: ['<not a date'], system_tags: ['archived'] })).toEqual(['alpha one', 'beta three']);
  });

  test('name is an unanchored regex; Python re.escape output works', async () => {
    expect(await names({ name: 'alpha' })).toEqual(['alpha one', 'alpha two']);
    expect(await names({ name: '^alpha\\ one$' })).toEqual(['alpha one']);
    expect(await api.fails('tasks.get_all', { name: '(' })).toEqual([400, 21]);
    expect(await names({ _any_: { pattern: 'three|four', fields: ['name', 'comment'] } })).toEqual(['beta three']);
  });

  test('status, type, id lists; include_subprojects', async () => {
    expect(await names({ status: ['in_progress'] })).toEqual(['beta three']);
    expect(await names({ status: ['created'], type: ['training'] })).toEqual(['alpha two']);
    expect(await names({ include_subprojects: true, tags: ['green'] })).toEqual(['nested five']);
    expect(await names({ tags: ['green'] })).toEqual([]);
  });

  test('order_by ascending and descending, nested only_fields', async () => {
    const { tasks } = await api.ok('tasks.get_all', { project: [project], order_by: ['-name'], only_fields: ['name', 'execution.artifacts'] });
    expect(tasks.map((t: any) => t.name)).toEqual(['beta three', 'alpha two', 'alpha one']);
    expect(tasks[0]).toEqual({ id: ids['beta three'], name: 'beta three', execution: { artifacts: [] } });
    const excluded = await api.ok('tasks.get_all', { id: [ids['alpha two']], only_fields: ['-script', '-execution.artifacts'] });
    expect(excluded.tasks[0].script).toBeUndefined();
    expect(excluded.tasks[0].execution).toBeDefined();
    expect(excluded.tasks[0].execution.artifacts).toBeUndefined();
    expect(excluded.tasks[0].name).toBe('alpha two');
    const asc = await api.ok('tasks.get_all', { project: [project], order_by: ['last_update'], only_fields: ['name'] });
    expect(asc.tasks[0].name).toBe('alpha one');
  });
});

describe('paging and scrolling', () => {
  let many: string[];
  let pager: string;
  beforeAll(async () => {
    pager = (await api.ok('projects.create', { name: 'Paging Project' })).id;
    many = [];
    for (let i = 0; i < 520; i++) {
      many.push(await api.createTask(`page task ${String(i).padStart(3, '0')}`, { project: pager }));
    }
  }, 60000);

  test('page_size is capped at 500; pages are 0-based', async () => {
    const p0 = await api.ok('tasks.get_all', { project: [pager], page: 0, page_size: 1000, only_fields: ['id'], order_by: ['name'] });
    expect(p0.tasks).toHaveLength(500);
    const p1 = await api.ok('tasks.get_all', { project: [pager], page: 1, page_size: 1000, only_fields: ['id'], order_by: ['name'] });
    expect(p1.tasks).toHaveLength(20);
    expect(p1.tasks[19].id).toBe(many[519]);
  });

  test('scroll_id (even null) starts scrolling with a server-side position; refresh_scroll re-reads; unknown ids start over', async () => {
    const first = await api.ok('tasks.get_all', { project: [pager], scroll_id: null, size: 200, only_fields: ['id'], order_by: ['name'] });
    expect(first.tasks).toHaveLength(200);
    expect(typeof first.scroll_id).toBe('string');
    const second = await api.ok('tasks.get_all', { project: [pager], scroll_id: first.scroll_id, size: 200, only_fields: ['id'], order_by: ['name'] });
    expect(second.tasks[0].id).toBe(many[200]);
    const third = await api.ok('tasks.get_all', { project: [pager], scroll_id: second.scroll_id, size: 200, only_fields: ['id'], order_by: ['name'] });
    expect(third.tasks).toHaveLength(120);
    const end = await api.ok('tasks.get_all', { project: [pager], scroll_id: third.scroll_id, size: 200, only_fields: ['id'], order_by: ['name'] });
    expect(end.tasks).toEqual([]);
    const refreshed = await api.ok('tasks.get_all', {
      project: [pager], scroll_id: second.scroll_id, size: 200, refresh_scroll: true, only_fields: ['id'], order_by: ['name'],
    });
    // one server-side position per scroll id: it is at the end (520), and refresh re-reads up to there
    expect(refreshed.tasks).toHaveLength(520);
    expect(second.scroll_id).toBe(first.scroll_id);
    const over = await api.ok('tasks.get_all', { project: [pager], scroll_id: 'garbage', size: 10, only_fields: ['id'], order_by: ['name'] });
    expect(over.tasks[0].id).toBe(many[0]);
    expect(over.scroll_id).not.toBe('garbage');
    expect(await api.fails('tasks.get_all', { project: [pager], scroll_id: null })).toEqual([400, 12]);
  });
});
