import { createServer as createHttpServer, request, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { ContainerClient } from '@azure/storage-blob';
import pLimit from 'p-limit';
import { deleteFiles, type StorageContext } from '../src/storage/index.js';
import { ACCOUNT, KEY, startAzurite, type Azurite } from './support/azurite.js';

const CONTAINER = 'clearml-models';
const FOREIGN = 'shared-datasets';

let azurite: Azurite;
let proxy: Server;
/** Azurite itself; tests go through `serviceUrl`, a pass-through that counts and can refuse batches */
let directUrl: string;
let serviceUrl: string;
const seen = { batch: 0, singleDelete: 0 };
let refuseBatch = false;
let container: ContainerClient;
let foreign: ContainerClient;

beforeAll(async () => {
  azurite = await startAzurite();
  const { port, service } = azurite;
  directUrl = azurite.url;
  proxy = createHttpServer((req, res) => {
    const isBatch = req.method === 'POST' && /[?&]comp=batch/.test(req.url ?? '');
    if (isBatch) seen.batch++;
    if (req.method === 'DELETE') seen.singleDelete++;
    if (isBatch && refuseBatch) {
      // what an emulator without batch support answers
      req.resume();
      res.writeHead(400, { 'content-type': 'application/xml', 'x-ms-error-code': 'UnsupportedQueryParameter' });
      res.end('<?xml version="1.0" encoding="utf-8"?><Error><Code>UnsupportedQueryParameter</Code><Message>batch</Message></Error>');
      return;
    }
    const up = request({ host: '127.0.0.1', port, method: req.method, path: req.url, headers: req.headers }, (r) => {
      res.writeHead(r.statusCode ?? 502, r.headers);
      r.pipe(res);
    });
    up.on('error', () => res.destroy());
    req.pipe(up);
  });
  await new Promise<void>((resolve) => proxy.listen(0, '127.0.0.1', resolve));
  serviceUrl = `http://127.0.0.1:${(proxy.address() as AddressInfo).port}/${ACCOUNT}`;
  container = service.getContainerClient(CONTAINER);
  foreign = service.getContainerClient(FOREIGN);
  await container.create();
  await foreign.create();
}, 60_000);

afterAll(async () => {
  if (proxy) await new Promise((resolve) => proxy.close(resolve));
  azurite?.stop();
});

beforeEach(() => {
  seen.batch = 0;
  seen.singleDelete = 0;
  refuseBatch = false;
});

async function upload(c: ContainerClient, names: string[]): Promise<void> {
  const limit = pLimit(16);
  await Promise.all(names.map((n) => limit(() => c.getBlockBlobClient(n).upload('data', 4))));
}

async function names(c: ContainerClient, prefix: string): Promise<string[]> {
  const out: string[] = [];
  for await (const b of c.listBlobsFlat({ prefix })) out.push(b.name);
  return out;
}

function ctx(): StorageContext {
  return {
    storage: {
      s3: { credentials: [] },
      gcs: { credentials: [] },
      azure: { containers: [{ accountName: ACCOUNT, accountKey: KEY, containerName: CONTAINER, url: serviceUrl }] },
    },
  };
}

const url = (c: string, blob: string) => `azure://${ACCOUNT}.blob.core.windows.net/${c}/${blob}`;

test('deletes blobs in batches, over more than one batch of 256', async () => {
  const blobs = Array.from({ length: 300 }, (_, i) => `proj/task.1/metrics/img ${i}.png`);
  await upload(container, [...blobs, 'proj/keep.bin']);
  const out = await deleteFiles(blobs.map((b) => url(CONTAINER, b)), ctx());
  expect(seen).toEqual({ batch: 2, singleDelete: 0 });
  expect(out).toHaveLength(300);
  expect(out.filter((o) => o.status !== 'deleted')).toEqual([]);
  expect(out[0].backend).toBe('azure');
  expect(await names(container, 'proj/')).toEqual(['proj/keep.bin']);
}, 60_000);

test('a blob that is not there counts as missing', async () => {
  await upload(container, ['present/a.bin']);
  const out = await deleteFiles([url(CONTAINER, 'absent/x.bin'), url(CONTAINER, 'present/a.bin')], ctx());
  expect(out.map((o) => o.status)).toEqual(['missing', 'deleted']);
});

test('a container not in the configuration is never touched', async () => {
  await upload(foreign, ['d/part-0.parquet']);
  const [o] = await deleteFiles([url(FOREIGN, 'd/part-0.parquet')], ctx());
  expect(o).toMatchObject({ status: 'refused', reason: 'not-allowed' });
  expect(await names(foreign, 'd/')).toEqual(['d/part-0.parquet']);
});

test('a wrong key fails per file and leaves the blobs', async () => {
  await upload(container, ['auth/a.bin']);
  const c = ctx();
  c.storage.azure.containers[0].accountKey = Buffer.from('not the key').toString('base64');
  const [o] = await deleteFiles([url(CONTAINER, 'auth/a.bin')], c);
  expect(o.status).toBe('failed');
  expect(o.reason).toMatch(/403|AuthorizationFailure|Authentication|Signature/i);
  expect(await names(container, 'auth/')).toEqual(['auth/a.bin']);
}, 60_000);

test('falls back to single deletes when the endpoint has no batch support', async () => {
  const blobs = ['fb/a.bin', 'fb/b.bin', 'fb/c.bin'];
  await upload(container, blobs);
  refuseBatch = true;
  const out = await deleteFiles([...blobs.map((b) => url(CONTAINER, b)), url(CONTAINER, 'fb/never.bin')], ctx());
  expect(out.map((o) => o.status)).toEqual(['deleted', 'deleted', 'deleted', 'missing']);
  expect(seen.batch).toBe(1);
  expect(seen.singleDelete).toBe(4);
  expect(await names(container, 'fb/')).toEqual([]);
});
