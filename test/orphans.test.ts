/**
 * The orphan sweep against the embedded server (its file server listed through GET /_embedded/list,
 * and through --fileserver-dir as for a real file server), s3rver and a file:// root: orphans
 * planted next to referenced files and young files; only the orphans go, and only with delete.
 */
import { mkdir, mkdtemp, readdir, rm, writeFile } from 'node:fs/promises';
import { existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { createStorage, type Storage as RealStorage } from '../src/storage/index.js';
import { PassThrough } from 'node:stream';
import { createLogger } from '../src/log/index.js';
import { runOrphansCommand } from '../src/commands/orphans.js';
import { ReferenceIndex, sweepOrphans, silentLogger, taskIdsInPath, type OrphanReport } from '../src/cleanup/index.js';
import { applyEnv, clearmlEnvFor } from './support/in-process-cli.js';
import { BUCKET, FOREIGN_BUCKET, World, type BuiltTask } from './support/cleanup-world.js';

let w: World;
let storage: RealStorage;
let localRoot: string;
let t1: BuiltTask;
let t2: BuiltTask;
const GONE = 'f'.repeat(32);
let old: string[] = [];
let young: string[] = [];
let tMid = 0;
let referencedLocal: string;

async function plantFs(rel: string, body = 'orphan'): Promise<string> {
  const full = path.join(w.server.dataDir, 'files', rel);
  await mkdir(path.dirname(full), { recursive: true });
  await writeFile(full, body);
  return `${w.server.filesUrl}/${rel.split('/').map(encodeURIComponent).join('/')}`;
}

async function plantLocal(rel: string, body = 'orphan'): Promise<string> {
  const full = path.join(localRoot, rel);
  await mkdir(path.dirname(full), { recursive: true });
  await writeFile(full, body);
  return `file://${full}`;
}

async function exists(u: string): Promise<boolean> {
  return u.startsWith('file://') ? existsSync(u.slice('file://'.length)) : w.exists(u);
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

beforeAll(async () => {
  w = await World.start();
  localRoot = await mkdtemp(path.join(tmpdir(), 'orphans-local-'));
  referencedLocal = await plantLocal('keep/ref.bin', 'referenced by a task');
  t1 = await w.task({ name: 'with files', artifacts: 2, s3Artifacts: 1, debugImages: 3, plotImages: 1, models: [{}], foreignArtifacts: [referencedLocal], archived: false });
  t2 = await w.task({ name: 'archived one', artifacts: 1, archived: true });
  // a model whose task is gone still holds its file
  const modelFile = await plantFs('proj/models-only/weights.pt', 'weights');
  await w.model('orphaned model', modelFile);
  // a model pointing to a folder holds everything below it
  await plantFs('proj/folder-model/part-1.bin', 'part');
  await w.model('folder model', `${w.server.filesUrl}/proj/folder-model/`);
  await w.finalize();

  const t1Folder = `proj/with files.${t1.id}`;
  old = [
    await plantFs(`proj/deleted task.${GONE}/artifacts/a/data.bin`, 'x'.repeat(100)),
    await plantFs(`proj/deleted task.${GONE}/metrics/loss/sample/img_200.png`, 'y'.repeat(50)),
    // a file in a live task's folder that the task no longer references (artifact replaced)
    await plantFs(`${t1Folder}/artifacts/old/stale.bin`, 'z'.repeat(10)),
    await w.putS3(BUCKET, `proj/deleted task.${GONE}/artifacts/s/obj.pkl`),
    await plantLocal('old/orphan.bin', 'w'.repeat(20)),
  ];
  await w.putS3(FOREIGN_BUCKET, `proj/deleted task.${GONE}/not-ours.bin`);
  // S3 LastModified has whole seconds: the young ones come more than a second later
  tMid = Date.now();
  await sleep(1100);
  young = [
    await plantFs(`proj/uploading.${'e'.repeat(32)}/artifacts/a/partial.bin`),
    await w.putS3(BUCKET, 'proj/uploading/young.pkl'),
    await plantLocal('young/just-written.bin'),
  ];
  storage = createStorage({
    filesServer: w.server.filesUrl,
    storage: {
      s3: { credentials: [{ bucket: BUCKET, host: w.s3host, key: 'S3RVER', secret: 'S3RVER', secure: false }] },
      gcs: { credentials: [] },
      azure: { containers: [] },
    },
    allowRoots: [`file://${localRoot}`],
    getToken: () => w.client.getToken(),
  });
}, 60_000);

afterAll(async () => {
  storage?.close();
  await w?.close();
  await rm(localRoot, { recursive: true, force: true });
});

function roots(): string[] {
  return [w.server.filesUrl, `s3://${w.s3host}/${BUCKET}`, `file://${localRoot}`];
}

async function sweep(del: boolean, extra: { fileServerDir?: string; roots?: string[]; spill?: { maxInMemory: number; dir: string } } = {}): Promise<OrphanReport> {
  const now = Date.now();
  return sweepOrphans(
    { api: w.api, storage: { list: (r, o) => storage.list(r, o), deleteFiles: (u) => storage.deleteFiles(u) }, log: silentLogger },
    {
      roots: extra.roots ?? roots(),
      minAgeDays: (now - tMid) / 86_400_000,
      now: () => new Date(now),
      delete: del,
      stateDir: w.stateDir,
      fileServerDir: extra.fileServerDir,
      s3Hosts: [w.s3host],
      batchSize: 2,
      spill: extra.spill,
    },
  );
}

test('task ids are read from <name>.<id> folders', () => {
  expect(taskIdsInPath(`http://h/proj/a%20b.${GONE}/x.bin`)).toEqual([GONE]);
  expect(taskIdsInPath('s3://b/proj/no-task/x.bin')).toEqual([]);
});

test('lists exactly the planted old orphans; referenced, young and foreign files are not', async () => {
  const r = await sweep(false);
  expect(r.error).toBeUndefined();
  expect(r.roots.map((x) => x.error)).toEqual([undefined, undefined, undefined]);
  expect(r.orphanList.map((o) => o.url).sort()).toEqual([...old].sort());
  expect(r.total.orphans).toBe(old.length);
  expect(r.total.orphanBytes).toBe(100 + 50 + 10 + 4 + 20);
  expect(r.total.young).toBe(young.length);
  // every task file is referenced; the listing saw them all
  expect(r.total.referenced).toBeGreaterThanOrEqual(t1.files.length + t2.files.length + 3);
  expect(r.references.tasks).toBeGreaterThanOrEqual(2);
  expect(r.references.failedTasks).toBe(0);
  // nothing was deleted
  for (const u of old) expect(await exists(u)).toBe(true);
});

test('an index past its memory budget moves to a temporary file: the same orphans, and the file is gone afterwards', async () => {
  const dir = await mkdtemp(path.join(tmpdir(), 'orphans-spill-'));
  try {
    const lines: string[] = [];
    const r = await sweepOrphans(
      {
        api: w.api,
        storage: { list: (x, o) => storage.list(x, o), deleteFiles: async () => { throw new Error('must not delete'); } },
        log: { ...silentLogger, info: (m: string) => lines.push(m) },
      },
      { roots: roots(), minAgeDays: (Date.now() - tMid) / 86_400_000, delete: false, s3Hosts: [w.s3host], batchSize: 2, spill: { maxInMemory: 2, dir } },
    );
    expect(lines.join('\n')).toContain('the index moved to a temporary file');
    expect(r.references.urls).toBeGreaterThan(2);
    expect(r.orphanList.map((o) => o.url).sort()).toEqual([...old].sort());
    expect(r.total.young).toBe(young.length);
    expect((await readdir(dir)).length).toBe(0);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});

test('the file server data directory mounted locally gives the same orphans as the listing endpoint', async () => {
  const r = await sweep(false, { fileServerDir: path.join(w.server.dataDir, 'files'), roots: [w.server.filesUrl] });
  expect(r.orphanList.map((o) => o.url).sort()).toEqual(old.filter((u) => u.startsWith('http')).sort());
});

test('the second check keeps the files of a task (and a model file) the reference scan missed', async () => {
  const now = Date.now();
  const r = await sweepOrphans(
    {
      api: w.api,
      storage: { list: (x, o) => storage.list(x, o), deleteFiles: async () => { throw new Error('must not delete'); } },
      log: silentLogger,
      // as if paging had skipped every task and model
      references: new ReferenceIndex({ s3Hosts: [w.s3host] }),
    },
    { roots: roots(), minAgeDays: (now - tMid) / 86_400_000, now: () => new Date(now), delete: false, s3Hosts: [w.s3host], batchSize: 3 },
  );
  const flagged = new Set(r.orphanList.map((o) => o.url));
  for (const u of [...t1.files, ...t2.files]) expect(flagged.has(u)).toBe(false);
  expect(flagged.has(`${w.server.filesUrl}/proj/models-only/weights.pt`)).toBe(false);
  for (const u of old) expect(flagged.has(u)).toBe(true);
  // the first candidates of a task bring its references back: later files of it are simply referenced
  expect(r.total.rechecked).toBeGreaterThan(0);
});

test('delete removes only the orphans, in journaled batches through the allow-list', async () => {
  const r = await sweep(true);
  expect(r.error).toBeUndefined();
  expect(r.total.deleted).toBe(old.length);
  expect(r.total.failed).toBe(0);
  expect(r.total.deletedBytes).toBe(100 + 50 + 10 + 4 + 20);
  for (const u of old) expect(await exists(u)).toBe(false);
  for (const u of [...t1.files, ...t2.files]) expect(await w.exists(u)).toBe(true);
  expect(existsSync(referencedLocal.slice('file://'.length))).toBe(true);
  for (const u of young) expect(await exists(u)).toBe(true);
  expect(await w.exists(`${w.server.filesUrl}/proj/models-only/weights.pt`)).toBe(true);
  expect(await w.exists(`${w.server.filesUrl}/proj/folder-model/part-1.bin`)).toBe(true);
  expect(await w.exists(w.s3url(FOREIGN_BUCKET, `proj/deleted task.${GONE}/not-ours.bin`))).toBe(true);
  // the journal is empty after a complete sweep
  const left = existsSync(path.join(w.stateDir, 'orphans')) ? (await import('node:fs')).readdirSync(path.join(w.stateDir, 'orphans')) : [];
  expect(left).toEqual([]);
  // a second sweep finds nothing more
  const again = await sweep(true);
  expect(again.total.orphans).toBe(0);
});

test('a root outside the allow-list is listed but its orphans are refused', async () => {
  const other = await mkdtemp(path.join(tmpdir(), 'orphans-other-'));
  try {
    await writeFile(path.join(other, 'x.bin'), 'x');
    const past = new Date(Date.now() - 30 * 86_400_000);
    await (await import('node:fs/promises')).utimes(path.join(other, 'x.bin'), past, past);
    const r = await sweep(true, { roots: [`file://${other}`] });
    expect(r.total.orphans).toBe(1);
    expect(r.total.refused).toBe(1);
    expect(existsSync(path.join(other, 'x.bin'))).toBe(true);
  } finally {
    await rm(other, { recursive: true, force: true });
  }
});

test('the command: --json streams the orphans then the report; --delete deletes them (exit 0)', async () => {
  const restoreEnv = applyEnv(clearmlEnvFor(w.server, localRoot));
  try {
    const planted = await plantFs(`proj/cli.${GONE}/artifacts/a/cli.bin`, 'cli orphan');
    const past = new Date(Date.now() - 3 * 86_400_000);
    await (await import('node:fs/promises')).utimes(w.localPath(planted), past, past);
    const base = { deleteThresholdDays: 30, forceDelete: false, concurrency: 4, batchSize: 500, pacingMs: 0, logFormat: 'text' as const, stateDir: w.stateDir, minAgeDays: 1 };
    const io = () => {
      const o = { text: '' };
      return { o, io: { out: (t: string) => void (o.text += t), err: (t: string) => void (o.text += t), log: createLogger({ stream: new PassThrough() }) } };
    };
    const a = io();
    expect(await runOrphansCommand({ ...base, json: true, delete: false }, a.io)).toBe(0);
    const doc = JSON.parse(a.o.text);
    expect(doc.orphans.map((x: { url: string }) => x.url)).toEqual([planted]);
    expect(doc.report.total).toMatchObject({ orphans: 1, deleted: 0 });
    // the roots default to the allow roots of the configuration: here the files server alone
    expect(doc.report.roots.map((r: { root: string }) => r.root)).toEqual([w.server.filesUrl]);
    const b = io();
    expect(await runOrphansCommand({ ...base, json: false, delete: true }, b.io)).toBe(0);
    expect(b.o.text).toContain(`deleted ${planted} 10 bytes`);
    expect(b.o.text).toMatch(/^Orphans: deleted 1 of 1 unreferenced files older than 1 days/m);
    expect(await w.exists(planted)).toBe(false);
    const c = io();
    expect(await runOrphansCommand({ ...base, json: false, delete: false, minAgeDays: -1 }, c.io)).toBe(2);
    expect(c.o.text).toMatch(/--min-age-days must be a number of days >= 0/);
  } finally {
    restoreEnv();
  }
}, 30_000);

test('the embedded listing extension pages in walk order; a deleted cursor file does not lose the rest', async () => {
  const names: string[] = [];
  for (const d of ['b', 'a.x', 'a', 'c/d']) for (let i = 0; i < 4; i++) names.push(`paging/${d}/f${i}.bin`);
  for (const n of names) await plantFs(n, 'p');
  const token = await w.client.getToken();
  const got: string[] = [];
  let after = '';
  for (let page = 0; page < 20; page++) {
    const res = await fetch(`${w.server.filesUrl}/_embedded/list?prefix=paging&limit=5&after=${encodeURIComponent(after)}`, {
      headers: { authorization: `Bearer ${token}` },
    });
    expect(res.status).toBe(200);
    const body = (await res.json()) as { files: Array<{ path: string; size: number; mtime: number }>; next: string | null };
    got.push(...body.files.map((f) => f.path));
    expect(body.files.every((f) => f.size === 1 && f.mtime > 0)).toBe(true);
    if (!body.next) break;
    after = body.next;
    // the sweep deletes while it lists: the cursor's own file may be gone
    await rm(path.join(w.server.dataDir, 'files', after), { force: true });
  }
  const order = ['a', 'a.x', 'b', 'c/d'].flatMap((d) => [0, 1, 2, 3].map((i) => `paging/${d}/f${i}.bin`));
  expect(got).toEqual(order);
  const anon = await fetch(`${w.server.filesUrl}/_embedded/list?prefix=paging`);
  expect(anon.status).toBe(401);
});
