/**
 * Faults everywhere at once: the embedded server failing 10% of its API and file-server requests
 * (500, 503, dropped connections), and S3 behind a real pass-through proxy that drops or answers 500
 * to a seeded 10% of requests. Passes keep going, what is safe to repeat is repeated, and after two
 * passes no eligible task or file remains while nothing else was touched.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { runPass, silentLogger, type PassReport, type Storage } from '../src/cleanup/index.js';
import { createStorage, type Storage as RealStorage } from '../src/storage/index.js';
import { BUCKET, FOREIGN_BUCKET, World, type BuiltTask } from './support/cleanup-world.js';
import { mulberry32 as seededRandom } from '../src/seed/prng.js';
import { startTamperProxy, type TamperProxy } from './support/tamper-proxy.js';

let w: World;
let s3proxy: TamperProxy;
let dataDir: string;
const s3faults = { dropped: 0, errors: 0, requests: 0 };
let armed = false;
let rand = seededRandom(1);

function storageVia(proxyHost: string): { real: RealStorage; port: Storage } {
  const real = createStorage({
    filesServer: w.server.filesUrl,
    storage: {
      s3: { credentials: [{ bucket: BUCKET, host: proxyHost, key: 'S3RVER', secret: 'S3RVER', secure: false }] },
      gcs: { credentials: [] },
      azure: { containers: [] },
    },
    getToken: () => w.client.getToken(),
  });
  return {
    real,
    port: {
      deleteFiles: (urls) => real.deleteFiles(urls),
      classify: (url) => {
        const c = real.classify(url);
        return { backend: c.backend, allowed: c.allowed, reason: c.refusal?.reason };
      },
    },
  };
}

beforeAll(async () => {
  dataDir = await mkdtemp(path.join(tmpdir(), 'faults-'));
  w = await World.start({ dataDir });

  s3proxy = await startTamperProxy(`http://${w.s3host}`, () => {
    if (!armed) return undefined;
    s3faults.requests++;
    // deletes go in batches, so few requests: the first two fail for sure (a drop, then a 500)
    const r = s3faults.requests === 1 ? 0 : s3faults.requests === 2 ? 0.07 : rand();
    if (r < 0.05) return (s3faults.dropped++, 'drop');
    if (r < 0.1) return (s3faults.errors++, { status: 500, headers: { 'content-type': 'application/xml' }, body: '<Error><Code>InternalError</Code></Error>' });
    return undefined;
  });
}, 60_000);

afterAll(async () => {
  await s3proxy?.close();
  await w?.close();
  await rm(dataDir, { recursive: true, force: true });
});

test.each([7, 21, 33])('10%% faults on the API, the file server and S3 (seed %i): two passes delete every eligible task and file, nothing else', async (seed) => {
  Object.assign(s3faults, { dropped: 0, errors: 0, requests: 0 });
  rand = seededRandom(seed);
  const proxyHost = `127.0.0.1:${s3proxy.port}`;
  const s3 = (key: string) => w.putS3(BUCKET, `${seed}/${key}`).then(() => `s3://${proxyHost}/${BUCKET}/${seed}/${key}`);
  const eligible: BuiltTask[] = [];
  const eligibleS3: string[] = [];
  // an S3 artifact in the task's own folder (only those are the task's to delete)
  const s3Artifact = async (t: BuiltTask, key = 'obj.pkl') => {
    const uri = await s3(`proj/${t.name}.${t.id}/artifacts/${key}`);
    await w.call('tasks.add_or_update_artifacts', { task: t.id, artifacts: [{ key: 's3', type: 'pickle', mode: 'output', uri }] });
    return uri;
  };
  for (let i = 0; i < 40; i++) {
    const t = await w.task({ artifacts: 2, debugImages: i % 4 === 0 ? 3 : 0, plotImages: i % 5 === 0 ? 1 : 0, models: i % 3 ? [] : [{}] });
    if (i % 2 === 0) eligibleS3.push(await s3Artifact(t));
    eligible.push(t);
  }
  // kept: not archived, archived but recent, published without force; and someone else's bucket
  const keptS3 = [await s3('kept/artifacts/obj.pkl')];
  const kept: BuiltTask[] = [
    await w.task({ archived: false, artifacts: 2, debugImages: 2, foreignArtifacts: keptS3 }),
    await w.task({ archived: true, ageDays: 1, artifacts: 2, models: [{}] }),
    await w.task({ status: 'published', artifacts: 1 }),
  ];
  // an object in the task's folder, but in a bucket we were not given: refused, never attempted
  const withForeign = await w.task({ artifacts: 1 });
  const foreign = await w.putS3(FOREIGN_BUCKET, `their/${seed}/${withForeign.name}.${withForeign.id}/data.bin`);
  await w.call('tasks.add_or_update_artifacts', {
    task: withForeign.id,
    artifacts: [{ key: 'theirs', type: 'custom', mode: 'output', uri: foreign.replace(w.s3host, proxyHost) }],
  });
  eligible.push(withForeign);
  // an eligible task's model that a kept task uses as input: the model and its file stay
  const inUse = await w.task({ models: [{}] });
  await w.useAsInput(kept[0].id, inUse.models[0].id);
  eligible.push(inUse);
  await w.finalize();

  await w.reopen({ faultRate: 0.1, faultSeed: seed }, 6);
  armed = true;
  const { real, port } = storageVia(proxyHost);
  const reports: PassReport[] = [];
  try {
    for (let i = 0; i < 2; i++) {
      reports.push(await runPass({ api: w.api, storage: port, log: silentLogger }, { deleteThresholdDays: 30, stateDir: w.stateDir, pacingMs: 0, batchSize: 5 }));
    }
  } finally {
    real.close();
  }
  const retries = w.client.stats.retries;
  armed = false;
  await w.reopen({});

  // faults did happen, on every side
  expect(retries).toBeGreaterThan(0);
  expect(s3faults.dropped + s3faults.errors).toBeGreaterThan(0);
  // every eligible task and its files are gone, S3 included
  const expectGone = eligible.filter((t) => t !== inUse);
  expect(await w.existingTasks(expectGone.map((t) => t.id))).toEqual([]);
  expect(await w.existing(expectGone.flatMap((t) => t.files))).toEqual([]);
  expect(await w.existing(eligibleS3.map((u) => u.replace(proxyHost, w.s3host)))).toEqual([]);
  // the in-use model's owner is gone, the model and its file stay
  expect(await w.taskExists(inUse.id)).toBe(false);
  expect(await w.modelExists(inUse.models[0].id)).toBe(true);
  expect(await w.exists(inUse.models[0].uri)).toBe(true);
  // nothing else touched
  expect(await w.existingTasks(kept.map((t) => t.id))).toHaveLength(kept.length);
  const keptFiles = kept.flatMap((t) => t.files);
  expect(await w.existing(keptFiles)).toHaveLength(keptFiles.length);
  expect(await w.existing(keptS3.map((u) => u.replace(proxyHost, w.s3host)))).toHaveLength(1);
  expect(await w.exists(foreign)).toBe(true);
  for (const t of kept) for (const m of t.models) expect(await w.modelExists(m.id)).toBe(true);
  // the foreign object was refused, never attempted
  const refused = reports.flatMap((r) => r.files.refusedList.map((f) => f.url));
  expect(refused).toContain(foreign.replace(w.s3host, proxyHost));
}, 180_000);
