/** seedServer with an S3 endpoint (s3rver): a few artifacts land on S3 and are registered as s3://bucket/key. */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { GetObjectCommand, S3Client } from '@aws-sdk/client-s3';
import S3rver from 's3rver';
import { startServer } from '../src/server/index.js';
import { ClearMLClient } from '../src/api/client.js';
import { seedServer } from '../src/seed/index.js';
import type { Task } from '../src/types/clearml.js';

let s3: S3rver;
let s3Dir: string;
let endpoint: string;
let server: Awaited<ReturnType<typeof startServer>>;
let client: ClearMLClient;

beforeAll(async () => {
  s3Dir = await mkdtemp(path.join(tmpdir(), 'seed-s3rver-'));
  s3 = new S3rver({ silent: true, directory: s3Dir, port: 0, address: '127.0.0.1' });
  const { port } = await s3.run();
  endpoint = `http://127.0.0.1:${port}`;
  server = await startServer({ port: 0, filesPort: 0 });
  client = new ClearMLClient({ api: { apiServer: server.apiUrl, accessKey: server.accessKey, secretKey: server.secretKey } });
});

afterAll(async () => {
  client?.close();
  await server?.close();
  await s3?.close();
  await rm(s3Dir, { recursive: true, force: true });
});

test('s3 artifacts are uploaded and registered on their tasks', async () => {
  const res = await seedServer(client, { apiUrl: server.apiUrl, filesUrl: server.filesUrl }, {
    tasks: 12, seed: 2, s3: { endpoint, bucket: 'seed-bucket', accessKey: 'S3RVER', secretKey: 'S3RVER', tasks: 3 },
  });
  expect(res.summary.s3Artifacts).toBe(3);
  const uris = res.tasks.flatMap((t) => t.externalUris).filter((u) => u.startsWith('s3://seed-bucket/'));
  expect(uris).toHaveLength(3);

  const tasks = (await client.call<{ tasks: Task[] }>('tasks.get_all', { id: res.tasks.map((t) => t.id), only_fields: ['execution.artifacts'] })).tasks;
  const registered = tasks.flatMap((t) => t.execution?.artifacts ?? []).filter((a) => a.uri?.startsWith('s3://'));
  expect(registered.map((a) => a.uri).sort()).toEqual([...uris].sort());
  expect(registered.every((a) => a.mode === 'output' && a.content_size! > 0)).toBe(true);

  const s3client = new S3Client({ endpoint, forcePathStyle: true, region: 'us-east-1', credentials: { accessKeyId: 'S3RVER', secretAccessKey: 'S3RVER' } });
  try {
    const key = uris[0].slice('s3://seed-bucket/'.length);
    const obj = await s3client.send(new GetObjectCommand({ Bucket: 'seed-bucket', Key: key }));
    const body = await obj.Body!.transformToByteArray();
    expect(body.length).toBe(registered.find((a) => a.uri === uris[0])!.content_size);
  } finally {
    s3client.destroy();
  }
});
