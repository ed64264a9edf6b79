/**
 * Dataset lineage against the embedded server: dataset families built through the public API the way
 * the SDK builds them (chunks, state artifact, Dataset Struct), then passes without and with
 * force_delete. After each pass every dataset version that stays still has every chunk it needs, and
 * everything eligible is gone with its files.
 */
import { runPass, silentLogger, summarize, sweepOrphans, type PassReport } from '../src/cleanup/index.js';
import { decideLineage, type DatasetVersion } from '../src/cleanup/lineage.js';
import { chunksNeeded, createDatasetVersion, type BuiltDataset, type DatasetSink, type DatasetVersionSpec } from '../src/seed/datasets.js';
import { BUCKET, World } from './support/cleanup-world.js';

let w: World;
const all = new Map<string, BuiltDataset>();

beforeAll(async () => {
  w = await World.start();
});

afterAll(async () => {
  await w?.close();
});

function sink(): DatasetSink {
  return {
    api: w.api,
    filesUrl: w.server.filesUrl,
    upload: async (p, body) => void w.uploadFile(p, body),
  };
}

async function version(spec: DatasetVersionSpec): Promise<BuiltDataset> {
  const v = await createDatasetVersion(sink(), spec);
  all.set(v.id, v);
  return v;
}

/** Uploads, then archives `archived` and makes every version built so far 60 days old. */
async function settle(archived: BuiltDataset[], built: BuiltDataset[]): Promise<void> {
  await w.finalize();
  if (archived.length) await w.call('tasks.archive_many', { ids: archived.map((v) => v.id) });
  await w.backdate(
    built.map((v) => v.id),
    60,
  );
}

function pass(force: boolean, dryRun = false): Promise<PassReport> {
  return runPass({ api: w.api, storage: w.storage, log: silentLogger }, { deleteThresholdDays: 30, forceDelete: force, stateDir: w.stateDir, pacingMs: 0, dryRun });
}

/**
 * Every dataset version still on the server has every chunk of its graph, and its state; `halfGone`
 * are versions this pass was deleting when one of their files could not be (the rest of theirs went).
 */
async function expectKeptComplete(halfGone: BuiltDataset[] = []): Promise<void> {
  const alive = new Set(await w.existingTasks([...all.keys()]));
  for (const v of halfGone) alive.delete(v.id);
  for (const id of alive) {
    const v = all.get(id)!;
    const need = chunksNeeded(v, all);
    expect({ id, missing: await missing(need) }).toEqual({ id, missing: [] });
    // every version it reads from still exists
    for (const p of Object.keys(v.graph)) expect({ id, parent: p, exists: alive.has(p) }).toEqual({ id, parent: p, exists: true });
    if (v.state) expect(await w.exists(v.state)).toBe(true);
  }
}

async function missing(urls: string[]): Promise<string[]> {
  const out: string[] = [];
  for (const u of urls) if (!(await w.exists(u))) out.push(u);
  return out;
}

async function expectGone(vs: BuiltDataset[]): Promise<void> {
  for (const v of vs) {
    expect({ id: v.id, exists: await w.taskExists(v.id) }).toEqual({ id: v.id, exists: false });
    expect(await w.existing(v.files)).toEqual([]);
  }
}

function reasonOf(r: PassReport, id: string): string | undefined {
  return r.tasks.skippedList.find((s) => s.id === id)?.reason;
}

const label = (v: BuiltDataset) => `${v.name} ${v.version} ${v.id}`;

test('families: without then with force_delete, kept versions keep every chunk, eligible ones go', async () => {
  const families = [] as Array<Record<string, BuiltDataset>>;
  const archived: BuiltDataset[] = [];
  // Each scenario twice: archived versions as Drafts (deletable without force) and finalized (force only).
  for (const kind of ['draft', 'final'] as const) {
    const st = kind === 'draft' ? 'created' : 'completed';
    const project = `lineage-${kind}`;
    // A: archived parent, live child
    const aP = await version({ project, name: 'alpha', version: '1.0.0', status: st, chunks: 2 });
    const aC = await version({ project, name: 'alpha', version: '1.0.1', parents: [aP] });
    // B: archived grandparent and parent, live grandchild
    const bG = await version({ project, name: 'beta', version: '1.0.0', status: st });
    const bP = await version({ project, name: 'beta', version: '1.0.1', parents: [bG], status: st });
    const bC = await version({ project, name: 'beta', version: '1.0.2', parents: [bP] });
    // C: a whole archived family (the child built on two parents)
    const cG = await version({ project, name: 'gamma', version: '1.0.0', status: st, chunks: 3 });
    const cQ = await version({ project, name: 'gamma-aux', version: '1.0.0', status: st });
    const cP = await version({ project, name: 'gamma', version: '1.0.1', parents: [cG], status: st });
    const cC = await version({ project, name: 'gamma', version: '1.0.2', parents: [cP, cQ], status: st });
    // D: live parent, archived child
    const dP = await version({ project, name: 'delta', version: '1.0.0' });
    const dC = await version({ project, name: 'delta', version: '1.0.1', parents: [dP], status: st });
    families.push({ aP, aC, bG, bP, bC, cG, cQ, cP, cC, dP, dC });
    archived.push(aP, bG, bP, cG, cQ, cP, cC, dC);
  }
  await settle(archived, [...all.values()]);
  const [draft, final] = families;

  // plan: nothing deleted, the reason is shown
  const dry = await pass(true, true);
  expect(dry.tasks.deleted).toBe(0);
  expect(reasonOf(dry, draft.aP.id)).toBe(`parent of kept dataset version ${label(draft.aC)}`);
  expect(await w.taskExists(draft.cC.id)).toBe(true);

  // 1. force_delete off: only the Draft family's archived versions are candidates
  const r1 = await pass(false);
  expect(r1.error).toBeUndefined();
  expect(r1.tasks.failed).toBe(0);
  expect(reasonOf(r1, draft.aP.id)).toBe(`parent of kept dataset version ${label(draft.aC)}`);
  expect(reasonOf(r1, draft.bP.id)).toBe(`parent of kept dataset version ${label(draft.bC)}`);
  expect(reasonOf(r1, draft.bG.id)).toBe(`parent of kept dataset version ${label(draft.bP)}`);
  await expectGone([draft.cG, draft.cQ, draft.cP, draft.cC, draft.dC]);
  expect(r1.tasks.deleted).toBe(5);
  // the live parent of D keeps its chunks; the finalized family waits for force
  expect(await w.existing(draft.dP.files)).toEqual(draft.dP.files);
  expect(reasonOf(r1, final.cG.id)).toBe('status completed is not Draft and force_delete is off');
  expect(r1.datasets?.keptForLineage).toBe(3);
  expect(summarize(r1).join('\n')).toContain('dataset versions: 3 kept because a version that stays needs them');
  await expectKeptComplete();

  // 2. force_delete on: the finalized family the same way
  const r2 = await pass(true);
  expect(r2.error).toBeUndefined();
  expect(r2.tasks.failed).toBe(0);
  expect(reasonOf(r2, final.aP.id)).toBe(`parent of kept dataset version ${label(final.aC)}`);
  expect(reasonOf(r2, final.bG.id)).toBe(`parent of kept dataset version ${label(final.bP)}`);
  expect(reasonOf(r2, draft.aP.id)).toBe(`parent of kept dataset version ${label(draft.aC)}`);
  await expectGone([final.cG, final.cQ, final.cP, final.cC, final.dC]);
  expect(r2.tasks.deleted).toBe(5);
  for (const f of families) for (const v of [f.aP, f.aC, f.bG, f.bP, f.bC, f.dP]) expect(await w.taskExists(v.id)).toBe(true);
  await expectKeptComplete();

  // 3. the child un-archived... rather: the live child archived too, the family goes together
  await w.call('tasks.archive_many', { ids: [final.aC.id] });
  await w.backdate([final.aC.id], 60);
  const r3 = await pass(true);
  await expectGone([final.aP, final.aC]);
  expect(r3.tasks.deleted).toBe(2);
  await expectKeptComplete();
}, 60_000);

test('link entries stay where they are and are reported; a broken graph keeps itself and every older version', async () => {
  const linkedFile = w.uploadFile('shared/raw/images.tar', 'raw images');
  const linkedS3 = await w.putS3(BUCKET, 'raw/labels.csv', 'labels');
  const links = [linkedFile, linkedS3, 'https://data.example.com/big/corpus.txt'];
  const lv = await version({ project: 'lineage-links', name: 'linked', version: '1.0.0', chunks: 1, links });
  const linkOnly = await version({ project: 'lineage-links', name: 'linked', version: '1.0.1', chunks: 0, links: [linkedFile], parents: [lv] });
  await settle([lv, linkOnly], [lv, linkOnly]);
  const r = await pass(true);
  expect(r.error).toBeUndefined();
  await expectGone([lv, linkOnly]);
  expect(await w.exists(linkedFile)).toBe(true);
  expect(await w.exists(linkedS3)).toBe(true);
  expect(r.datasets?.linksKept).toBe(4);
  expect(r.datasets?.keptLinks.map((l) => l.url).sort()).toEqual([...links, linkedFile].sort());
  expect(summarize(r).join('\n')).toContain('4 files registered by link left in place');

  // An older archived version nobody names, then a version whose graph cannot be read.
  const older = await version({ project: 'lineage-broken', name: 'older', version: '1.0.0' });
  await new Promise((res) => setTimeout(res, 20));
  const broken = await version({ project: 'lineage-broken', name: 'xray', version: '2.0.0', broken: 'missing' });
  const garbled = await version({ project: 'lineage-broken', name: 'yankee', version: '2.0.0', broken: 'garbled' });
  await settle([older, broken, garbled], [older, broken, garbled]);
  for (const force of [false, true]) {
    const rb = await pass(force);
    expect(rb.error).toBeUndefined();
    for (const v of [older, broken, garbled]) expect(await w.taskExists(v.id)).toBe(true);
    expect(await w.existing([...older.files, ...broken.files, ...garbled.files])).toEqual([...older.files, ...broken.files, ...garbled.files]);
    expect(rb.datasets?.brokenGraphs).toBe(2);
    if (force) {
      expect(reasonOf(rb, broken.id)).toMatch(/^dataset version whose lineage cannot be read: no Dataset Struct configuration, no state artifact/);
      expect(reasonOf(rb, garbled.id)).toMatch(/its state artifact cannot be read/);
      expect(reasonOf(rb, older.id)).toMatch(/^may be a parent of dataset version (xray|yankee) 2\.0\.0 \w{32}, whose lineage cannot be read$/);
    }
  }
  await expectKeptComplete();
}, 60_000);

test('decideLineage: children before parents, and a parent follows a child that stays', () => {
  const v = (id: string, parents: string[], needs = parents): DatasetVersion => ({
    id, name: id, version: '1', archived: true, parents, needs, source: 'struct', created: 0,
  });
  const graph = { versions: new Map([v('g', []), v('p', ['g']), v('c', ['p'], ['p', 'g']), v('o', [])].map((x) => [x.id, x])) };
  const d = decideLineage(graph, new Set(['g', 'p', 'c']));
  expect(d.kept).toEqual([]);
  expect(d.layers).toEqual([['c'], ['p'], ['g']]);
  expect(d.dependants.get('g')?.sort()).toEqual(['c', 'p']);
  const d2 = decideLineage(graph, new Set(['g', 'p']));
  expect(d2.kept.map((k) => [k.id, k.reason])).toEqual([
    ['p', 'parent of kept dataset version c 1 c'],
    ['g', 'parent of kept dataset version p 1 p'],
  ]);
  // a version named only in the graph (not a direct parent) is still kept
  const d3 = decideLineage({ versions: new Map([v('g', []), v('c', [], ['g'])].map((x) => [x.id, x])) }, new Set(['g']));
  expect(d3.kept[0]?.reason).toBe('in the lineage of kept dataset version c 1 c');
});

test('a child this pass could not delete keeps its parents (children go first, parents wait for them)', async () => {
  const g = await version({ project: 'lineage-held', name: 'held', version: '1.0.0' });
  const p = await version({ project: 'lineage-held', name: 'held', version: '1.0.1', parents: [g] });
  const c = await version({ project: 'lineage-held', name: 'held', version: '1.0.2', parents: [p] });
  await settle([g, p, c], [g, p, c]);
  const stuck = c.chunks[0];
  const base = w.storage;
  // the storage cannot delete one chunk of the child: the child stays, so must its parents
  // (a task folder removed whole would take the chunk with it: the folder holding it fails too)
  const fire = { backend: 'fileserver', status: 'failed' as const, reason: 'disk on fire' };
  const storage = {
    ...base,
    deleteFiles: async (urls: string[]) => {
      const out = await base.deleteFiles(urls.filter((u) => u !== stuck));
      if (urls.includes(stuck)) out.push({ url: stuck, ...fire });
      return out;
    },
    deleteFolders: async (urls: string[]) => {
      const ok = await base.deleteFolders!(urls.filter((u) => !stuck.startsWith(u)));
      return urls.map((u) => (stuck.startsWith(u) ? { url: u, ...fire } : ok.shift()!));
    },
  };
  const r = await runPass({ api: w.api, storage, log: silentLogger }, { deleteThresholdDays: 30, forceDelete: true, stateDir: w.stateDir, pacingMs: 0 });
  expect(r.tasks.failedList.map((f) => f.id)).toContain(c.id);
  expect(reasonOf(r, p.id)).toBe(`parent of kept dataset version ${label(c)} (this pass could not delete it)`);
  expect(reasonOf(r, g.id)).toBe(`parent of kept dataset version ${label(p)} (this pass could not delete it)`);
  for (const v of [g, p, c]) expect(await w.taskExists(v.id)).toBe(true);
  await expectKeptComplete([c]);
  expect(await w.existing([...g.files, ...p.files])).toEqual([...g.files, ...p.files]);
  // next pass, storage healthy: the family goes together
  const r2 = await pass(true);
  expect(r2.error).toBeUndefined();
  await expectGone([g, p, c]);
}, 30_000);

test('the orphan sweep leaves files a dataset version registered by link (no artifact names them)', async () => {
  const linked = w.uploadFile('shared/raw/linked-by-dataset.csv', 'rows');
  const orphan = w.uploadFile('gone/t.' + 'c'.repeat(32) + '/artifacts/a/lost.bin', 'lost');
  const v = await version({ project: 'lineage-orphans', name: 'links', version: '1.0.0', links: [linked] });
  await settle([], [v]);
  const sweep = () =>
    sweepOrphans(
      {
        api: w.api,
        storage: {
          list: (root, o) => w.realStorage.list(root, o),
          deleteFiles: (u) => w.realStorage.deleteFiles(u),
          readText: (u, n) => w.realStorage.readText(u, n),
        },
        log: silentLogger,
      },
      { roots: [w.server.filesUrl], minAgeDays: 0, delete: true, stateDir: w.stateDir, now: () => new Date(Date.now() + 60_000) },
    );
  const r = await sweep();
  expect(r.error).toBeUndefined();
  expect(await w.exists(orphan)).toBe(false);
  expect(await w.exists(linked)).toBe(true);
  expect(await w.existing(v.files)).toEqual(v.files);
  // a version whose state (and so its links) cannot be read: the sweep deletes nothing
  const stray = w.uploadFile('gone/t.' + 'd'.repeat(32) + '/artifacts/a/lost.bin', 'lost');
  await version({ project: 'lineage-orphans', name: 'nostate', version: '1.0.0', links: [linked], broken: 'missing' });
  await w.finalize();
  const r2 = await sweep();
  expect(r2.error).toMatch(/link entries of 1 dataset versions could not be read/);
  expect(await w.exists(stray)).toBe(true);
  expect(await w.exists(linked)).toBe(true);
}, 30_000);
