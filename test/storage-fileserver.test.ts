import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { startServer, type RunningServer } from '../src/server/index.js';
import { createStorage, deleteFiles, type StorageContext } from '../src/storage/index.js';

let server: RunningServer;
let token: string;

/** Someone else's host: records what reaches it. */
let foreign: Server;
let foreignUrl: string;
const foreignSeen: Array<{ method?: string; url?: string; auth?: string }> = [];

async function login(): Promise<string> {
  const res = await fetch(`${server.apiUrl}/auth.login`, {
    method: 'POST',
    headers: { authorization: `Basic ${Buffer.from(`${server.accessKey}:${server.secretKey}`).toString('base64')}` },
  });
  const body = (await res.json()) as { data: { token: string } };
  return body.data.token;
}

async function upload(paths: string[], content = 'hello'): Promise<void> {
  const form = new FormData();
  for (const p of paths) form.append(p, new Blob([content]), p.split('/').pop());
  const res = await fetch(`${server.filesUrl}/`, { method: 'POST', body: form, headers: { authorization: `Bearer ${token}` } });
  expect(res.status).toBe(200);
}

async function status(path: string): Promise<number> {
  const res = await fetch(`${server.filesUrl}/${path}`, { method: 'HEAD', headers: { authorization: `Bearer ${token}` } });
  return res.status;
}

async function counters(): Promise<Record<string, number>> {
  const res = await fetch(`${server.apiUrl}/_embedded/counters`);
  return ((await res.json()) as { files: Record<string, number> }).files;
}

async function resetCounters(): Promise<void> {
  await fetch(`${server.apiUrl}/_embedded/counters/reset`, { method: 'POST' });
}

beforeAll(async () => {
  server = await startServer({ port: 0, filesPort: 0 });
  token = await login();
  foreign = createServer((req, res) => {
    foreignSeen.push({ method: req.method, url: req.url, auth: req.headers.authorization });
    req.resume();
    // an old file server: no delete_many, single DELETE works
    if (req.url === '/delete_many') {
      res.writeHead(405);
      return res.end();
    }
    if (req.method === 'HEAD') {
      res.writeHead(req.url?.includes('missing') ? 404 : 200, { 'content-length': '3' });
      return res.end();
    }
    res.writeHead(req.url?.includes('missing') ? 404 : 200, { 'content-type': 'application/json' });
    res.end('"ok"');
  });
  await new Promise<void>((resolve) => foreign.listen(0, '127.0.0.1', resolve));
  foreignUrl = `http://127.0.0.1:${(foreign.address() as AddressInfo).port}`;
}, 60_000);

afterAll(async () => {
  await new Promise((resolve) => foreign?.close(resolve));
  await server?.close();
});

beforeEach(async () => {
  foreignSeen.length = 0;
  await resetCounters();
});

function ctx(extra: Partial<StorageContext> = {}): StorageContext {
  return {
    filesServer: server.filesUrl,
    storage: { s3: { credentials: [] }, gcs: { credentials: [] }, azure: { containers: [] } },
    getToken: async () => token,
    ...extra,
  };
}

test('deletes uploaded files through delete_many, one request for the batch, and they are gone', async () => {
  const paths = ['proj/task.a1/artifacts/data/data.csv', 'proj/task.a1/metrics/loss/val x+y/img 1.png'];
  await upload(paths, 'twelve bytes');
  const out = await deleteFiles(paths.map((p) => `${server.filesUrl}/${p.split('/').map(encodeURIComponent).join('/')}`), ctx());
  expect(out.map((o) => [o.backend, o.status])).toEqual([
    ['fileserver', 'deleted'],
    ['fileserver', 'deleted'],
  ]);
  for (const p of paths) expect(await status(p.split('/').map(encodeURIComponent).join('/'))).toBe(404);
  const c = await counters();
  expect(c.delete_many).toBe(1);
  expect(c.delete ?? 0).toBe(0);
});

test('batches by fileServerBatchSize', async () => {
  const paths = Array.from({ length: 7 }, (_, i) => `proj/task.b2/metrics/m/v/img_${i}.png`);
  await upload(paths);
  const out = await deleteFiles(paths.map((p) => `${server.filesUrl}/${p}`), ctx({ fileServerBatchSize: 3 }));
  expect(out.every((o) => o.status === 'deleted')).toBe(true);
  expect((await counters()).delete_many).toBe(3);
});

test('a missing file is done; a folder is never removed', async () => {
  await upload(['proj/task.c3/artifacts/keep/inside.bin']);
  const out = await deleteFiles(
    [`${server.filesUrl}/proj/task.c3/nothing.bin`, `${server.filesUrl}/proj/task.c3/artifacts/keep`, `${server.filesUrl}/proj/task.c3/artifacts/keep/`],
    ctx(),
  );
  expect(out.map((o) => o.status)).toEqual(['missing', 'missing', 'refused']);
  expect(out[2].reason).toBe('folder');
  expect(await status('proj/task.c3/artifacts/keep/inside.bin')).toBe(200);
  // the file name goes into delete_many; the extension-less folder name only ever gets a DELETE
  const c = await counters();
  expect(c.delete_many).toBe(1);
  expect(c.delete).toBe(1);
});

test('an expired token is fetched again once after a 401, not once per file', async () => {
  const paths = Array.from({ length: 5 }, (_, i) => `proj/task.d4/artifacts/x/x${i}.bin`);
  await upload(paths);
  let calls = 0;
  const out = await deleteFiles(paths.map((p) => `${server.filesUrl}/${p}`), ctx({
    getToken: async () => (++calls === 1 ? 'not-a-valid-token' : token),
  }));
  expect(out.every((o) => o.status === 'deleted')).toBe(true);
  expect(calls).toBe(2);
});

test('without a valid token the delete fails and the file stays', async () => {
  await upload(['proj/task.e5/artifacts/x/x.bin']);
  const [o] = await deleteFiles([`${server.filesUrl}/proj/task.e5/artifacts/x/x.bin`], ctx({ getToken: async () => 'bad' }));
  expect(o).toMatchObject({ status: 'failed', reason: expect.stringMatching(/^HTTP 401/) });
  expect(await status('proj/task.e5/artifacts/x/x.bin')).toBe(200);
});

test('traversal and foreign hosts are refused before any request', async () => {
  const out = await deleteFiles(
    [
      `${server.filesUrl}/proj/%2e%2e/%2e%2e/etc/passwd`,
      `${server.filesUrl}/proj/../../etc/passwd`,
      `${foreignUrl}/datasets/imagenet.tar`,
      `${server.filesUrl.replace(/:(\d+)$/, (_, p) => `:${Number(p) + 1}`)}/proj/x.bin`,
    ],
    ctx(),
  );
  expect(out.map((o) => [o.status, o.reason])).toEqual(Array(4).fill(['refused', 'not-allowed']));
  expect(foreignSeen).toEqual([]);
  expect((await counters()).download ?? 0).toBe(0);
});

test('an extra http root without delete_many gets single DELETEs and never the token', async () => {
  const storage = createStorage(ctx({ allowRoots: [foreignUrl] }));
  const out = await storage.deleteFiles([`${foreignUrl}/old/a.bin`, `${foreignUrl}/old/missing.bin`, `${foreignUrl}/old/b.bin`]);
  expect(out.map((o) => o.status)).toEqual(['deleted', 'missing', 'deleted']);
  expect(foreignSeen.filter((r) => r.method === 'DELETE').map((r) => r.url).sort()).toEqual(['/old/a.bin', '/old/b.bin', '/old/missing.bin']);
  expect(foreignSeen.filter((r) => r.url === '/delete_many')).toHaveLength(1);
  expect(foreignSeen.every((r) => r.auth === undefined)).toBe(true);
});

test('the files server token reaches only the files server', async () => {
  await upload(['proj/task.f6/artifacts/x/x.bin']);
  const out = await deleteFiles([`${server.filesUrl}/proj/task.f6/artifacts/x/x.bin`, `${foreignUrl}/y.bin`], ctx({ allowRoots: [foreignUrl] }));
  expect(out.map((o) => o.status)).toEqual(['deleted', 'deleted']);
  expect(foreignSeen.length).toBeGreaterThan(0);
  expect(foreignSeen.every((r) => r.auth === undefined)).toBe(true);
});

test('a flaky file server (500, 503, dropped connections) still ends with every file gone', async () => {
  const flaky = await startServer({ port: 0, filesPort: 0, faultRate: 0.15, faultSeed: 7 });
  try {
    const retry = async <T>(fn: () => Promise<T>, ok: (v: T) => boolean): Promise<T> => {
      for (let i = 0; ; i++) {
        try {
          const v = await fn();
          if (ok(v) || i > 30) return v;
        } catch (err) {
          if (i > 30) throw err;
        }
      }
    };
    const auth = `Basic ${Buffer.from(`${flaky.accessKey}:${flaky.secretKey}`).toString('base64')}`;
    const flakyToken = await retry(
      async () => {
        const res = await fetch(`${flaky.apiUrl}/auth.login`, { method: 'POST', headers: { authorization: auth } });
        return res.status === 200 ? ((await res.json()) as { data: { token: string } }).data.token : '';
      },
      (t) => t !== '',
    );
    const paths = Array.from({ length: 20 }, (_, i) => `proj/task.g7/metrics/m/v/img_${i}.png`);
    for (const p of paths) {
      await retry(async () => {
        const form = new FormData();
        form.append(p, new Blob(['abc']), 'f.png');
        return (await fetch(`${flaky.filesUrl}/`, { method: 'POST', body: form, headers: { authorization: `Bearer ${flakyToken}` } })).status;
      }, (s) => s === 200);
    }
    const out = await deleteFiles(paths.map((p) => `${flaky.filesUrl}/${p}`), {
      filesServer: flaky.filesUrl,
      storage: { s3: { credentials: [] }, gcs: { credentials: [] }, azure: { containers: [] } },
      getToken: async () => flakyToken,
    });
    // a delete_many applied before its answer was lost comes back "Not found" on the retry
    expect(out.every((o) => o.status === 'deleted' || o.status === 'missing')).toBe(true);
    expect(out.filter((o) => o.status === 'deleted').length).toBeGreaterThan(0);
    for (const p of paths) {
      const code = await retry(async () => (await fetch(`${flaky.filesUrl}/${p}`, { method: 'HEAD', headers: { authorization: `Bearer ${flakyToken}` } })).status, (s) => s === 404 || s === 200);
      expect(code).toBe(404);
    }
  } finally {
    await flaky.close();
  }
}, 120_000);

test('a task folder named <task name>.<task id> is never sent to delete_many (it would be removed whole)', async () => {
  const folder = 'proj/train.0123456789abcdef0123456789abcdef';
  await upload([`${folder}/artifacts/a/keep.bin`]);
  const before = await counters();
  const out = await deleteFiles([`${server.filesUrl}/${folder}`], ctx());
  expect(out[0].status).toBe('missing');
  expect(await status(`${folder}/artifacts/a/keep.bin`)).toBe(200);
  const after = await counters();
  expect((after.delete_many ?? 0) - (before.delete_many ?? 0)).toBe(0);
  expect((after.delete ?? 0) - (before.delete ?? 0)).toBe(1);
});
