import { mkdtemp, rm } from 'node:fs/promises';
import { createServer, request, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { CreateBucketCommand, ListObjectsV2Command, PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import S3rver from 's3rver';
import pLimit from 'p-limit';
import { createStorage, deleteFiles, type StorageContext } from '../src/storage/index.js';

let server: S3rver;
let http: Server;
/** keys per multi-object delete request, and whether Content-MD5 came along */
const deleteCalls: Array<{ id: string; keys: number; md5: boolean }> = [];
let dir: string;
let host: string;
let client: S3Client;

const BUCKET = 'clearml-bkt';
const OTHER = 'someone-elses';

beforeAll(async () => {
  dir = await mkdtemp(path.join(tmpdir(), 's3rver-'));
  server = new S3rver({ address: '127.0.0.1', port: 0, silent: true, directory: dir });
  const s3rverPort = (await server.run()).port;
  // A pass-through in front of s3rver that records each multi-object delete request.
  http = createServer((req, res) => {
    const parts: Buffer[] = [];
    req.on('data', (b: Buffer) => parts.push(b));
    req.on('end', () => {
      const body = Buffer.concat(parts);
      if (req.method === 'POST' && /[?&]delete(=|&|$)/.test(req.url ?? '')) {
        deleteCalls.push({ id: String(req.headers['amz-sdk-invocation-id']), keys: (body.toString().match(/<Key>/g) ?? []).length, md5: !!req.headers['content-md5'] });
      }
      const upstream = request(
        { host: '127.0.0.1', port: s3rverPort, method: req.method, path: req.url, headers: req.headers },
        (up) => {
          res.writeHead(up.statusCode ?? 502, up.headers);
          up.pipe(res);
        },
      );
      upstream.on('error', () => res.destroy());
      upstream.end(body);
    });
  });
  await new Promise<void>((resolve) => http.listen(0, '127.0.0.1', resolve));
  host = `127.0.0.1:${(http.address() as AddressInfo).port}`;
  client = new S3Client({
    endpoint: `http://${host}`,
    forcePathStyle: true,
    region: 'us-east-1',
    credentials: { accessKeyId: 'S3RVER', secretAccessKey: 'S3RVER' },
  });
  await client.send(new CreateBucketCommand({ Bucket: BUCKET }));
  await client.send(new CreateBucketCommand({ Bucket: OTHER }));
});

afterAll(async () => {
  client?.destroy();
  await new Promise((resolve) => http?.close(resolve));
  await server?.close();
  await rm(dir, { recursive: true, force: true });
});

async function put(bucket: string, keys: string[]): Promise<void> {
  const limit = pLimit(32);
  await Promise.all(keys.map((Key) => limit(() => client.send(new PutObjectCommand({ Bucket: bucket, Key, Body: 'data' })))));
}

async function list(bucket: string, prefix: string): Promise<string[]> {
  const keys: string[] = [];
  let token: string | undefined;
  do {
    const res = await client.send(new ListObjectsV2Command({ Bucket: bucket, Prefix: prefix, ContinuationToken: token }));
    keys.push(...(res.Contents ?? []).map((c) => c.Key!));
    token = res.NextContinuationToken;
  } while (token);
  return keys;
}

function ctx(extra: Partial<StorageContext> = {}): StorageContext {
  return {
    storage: {
      s3: { credentials: [{ bucket: BUCKET, host, key: 'S3RVER', secret: 'S3RVER', secure: false }] },
      gcs: { credentials: [] },
      azure: { containers: [] },
    },
    ...extra,
  };
}

const url = (bucket: string, key: string) => `s3://${host}/${bucket}/${key}`;

test('deletes objects on an S3-compatible host configured per bucket', async () => {
  const keys = ['proj/task.1/artifacts/a/a.pkl', 'proj/task.1/models/model weights+v1.pt'];
  await put(BUCKET, keys);
  const out = await deleteFiles(keys.map((k) => url(BUCKET, k)), ctx());
  expect(out.map((o) => [o.backend, o.status])).toEqual([
    ['s3', 'deleted'],
    ['s3', 'deleted'],
  ]);
  expect(await list(BUCKET, 'proj/task.1/')).toEqual([]);
});

test('more than 1,000 keys in one call are split into DeleteObjects chunks', async () => {
  const keys = Array.from({ length: 1205 }, (_, i) => `bulk/task.2/metrics/loss/img_${i}.png`);
  await put(BUCKET, keys);
  await put(BUCKET, ['bulk/keep/me.bin']);
  deleteCalls.length = 0;
  const out = await deleteFiles(keys.map((k) => url(BUCKET, k)), ctx());
  // s3rver's disk store sometimes answers 500 to concurrent deletes; the SDK retries with the same
  // invocation id, so count logical calls.
  const calls = new Map(deleteCalls.map((c) => [c.id, c.keys]));
  expect([...calls.values()].sort((a, b) => a - b)).toEqual([205, 1000]);
  expect(deleteCalls.every((c) => c.md5)).toBe(true);
  expect(out).toHaveLength(1205);
  expect(out.every((o) => o.status === 'deleted')).toBe(true);
  expect(await list(BUCKET, 'bulk/')).toEqual(['bulk/keep/me.bin']);
}, 120_000);

test('a key that does not exist counts as done', async () => {
  const [o] = await deleteFiles([url(BUCKET, 'never/was/there.bin')], ctx());
  expect(['deleted', 'missing']).toContain(o.status);
});

test('a bucket not in the configuration is never touched', async () => {
  await put(OTHER, ['dataset/part-0.parquet']);
  const [o] = await deleteFiles([url(OTHER, 'dataset/part-0.parquet')], ctx());
  expect(o).toMatchObject({ status: 'refused', reason: 'not-allowed' });
  expect(await list(OTHER, 'dataset/')).toEqual(['dataset/part-0.parquet']);
});

test('an allowRoots prefix on an unconfigured bucket: default keys, scheme of the same host, segment match', async () => {
  await put(OTHER, ['clearml/p/x.bin', 'clearml-data/y.bin']);
  const c = ctx({ allowRoots: [`s3://${host}/${OTHER}/clearml`] });
  c.storage.s3.key = 'S3RVER';
  c.storage.s3.secret = 'S3RVER';
  const storage = createStorage(c);
  const out = await storage.deleteFiles([url(OTHER, 'clearml/p/x.bin'), url(OTHER, 'clearml-data/y.bin')]);
  storage.close();
  expect(out.map((o) => o.status)).toEqual(['deleted', 'refused']);
  expect(await list(OTHER, 'clearml')).toEqual(['clearml-data/y.bin']);
});

test('a failing bucket is reported per file, never thrown', async () => {
  const c = ctx();
  c.storage.s3.credentials.push({ bucket: 'no-such-bucket', host, key: 'S3RVER', secret: 'S3RVER', secure: false });
  await put(BUCKET, ['still/fine.bin']);
  const out = await deleteFiles([url('no-such-bucket', 'a/b.bin'), url(BUCKET, 'still/fine.bin')], c);
  expect(out[0]).toMatchObject({ status: 'failed', reason: expect.stringMatching(/NoSuchBucket/) });
  expect(out[1].status).toBe('deleted');
});

test('wrong credentials fail cleanly', async () => {
  const c = ctx();
  // s3rver checks the access key id, not SigV4 signatures
  c.storage.s3.credentials[0] = { ...c.storage.s3.credentials[0], key: 'NOT-A-KEY' };
  await put(BUCKET, ['auth/x.bin']);
  const [o] = await deleteFiles([url(BUCKET, 'auth/x.bin')], c);
  expect(o.status).toBe('failed');
  expect(o.reason).toMatch(/InvalidAccessKeyId/);
  expect(await list(BUCKET, 'auth/')).toEqual(['auth/x.bin']);
});
