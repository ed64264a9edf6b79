/** seedServer against the embedded ClearML server over real HTTP: the mix is there, through the API and the file server. */
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { startServer } from '../src/server/index.js';
import { ClearMLClient } from '../src/api/client.js';
import { seedServer, formatSeedSummary, type SeedResult } from '../src/seed/index.js';
import { buildPlan } from '../src/seed/plan.js';
import { backdateTasks } from '../src/seed/backdate.js';
import { runSeedCommand } from '../src/commands/seed.js';
import type { Artifact, Model, Task, TaskEvent } from '../src/types/clearml.js';

type Server = Awaited<ReturnType<typeof startServer>>;

let server: Server;
let client: ClearMLClient;
let seeded: SeedResult;

beforeAll(async () => {
  server = await startServer({ port: 0, filesPort: 0 });
  client = new ClearMLClient({ api: { apiServer: server.apiUrl, accessKey: server.accessKey, secretKey: server.secretKey } });
  seeded = await seedServer(client, { apiUrl: server.apiUrl, filesUrl: server.filesUrl }, { tasks: 40, seed: 7 });
});

afterAll(async () => {
  client?.close();
  await server?.close();
});

async function allTasks(): Promise<Task[]> {
  const res = await client.call<{ tasks: Task[] }>('tasks.get_all', {
    id: seeded.tasks.map((t) => t.id),
    only_fields: ['id', 'status', 'system_tags', 'last_change', 'status_changed', 'execution.artifacts', 'models'],
    page_size: 500,
  });
  return res.tasks;
}

test('every status, as the summary counts them', async () => {
  const tasks = await allTasks();
  expect(tasks).toHaveLength(40);
  const counts: Record<string, number> = {};
  for (const t of tasks) counts[t.status] = (counts[t.status] ?? 0) + 1;
  expect(counts).toEqual(seeded.summary.byStatus);
  for (const s of ['created', 'queued', 'in_progress', 'stopped', 'completed', 'failed', 'published']) {
    expect(counts[s]).toBeGreaterThan(0);
  }
  expect(seeded.summary.projects).toBeGreaterThanOrEqual(3);
});

test('archived and old tasks match the eligible count; recent and unarchived old ones exist too', async () => {
  const s = seeded.summary;
  expect(s.backdated).toBe(true);
  expect(s.eligible).toBeGreaterThan(0);
  expect(s.archivedRecent).toBeGreaterThan(0);
  expect(s.oldNotArchived).toBeGreaterThan(0);
  const cutoff = new Date(Date.now() - 30 * 86_400_000).toISOString().slice(0, 19);
  const old = await client.call<{ tasks: Task[] }>('tasks.get_all', {
    system_tags: ['archived'], last_change: [`<${cutoff}`], only_fields: ['id'], page_size: 500,
  });
  const eligibleIds = [...seeded.tasks.filter((t) => t.eligible), ...seeded.datasets.filter((d) => d.eligible)].map((t) => t.id);
  expect(old.tasks.map((t) => t.id).sort()).toEqual(eligibleIds.sort());
  const archived = (await allTasks()).filter((t) => t.system_tags?.includes('archived'));
  expect(archived).toHaveLength(s.archived);
  // an archived Draft that was never started has no status_changed: the official service misses those
  const drafts = seeded.tasks.filter((t) => t.eligible && t.status === 'created');
  expect(drafts.length).toBeGreaterThan(0);
  const t = (await allTasks()).find((x) => x.id === drafts[0].id)!;
  expect(t.status_changed ?? null).toBeNull();
});

test('dataset families: versions in hidden .datasets projects, an archived parent of a live child among them', async () => {
  const ds = seeded.datasets;
  expect(seeded.summary.datasetVersions).toBe(ds.length);
  expect(ds.length).toBeGreaterThanOrEqual(2);
  const kept = ds.filter((d) => d.keptFor);
  expect(kept.length).toBeGreaterThan(0);
  expect(seeded.summary.datasetVersionsKeptForLineage).toBe(kept.length);
  // the child named in keptFor is live and lists the parent
  const child = ds.find((d) => kept[0].keptFor!.endsWith(d.id))!;
  expect(child.parents).toContain(kept[0].id);
  expect(child.archived).toBe(false);
  const res = await client.call<{ tasks: Array<Task & { runtime?: Record<string, unknown> }> }>('tasks.get_all', {
    id: ds.map((d) => d.id), only_fields: ['id', 'type', 'system_tags', 'project', 'runtime', 'execution.artifacts'], search_hidden: true,
  });
  expect(res.tasks).toHaveLength(ds.length);
  for (const t of res.tasks) {
    expect(t.type).toBe('data_processing');
    expect(t.system_tags).toContain('dataset');
    expect((t.execution?.artifacts ?? []).map((a) => a.key)).toContain('state');
    expect(t.runtime?.version).toBe(ds.find((d) => d.id === t.id)!.version);
  }
  const projects = await client.call<{ projects: Array<{ id: string; name: string; system_tags?: string[] }> }>('projects.get_all', {
    id: [...new Set(res.tasks.map((t) => t.project as string))], only_fields: ['id', 'name', 'system_tags'], search_hidden: true,
  });
  for (const p of projects.projects) {
    expect(p.name).toMatch(/\/\.datasets\/[^/]+$/);
    expect(p.system_tags).toEqual(expect.arrayContaining(['hidden', 'dataset']));
  }
  const cfg = await client.call<{ configurations: Array<{ task: string; configuration: Array<{ name: string; value: string }> }> }>(
    'tasks.get_configurations', { tasks: [child.id], names: ['Dataset Struct'] },
  );
  const struct = JSON.parse(cfg.configurations[0].configuration[0].value) as Record<string, { job_id: string }>;
  expect(Object.values(struct).map((e) => e.job_id)).toEqual(expect.arrayContaining([child.id, kept[0].id]));
});

test('files are on the file server with the size the summary counts', async () => {
  const s = seeded.summary;
  expect(seeded.files).toHaveLength(s.filesUploaded);
  expect(seeded.files.reduce((n, f) => n + f.bytes, 0)).toBe(s.bytesUploaded);
  const token = await client.getToken();
  const sample = seeded.files.filter((_, i) => i % 17 === 0).concat(seeded.files.filter((f) => f.kind === 'model'));
  for (const f of sample) {
    expect(f.url.startsWith(server.filesUrl)).toBe(true);
    const res = await fetch(f.url, { headers: { authorization: `Bearer ${token}` } });
    expect(res.status).toBe(200);
    expect((await res.arrayBuffer()).byteLength).toBe(f.bytes);
  }
  // the SDK's layout: <project>/<task name>.<task id>/{artifacts,models,metrics}/...
  const t = seeded.tasks.find((x) => x.files.length)!;
  for (const url of t.files) expect(decodeURIComponent(url)).toContain(`/${t.projectName}/${t.name}.${t.id}/`);
});

test('more than 100 debug images for some tasks, all found by scrolling', async () => {
  const heavy = seeded.tasks.filter((t) => t.debugImages > 100);
  expect(heavy.length).toBe(seeded.summary.tasksOver100DebugImages);
  expect(heavy.some((t) => t.eligible)).toBe(true);
  // a task whose later events point again at files already reported (the SDK's history wraps around)
  const t = heavy.find((x) => x.debugImageEvents > x.debugImages)!;
  expect(t).toBeDefined();
  const urls = new Set<string>();
  let events = 0;
  let scrollId: string | undefined;
  for (let i = 0; i < 20; i++) {
    const res = await client.call<{ events: TaskEvent[]; returned: number; total: number; scroll_id?: string }>(
      'events.get_task_events',
      { task: t.id, event_type: 'training_debug_image', batch_size: 50, order: 'asc', ...(scrollId ? { scroll_id: scrollId } : {}) },
    );
    for (const e of res.events) urls.add(e.url!);
    events += res.events.length;
    if (!res.events.length) break;
    scrollId = res.scroll_id;
  }
  expect(events).toBe(t.debugImageEvents);
  expect(urls.size).toBe(t.debugImages);
  expect([...urls].every((u) => t.files.includes(u))).toBe(true);
  expect(seeded.summary.debugImageEvents).toBe(seeded.tasks.reduce((n, x) => n + x.debugImageEvents, 0));
});

test('plots carry uploaded image URLs in layout.images, and console lines are logged', async () => {
  const t = seeded.tasks.find((x) => x.files.some((f) => f.includes('/metrics/confusion/')))!;
  const res = await client.call<{ events: TaskEvent[] }>('events.get_task_events', { task: t.id, event_type: 'plot', batch_size: 100 });
  expect(res.events.length).toBeGreaterThan(0);
  const source = JSON.parse(res.events[0].plot_str!).layout.images[0].source as string;
  expect(t.files).toContain(source);
  const log = await client.call<{ events: TaskEvent[]; total: number }>('events.get_task_log', { task: t.id });
  expect(log.events.length).toBeGreaterThan(0);
  expect(seeded.summary.logLines).toBeGreaterThan(0);
});

test('a model of an eligible task is used as input by a kept task', async () => {
  const inUse = seeded.models.filter((m) => m.usedBy.length);
  expect(inUse.length).toBe(seeded.summary.modelsInUse);
  expect(inUse.length).toBeGreaterThan(0);
  const m = inUse[0];
  expect(seeded.tasks.find((t) => t.id === m.taskId)!.eligible).toBe(true);
  const users = await client.call<{ tasks: Task[] }>('tasks.get_all', { 'models.input.model': [m.id], only_fields: ['id'] });
  expect(users.tasks.map((t) => t.id)).toEqual(m.usedBy);
  expect(seeded.tasks.find((t) => t.id === m.usedBy[0])!.eligible).toBe(false);
});

test('two models of different tasks point to one file', async () => {
  expect(seeded.summary.sharedModelFiles).toBeGreaterThan(0);
  const models = (await client.call<{ models: Model[] }>('models.get_all', { id: seeded.models.map((m) => m.id), only_fields: ['id', 'uri', 'task'] })).models;
  expect(models).toHaveLength(seeded.summary.models);
  const byUri = new Map<string, Model[]>();
  for (const m of models) byUri.set(m.uri!, [...(byUri.get(m.uri!) ?? []), m]);
  const shared = [...byUri.values()].filter((l) => l.length > 1);
  expect(shared).toHaveLength(seeded.summary.sharedModelFiles);
  expect(new Set(shared[0].map((m) => m.task)).size).toBe(2);
});

test('artifacts: uploaded ones (mode output), foreign URLs never uploaded, input references', async () => {
  const arts: Artifact[] = (await allTasks()).flatMap((t) => t.execution?.artifacts ?? []);
  const foreign = arts.filter((a) => a.uri?.startsWith('https://datasets.example.com/'));
  expect(foreign.length).toBeGreaterThan(0);
  expect(foreign.filter((a) => a.mode === 'output')).toHaveLength(seeded.summary.foreignArtifacts);
  expect(arts.filter((a) => a.mode === 'input')).toHaveLength(seeded.summary.inputArtifacts);
  const uploaded = arts.filter((a) => a.mode === 'output' && a.uri?.startsWith(server.filesUrl));
  expect(uploaded.length).toBe(seeded.summary.artifactsUploaded);
  expect(uploaded.every((a) => typeof a.content_size === 'number' && /^[0-9a-f]{64}$/.test(a.hash ?? ''))).toBe(true);
  expect(seeded.tasks.flatMap((t) => t.files)).not.toContain(foreign[0].uri);
});

test('the same seed plans the same data set; the summary prints', () => {
  const a = buildPlan({ tasks: 50, seed: 3 });
  const b = buildPlan({ tasks: 50, seed: 3 });
  const c = buildPlan({ tasks: 50, seed: 4 });
  expect(a).toEqual(b);
  expect(a).not.toEqual(c);
  const text = formatSeedSummary(seeded.summary);
  expect(text).toContain('Seeded 40 tasks');
  expect(text).toContain(`eligible for cleanup after 30 days: ${seeded.summary.eligible}`);
});

test('allEligible: a uniform data set of old archived Drafts', async () => {
  const r = await seedServer(client, { apiUrl: server.apiUrl, filesUrl: server.filesUrl }, {
    tasks: 6, seed: 9, allEligible: true, artifactsPerTask: 2, modelsPerTask: 1, debugImagesPerTask: 3,
  });
  expect(r.summary.eligible).toBe(6);
  expect(r.summary.byStatus).toEqual({ created: 6 });
  expect(r.summary.filesUploaded).toBe(6 * (2 + 1 + 3));
  expect(r.summary.foreignArtifacts + r.summary.modelsInUse + r.summary.sharedModelFiles).toBe(0);
});

test('a server without /_embedded/backdate: skipped, not failed; unknown ids on the embedded one: an error', async () => {
  const answers = [
    { status: 404, body: { meta: { result_code: 404, result_msg: 'Unable to resolve endpoint' }, data: {} } },
    { status: 400, body: { meta: { result_code: 400, result_subcode: 0, result_msg: 'Invalid request path' }, data: {} } },
    { status: 404, body: '<html><body>Not Found</body></html>' },
  ];
  let next = 0;
  const plain = http.createServer((req, res) => {
    const a = answers[next++ % answers.length];
    res.writeHead(a.status, { 'content-type': typeof a.body === 'string' ? 'text/html' : 'application/json' });
    res.end(typeof a.body === 'string' ? a.body : JSON.stringify(a.body));
  });
  await new Promise<void>((r) => plain.listen(0, '127.0.0.1', r));
  try {
    const url = `http://127.0.0.1:${(plain.address() as AddressInfo).port}`;
    for (let i = 0; i < answers.length; i++) {
      const outcome = await backdateTasks(url, 'token', new Map([[40, { tasks: ['a'], models: [] }]]));
      expect(outcome.supported).toBe(false);
    }
  } finally {
    plain.closeAllConnections();
    await new Promise((r) => plain.close(r));
  }
  await expect(
    backdateTasks(server.apiUrl, await client.getToken(), new Map([[40, { tasks: ['no-such-task'], models: [] }]])),
  ).rejects.toThrow(/404/);
});

describe('seed command', () => {
  const env = (apiHost: string, filesHost: string): NodeJS.ProcessEnv => ({
    CLEARML_API_HOST: apiHost, CLEARML_WEB_HOST: apiHost, CLEARML_FILES_HOST: filesHost,
    CLEARML_API_ACCESS_KEY: server.accessKey, CLEARML_API_SECRET_KEY: server.secretKey,
  });

  test('seeds the configured server and prints the summary as JSON', async () => {
    let out = '';
    let err = '';
    const code = await runSeedCommand(
      { tasks: 5, seed: 3, 'all-eligible': false, json: true },
      { env: env(server.apiUrl, server.filesUrl), out: (t) => (out += t), err: (t) => (err += t) },
    );
    expect(err).toBe('');
    expect(code).toBe(0);
    const summary = JSON.parse(out);
    expect(summary.tasks).toBe(5);
    expect(summary.filesUploaded).toBeGreaterThan(0);
  });

  test('refuses a server that is not local without --yes, and bad numbers', async () => {
    let err = '';
    const code = await runSeedCommand(
      { tasks: 5, seed: 1, 'all-eligible': false, json: false },
      { env: env('https://api.clearml.example.com', 'https://files.clearml.example.com'), out: () => {}, err: (t) => (err += t) },
    );
    expect(code).toBe(2);
    expect(err).toMatch(/^clearml-cleanup: refusing to seed https:\/\/api\.clearml\.example\.com: it is not a local server/);
    expect(err.trim().split('\n')).toHaveLength(1);
    err = '';
    expect(await runSeedCommand({ tasks: 2.5, seed: 1, 'all-eligible': false, json: false }, { env: {}, err: (t) => (err += t) })).toBe(2);
    expect(err).toContain('--tasks must be a whole number');
  });
});
