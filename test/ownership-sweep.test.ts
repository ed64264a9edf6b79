/**
 * Issue 12 for the orphan sweep: Report images, files ClearML did not write, URLs spelled another
 * way than the listing, and a root that looks mostly unreferenced. Against the embedded server (its
 * file server lists through /_embedded/list) and s3rver; every test failed before the change.
 */
import { sweepOrphans, silentLogger, type OrphanReport } from '../src/cleanup/index.js';
import type { OrphanOptions } from '../src/cleanup/orphans.js';
import { BUCKET, World } from './support/cleanup-world.js';

let w: World;
const GONE = 'a'.repeat(32);

beforeAll(async () => {
  w = await World.start();
});

afterAll(async () => {
  await w?.close();
});

function sweep(extra: Partial<OrphanOptions> = {}): Promise<OrphanReport> {
  const later = Date.now() + 10 * 86_400_000; // every file is old enough
  return sweepOrphans(
    { api: w.api, storage: { list: (r, o) => w.realStorage.list(r, o), deleteFiles: (u) => w.realStorage.deleteFiles(u) }, log: silentLogger },
    { roots: [w.server.filesUrl], minAgeDays: 1, now: () => new Date(later), delete: true, stateDir: w.stateDir, s3Hosts: [w.s3host], ...extra },
  );
}

test("2. a Report's images (report_assets, or only in its markdown) are not orphans", async () => {
  const { id } = await w.call<{ id: string }>('reports.create', { name: 'weekly report' });
  const listed = w.put(`reports/${id}/chart.png`);
  const inMarkdown = w.put(`reports/${id}/table.png`);
  const orphan = w.put(`reports/${'b'.repeat(32)}/left-behind.png`);
  await w.finalize();
  await w.call('reports.update', { task: id, report: `see ![t](${inMarkdown})`, report_assets: [listed] });
  const r = await sweep();
  expect(r.error).toBeUndefined();
  expect(await w.existing([listed, inMarkdown])).toEqual([listed, inMarkdown]);
  expect(await w.exists(orphan)).toBe(false);
});

test('3. files ClearML did not write are never swept by default; --any-file on an explicit root takes them', async () => {
  const raw = w.put('shared/raw/train.csv');
  const upload = w.put('storage-manager/uploads/notes.txt');
  const orphan = w.put(`proj/gone.${GONE}/artifacts/a/data.bin`);
  await w.finalize();
  const r = await sweep();
  expect(r.error).toBeUndefined();
  expect(await w.existing([raw, upload])).toEqual([raw, upload]);
  expect(await w.exists(orphan)).toBe(false);
  expect(r.total.notOwned).toBeGreaterThanOrEqual(2);

  const r2 = await sweep({ roots: [`${w.server.filesUrl}/shared`], anyFile: true });
  expect(r2.error).toBeUndefined();
  expect(await w.exists(raw)).toBe(false);
  expect(await w.exists(upload)).toBe(true);
});

test('4. a reference spelled with another S3 endpoint host or through the /files proxy keeps its file', async () => {
  const t = await w.task({ archived: false });
  await w.finalize();
  const key = `proj/${t.name}.${t.id}/artifacts/x/x.pkl`;
  const s3file = await w.putS3(BUCKET, key);
  const fsFile = w.put(`proj/${t.name}.${t.id}/artifacts/y/y.bin`);
  await w.finalize();
  const apiOrigin = new URL(w.server.apiUrl).origin;
  await w.call('tasks.add_or_update_artifacts', {
    task: t.id,
    artifacts: [
      // written by an agent that reaches MinIO under another name
      { key: 'x', type: 'pickle', mode: 'output', uri: `s3://minio.internal:9000/${BUCKET}/${key}` },
      // the same file server seen through the web server's /files proxy
      { key: 'y', type: 'custom', mode: 'output', uri: `${apiOrigin}/files/proj/${encodeURIComponent(`${t.name}.${t.id}`)}/artifacts/y/y.bin` },
    ],
  });
  const r = await sweep({ roots: [w.server.filesUrl, `s3://${w.s3host}/${BUCKET}`] });
  expect(r.error).toBeUndefined();
  expect(await w.existing([s3file, fsFile])).toEqual([s3file, fsFile]);
});

test('a root where most ClearML files look unreferenced is not swept, and the report says why', async () => {
  const planted: string[] = [];
  for (let i = 0; i < 25; i++) planted.push(await w.putS3(BUCKET, `other-server/job.${i.toString(16).padStart(32, 'c')}/artifacts/a/f${i}.bin`));
  const root = `s3://${w.s3host}/${BUCKET}`;
  const r = await sweep({ roots: [root] });
  expect(r.error).toMatch(/of the \d+ files ClearML wrote under .* look unreferenced \(more than 50%\): nothing is deleted there/);
  expect(r.roots[0].deleted).toBe(0);
  expect(await w.existing(planted)).toEqual(planted);
  // allowed on purpose
  const r2 = await sweep({ roots: [root], maxOrphanShare: 1 });
  expect(r2.error).toBeUndefined();
  expect(await w.existing(planted)).toEqual([]);
});
