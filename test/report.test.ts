/**
 * `report` against a seeded embedded server: bytes and files per project, archived, what the next
 * pass would free and what is orphaned, checked against the seeder's exact lists and sizes; the
 * table, the JSON, and the scalars posted to a task.
 */
import { mkdir, mkdtemp, rm, utimes, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { PassThrough } from 'node:stream';
import { startServer, type RunningServer } from '../src/server/index.js';
import { ClearMLClient } from '../src/api/index.js';
import { seedServer, type SeedResult } from '../src/seed/index.js';
import { runPass, silentLogger, type UsageReport } from '../src/cleanup/index.js';
import { createStorage } from '../src/storage/index.js';
import { createLogger } from '../src/log/index.js';
import { runReportCommand, type ReportArgs } from '../src/commands/report.js';
import { applyEnv, clearmlEnvFor } from './support/in-process-cli.js';

let server: RunningServer;
let client: ClearMLClient;
let seeded: SeedResult;
let home: string;
let restoreEnv: () => void;
const ORPHAN_BYTES = 1234;

beforeAll(async () => {
  server = await startServer({ port: 0, filesPort: 0 });
  client = new ClearMLClient({ api: { apiServer: server.apiUrl, accessKey: server.accessKey, secretKey: server.secretKey } });
  seeded = await seedServer(client, { apiUrl: server.apiUrl, filesUrl: server.filesUrl }, { tasks: 40, seed: 11, datasetFamilies: 0 });
  // one old orphan: a task folder whose task is gone
  const full = path.join(server.dataDir, 'files', 'gone', `t.${'b'.repeat(32)}`, 'artifacts', 'a', 'lost.bin');
  await mkdir(path.dirname(full), { recursive: true });
  await writeFile(full, Buffer.alloc(ORPHAN_BYTES));
  const past = new Date(Date.now() - 30 * 86_400_000);
  await utimes(full, past, past);
  home = await mkdtemp(path.join(tmpdir(), 'report-home-'));
  restoreEnv = applyEnv(clearmlEnvFor(server, home));
}, 60_000);

afterAll(async () => {
  restoreEnv?.();
  client?.close();
  await server?.close();
  await rm(home, { recursive: true, force: true });
});

const args = (over: Partial<ReportArgs> = {}): ReportArgs => ({
  deleteThresholdDays: 30,
  forceDelete: false,
  concurrency: 4,
  batchSize: 500,
  pacingMs: 0,
  logFormat: 'text',
  json: true,
  by: 'project',
  top: 5,
  minAgeDays: 7,
  ...over,
});

async function report(over: Partial<ReportArgs> = {}): Promise<{ code: number; out: string; log: string }> {
  let out = '';
  const stream = new PassThrough();
  let log = '';
  stream.on('data', (b: Buffer) => (log += b.toString()));
  const code = await runReportCommand(args(over), { out: (t) => (out += t), err: (t) => (out += t), log: createLogger({ stream }) });
  return { code, out, log };
}

/** bytes and files per task from the seeder's own list (files in the task's folder on the file server) */
function seededPerTask(): Map<string, { files: number; bytes: number }> {
  const m = new Map<string, { files: number; bytes: number }>();
  for (const f of seeded.files) {
    if (!f.url.startsWith(server.filesUrl)) continue;
    const e = m.get(f.taskId) ?? { files: 0, bytes: 0 };
    e.files++;
    e.bytes += f.bytes;
    m.set(f.taskId, e);
  }
  return m;
}

test('figures per project, archived, next pass and orphaned match the seeded data', async () => {
  const { code, out } = await report();
  expect(code).toBe(0);
  const r = JSON.parse(out) as UsageReport;
  const perTask = seededPerTask();
  const byProject = new Map<string, { files: number; bytes: number; archivedBytes: number; tasks: number }>();
  let total = 0;
  let archived = 0;
  for (const t of seeded.tasks) {
    const e = perTask.get(t.id) ?? { files: 0, bytes: 0 };
    const p = byProject.get(t.projectId) ?? { files: 0, bytes: 0, archivedBytes: 0, tasks: 0 };
    p.tasks++;
    p.files += e.files;
    p.bytes += e.bytes;
    if (t.archived) p.archivedBytes += e.bytes;
    byProject.set(t.projectId, p);
    total += e.bytes;
    if (t.archived) archived += e.bytes;
  }
  expect(total).toBe(seeded.files.filter((f) => f.url.startsWith(server.filesUrl)).reduce((n, f) => n + f.bytes, 0));
  expect(r.total.tasks).toBe(seeded.tasks.length);
  expect(r.total.bytes).toBe(total);
  expect(r.total.archivedBytes).toBe(archived);
  for (const [id, p] of byProject) {
    const row = r.byProject.find((x) => x.id === id);
    expect(row).toMatchObject({ tasks: p.tasks, files: p.files, bytes: p.bytes, archivedBytes: p.archivedBytes });
    expect(row!.name).toBe(seeded.tasks.find((t) => t.projectId === id)!.projectName);
  }
  expect(r.orphaned).toMatchObject({ files: 1, bytes: ORPHAN_BYTES });
  expect(r.rootErrors).toEqual([]);

  // the next pass: what a dry-run pass plans, with the seeded sizes of those tasks' files
  const planned: string[] = [];
  const storage = createStorage({ filesServer: server.filesUrl, storage: { s3: { credentials: [] }, gcs: { credentials: [] }, azure: { containers: [] } } });
  await runPass(
    { api: client, storage, log: silentLogger, onPlan: (p) => void planned.push(...p.tasks.map((t) => t.id)) },
    { dryRun: true, deleteThresholdDays: 30, pacingMs: 0 },
  );
  storage.close();
  expect(planned.length).toBeGreaterThan(0);
  expect(r.nextPass.tasks).toBe(planned.length);
  expect(r.nextPass.bytes).toBe(planned.reduce((n, id) => n + (perTask.get(id)?.bytes ?? 0), 0));

  // top tasks: the biggest first, exactly their seeded bytes
  const biggest = [...perTask.entries()].sort((a, b) => b[1].bytes - a[1].bytes)[0];
  expect(r.topTasks[0]).toMatchObject({ id: biggest[0], bytes: biggest[1].bytes });
}, 60_000);

test('the table: one row per project, totals, next pass and orphaned lines', async () => {
  const { code, out } = await report({ json: false });
  expect(code).toBe(0);
  const lines = out.trimEnd().split('\n');
  expect(lines[0]).toMatch(/^project\s+tasks\s+files\s+bytes\s+archived files\s+archived bytes$/);
  expect(lines[1]).toMatch(/^-+( +-+)+$/);
  expect(out).toMatch(/^Total: 40 tasks, \d+ files, [\d.]+ [KM]?B$/m);
  expect(out).toMatch(/^ {2}next pass frees: +\d+ files/m);
  expect(out).toMatch(/^ {2}orphaned: +1 files, 1\.2 KB \(older than 7 days/m);
  const byTask = await report({ json: false, by: 'task', top: 3 });
  expect(byTask.out.split('\n')[0]).toMatch(/^task\s+name\s+project\s+archived\s+files\s+bytes$/);
  expect(byTask.out.split('\n').filter((l) => /^[0-9a-f]{32} /.test(l))).toHaveLength(3);
}, 60_000);

test('as a task: the figures become scalars of the task', async () => {
  const { id } = await client.call<{ id: string }>('tasks.create', { name: 'storage report', type: 'service' });
  const { code } = await report({ taskId: id });
  expect(code).toBe(0);
  const m = await client.call<Record<string, Record<string, { y: number[] }>>>('events.scalar_metrics_iter_histogram', { task: id });
  expect(m['storage bytes']?.orphaned?.y).toEqual([ORPHAN_BYTES]);
  expect(m['storage files']?.orphaned?.y).toEqual([1]);
  expect(m['storage bytes']?.total?.y[0]).toBeGreaterThan(0);
}, 60_000);

test('a non-number --top or --min-age-days is one usage line naming the flag, not "NaN" (exit 2)', async () => {
  const top = await report({ top: Number.NaN });
  expect(top.code).toBe(2);
  expect(top.out).toBe('clearml-cleanup: --top must be a whole number >= 0, got a value that is not a number\n');
  const days = await report({ minAgeDays: Number.NaN });
  expect(days.code).toBe(2);
  expect(days.out).toBe('clearml-cleanup: --min-age-days must be a number of days >= 0, got a value that is not a number\n');
});
