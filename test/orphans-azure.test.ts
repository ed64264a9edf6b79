/**
 * The orphan sweep on an Azure container (azurite): blobs referenced by a task artifact, a debug
 * image and a model stay; an old orphan goes with delete; a young one and a foreign container's
 * blob stay.
 */
import type { ContainerClient } from '@azure/storage-blob';
import { startServer, type RunningServer } from '../src/server/index.js';
import { ClearMLClient } from '../src/api/index.js';
import { createStorage, type Storage as RealStorage } from '../src/storage/index.js';
import { silentLogger, sweepOrphans } from '../src/cleanup/index.js';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { ACCOUNT, KEY, startAzurite, type Azurite } from './support/azurite.js';

const CONTAINER = 'clearml-data';
const FOREIGN = 'not-ours';
const GONE = 'a'.repeat(32);

let azurite: Azurite;
let server: RunningServer;
let client: ClearMLClient;
let storage: RealStorage;
let container: ContainerClient;
let foreign: ContainerClient;
let stateDir: string;
let tMid = 0;
const url = (c: string, blob: string) => `azure://${ACCOUNT}.blob.core.windows.net/${c}/${blob}`;

async function put(c: ContainerClient, name: string, body: string): Promise<void> {
  await c.getBlockBlobClient(name).upload(body, body.length);
}

async function exists(c: ContainerClient, name: string): Promise<boolean> {
  return c.getBlobClient(name).exists();
}

beforeAll(async () => {
  azurite = await startAzurite();
  const { service, url: serviceUrl } = azurite;
  container = service.getContainerClient(CONTAINER);
  foreign = service.getContainerClient(FOREIGN);
  await container.create();
  await foreign.create();

  server = await startServer({ port: 0, filesPort: 0 });
  client = new ClearMLClient({ api: { apiServer: server.apiUrl, accessKey: server.accessKey, secretKey: server.secretKey } });
  stateDir = await mkdtemp(path.join(tmpdir(), 'orphans-azure-'));
  storage = createStorage({
    storage: {
      s3: { credentials: [] },
      gcs: { credentials: [] },
      azure: { containers: [{ accountName: ACCOUNT, accountKey: KEY, containerName: CONTAINER, url: serviceUrl }, { accountName: ACCOUNT, accountKey: KEY, containerName: FOREIGN, url: serviceUrl }] },
    },
    useConfigRoots: false,
    allowRoots: [`azure://${ACCOUNT}.blob.core.windows.net/${CONTAINER}`],
  });

  const { id } = await client.call<{ id: string }>('tasks.create', { name: 'azure task', type: 'training' });
  const folder = `proj/azure task.${id}`;
  await put(container, `${folder}/artifacts/a/data.bin`, 'artifact');
  await put(container, `${folder}/metrics/loss/s/img_1.png`, 'png');
  await put(container, `${folder}/models/m.pt`, 'weights');
  await client.call('tasks.add_or_update_artifacts', { task: id, artifacts: [{ key: 'a', type: 'custom', mode: 'output', uri: url(CONTAINER, `${folder}/artifacts/a/data.bin`) }] });
  await client.call('models.create', { name: 'azure model', uri: url(CONTAINER, `${folder}/models/m.pt`), task: id });
  await client.callJsonLines('events.add_batch', [
    { type: 'training_debug_image', task: id, timestamp: Date.now(), iter: 1, metric: 'loss', variant: 's', key: 'k', url: url(CONTAINER, `${folder}/metrics/loss/s/img_1.png`) },
  ]);
  await put(container, `proj/gone.${GONE}/artifacts/a/orphan.bin`, 'orphan!');
  await put(foreign, `proj/gone.${GONE}/artifacts/a/orphan.bin`, 'orphan!');
  tMid = Date.now();
  await new Promise((r) => setTimeout(r, 1100));
  // in a task folder: the sweep judges only what ClearML wrote (a file elsewhere is not even a candidate)
  await put(container, `proj/uploading.${'e'.repeat(32)}/artifacts/a/young.bin`, 'young');
}, 60_000);

afterAll(async () => {
  storage?.close();
  client?.close();
  await server?.close();
  azurite?.stop();
  if (stateDir) await rm(stateDir, { recursive: true, force: true });
});

async function sweep(del: boolean, roots: string[]) {
  const now = Date.now();
  return sweepOrphans(
    { api: client, storage: { list: (r, o) => storage.list(r, o), deleteFiles: (u) => storage.deleteFiles(u) }, log: silentLogger },
    { roots, minAgeDays: (now - tMid) / 86_400_000, now: () => new Date(now), delete: del, stateDir },
  );
}

test('lists the orphan blob only, then deletes it; referenced, young and foreign blobs stay', async () => {
  const root = `azure://${ACCOUNT}.blob.core.windows.net/${CONTAINER}`;
  const listed = await sweep(false, [root]);
  expect(listed.roots[0].error).toBeUndefined();
  expect(listed.total.listed).toBe(5);
  expect(listed.total.referenced).toBe(3);
  expect(listed.total.young).toBe(1);
  expect(listed.orphanList.map((o) => o.url)).toEqual([url(CONTAINER, `proj/gone.${GONE}/artifacts/a/orphan.bin`)]);
  expect(listed.total.orphanBytes).toBe(7);

  const done = await sweep(true, [root]);
  expect(done.total.deleted).toBe(1);
  expect(await exists(container, `proj/gone.${GONE}/artifacts/a/orphan.bin`)).toBe(false);
  expect(await exists(container, `proj/uploading.${'e'.repeat(32)}/artifacts/a/young.bin`)).toBe(true);
  const blobs: string[] = [];
  for await (const b of container.listBlobsFlat()) blobs.push(b.name);
  expect(blobs).toHaveLength(4);

  // the foreign container can be listed, but the allow-list refuses its orphan
  const other = await sweep(true, [`azure://${ACCOUNT}.blob.core.windows.net/${FOREIGN}`]);
  expect(other.total.orphans).toBe(1);
  expect(other.total.refused).toBe(1);
  expect(await exists(foreign, `proj/gone.${GONE}/artifacts/a/orphan.bin`)).toBe(true);
});
