import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { deleteFiles, type StorageContext } from '../src/storage/index.js';

/**
 * No GCS emulator ships on npm: a small JSON API endpoint stands in, holding objects in a set,
 * and the SDK is pointed at it through apiEndpoint.
 */
let server: Server;
let endpoint: string;
const objects = new Set<string>();
const requests: Array<{ method: string; path: string; auth?: string }> = [];

function send(res: import('node:http').ServerResponse, status: number, body?: unknown): void {
  if (body === undefined) {
    res.writeHead(status);
    res.end();
    return;
  }
  res.writeHead(status, { 'content-type': 'application/json' });
  res.end(JSON.stringify(body));
}

function handle(req: IncomingMessage, res: import('node:http').ServerResponse): void {
  const path = (req.url ?? '').split('?')[0];
  requests.push({ method: req.method ?? '', path, auth: req.headers.authorization });
  const m = /^\/storage\/v1\/b\/([^/]+)\/o\/([^/]+)$/.exec(path);
  if (req.method !== 'DELETE' || !m) return send(res, 400, { error: { code: 400, message: 'unexpected request' } });
  const bucket = decodeURIComponent(m[1]);
  const name = decodeURIComponent(m[2]);
  if (bucket === 'locked-bucket') return send(res, 403, { error: { code: 403, message: 'caller does not have storage.objects.delete access' } });
  if (!objects.delete(`${bucket}/${name}`)) return send(res, 404, { error: { code: 404, message: 'No such object' } });
  send(res, 204);
}

beforeAll(async () => {
  server = createServer(handle);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  endpoint = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});

afterAll(async () => {
  await new Promise((resolve) => server.close(resolve));
});

beforeEach(() => {
  requests.length = 0;
});

function ctx(): StorageContext {
  return {
    storage: {
      s3: { credentials: [] },
      gcs: { apiEndpoint: endpoint, project: 'test-project', credentials: [{ bucket: 'clearml-gcs' }, { bucket: 'locked-bucket' }] },
      azure: { containers: [] },
    },
  };
}

test('one DELETE per object on the JSON API, names encoded as one path segment', async () => {
  objects.add('clearml-gcs/p/task.1/artifacts/a/data file+1.bin');
  objects.add('clearml-gcs/p/task.1/models/m.pt');
  const out = await deleteFiles(
    ['gs://clearml-gcs/p/task.1/artifacts/a/data file+1.bin', 'gs://clearml-gcs/p/task.1/models/m.pt'],
    ctx(),
  );
  expect(out.map((o) => [o.backend, o.status])).toEqual([
    ['gs', 'deleted'],
    ['gs', 'deleted'],
  ]);
  expect(requests.map((r) => `${r.method} ${r.path}`).sort()).toEqual([
    'DELETE /storage/v1/b/clearml-gcs/o/p%2Ftask.1%2Fartifacts%2Fa%2Fdata%20file%2B1.bin',
    'DELETE /storage/v1/b/clearml-gcs/o/p%2Ftask.1%2Fmodels%2Fm.pt',
  ]);
  expect(objects.size).toBe(0);
});

test('404 maps to missing', async () => {
  const [o] = await deleteFiles(['gs://clearml-gcs/never/there.bin'], ctx());
  expect(o.status).toBe('missing');
  expect(requests).toHaveLength(1);
});

test('a refusal from the service is a per-file failure', async () => {
  objects.add('clearml-gcs/ok.bin');
  const out = await deleteFiles(['gs://locked-bucket/x.bin', 'gs://clearml-gcs/ok.bin'], ctx());
  expect(out[0]).toMatchObject({ status: 'failed', reason: expect.stringMatching(/storage.objects.delete/) });
  expect(out[1].status).toBe('deleted');
});

test('a bucket not in the configuration gets no request at all', async () => {
  const [o] = await deleteFiles(['gs://public-datasets/imagenet/train.tar'], ctx());
  expect(o).toMatchObject({ status: 'refused', reason: 'not-allowed' });
  expect(requests).toEqual([]);
});
