import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { mkdtempSync, mkdirSync, writeFileSync, existsSync, readFileSync, symlinkSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { createFilesHandler } from '../src/server/files/index.js';

/** The file server handler on a plain node HTTP server (real HTTP, port 0). */

const TOKEN = 'good-token';
let server: http.Server;
let base: string;
let root: string;
let outside: string;

function authorize(req: http.IncomingMessage): boolean {
  return req.headers.authorization === `Bearer ${TOKEN}` || (req.headers.cookie ?? '').includes(`clearml_token_basic=${TOKEN}`);
}

const auth = { authorization: `Bearer ${TOKEN}` };

async function send(method: string, p: string, init: { headers?: Record<string, string>; body?: string | Buffer } = {}) {
  // fetch would normalise `..` away: raw paths go through node:http
  return new Promise<{ status: number; body: string; headers: http.IncomingHttpHeaders }>((resolve, reject) => {
    const url = new URL(base);
    const req = http.request(
      { host: url.hostname, port: url.port, method, path: p, headers: { ...auth, ...(init.headers ?? {}) } },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks).toString('utf8'), headers: res.headers }));
      },
    );
    req.on('error', reject);
    if (typeof init.body === 'string') req.end(init.body);
    else req.end();
  });
}

async function uploadParts(parts: Array<{ field: string; content: string; filename?: string | null }>, headers = auth) {
  const form = new FormData();
  for (const p of parts) {
    if (p.filename === null) form.append(p.field, p.content);
    else form.append(p.field, new Blob([p.content], { type: 'application/json' }), p.filename ?? p.field);
  }
  return fetch(`${base}/`, { method: 'POST', body: form, headers });
}

beforeAll(async () => {
  const dir = mkdtempSync(path.join(tmpdir(), 'files-test-'));
  root = path.join(dir, 'root');
  outside = path.join(dir, 'outside');
  mkdirSync(outside);
  writeFileSync(path.join(outside, 'secret.txt'), 'secret');
  server = http.createServer(createFilesHandler({ rootDir: root, authorize }));
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});

afterAll(async () => {
  await new Promise<void>((r) => server.close(() => r()));
  rmSync(path.dirname(root), { recursive: true, force: true });
});

describe('file server', () => {
  test('ping answers OK without credentials, 401 with bad ones', async () => {
    const ok = await fetch(`${base}/`);
    expect(ok.status).toBe(200);
    expect(await ok.text()).toBe('OK');
    const bad = await fetch(`${base}/`, { headers: { authorization: 'Bearer nope' } });
    expect(bad.status).toBe(401);
  });

  test('upload stores each file part under its field name and lists the stored paths', async () => {
    const res = await uploadParts([
      { field: '/DevOps/Cleanup Service.abc/artifacts/summary/summary.json', content: '{"a": 1}' },
      { field: 'proj/t.1/metrics/img/series/img_series_00000000.jpeg', content: 'JPEG' },
      { field: 'note', content: 'a plain form field is ignored', filename: null },
    ]);
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual([
      'DevOps/Cleanup Service.abc/artifacts/summary/summary.json',
      'proj/t.1/metrics/img/series/img_series_00000000.jpeg',
    ]);
    expect(readFileSync(path.join(root, 'DevOps/Cleanup Service.abc/artifacts/summary/summary.json'), 'utf8')).toBe('{"a": 1}');
    expect(existsSync(path.join(root, 'note'))).toBe(false);
  });

  test('download (percent-encoded path), HEAD size, 404 when missing', async () => {
    const get = await fetch(`${base}/DevOps/Cleanup%20Service.abc/artifacts/summary/summary.json`, { headers: auth });
    expect(get.status).toBe(200);
    expect(get.headers.get('content-type')).toBe('application/json');
    expect(await get.text()).toBe('{"a": 1}');
    const head = await fetch(`${base}/DevOps/Cleanup%20Service.abc/artifacts/summary/summary.json`, { method: 'HEAD', headers: auth });
    expect(head.status).toBe(200);
    expect(head.headers.get('content-length')).toBe('8');
    const missing = await fetch(`${base}/nope/x.bin`, { headers: auth });
    expect(missing.status).toBe(404);
  });

  test('every route except the ping needs authorization', async () => {
    expect((await fetch(`${base}/proj/t.1/metrics/img/series/img_series_00000000.jpeg`)).status).toBe(401);
    expect((await fetch(`${base}/proj/x`, { method: 'DELETE' })).status).toBe(401);
    expect((await uploadParts([{ field: 'a/b.txt', content: 'x' }], {} as typeof auth)).status).toBe(401);
    const cookie = await fetch(`${base}/proj/t.1/metrics/img/series/img_series_00000000.jpeg`, {
      headers: { cookie: `clearml_token_basic=${TOKEN}` },
    });
    expect(cookie.status).toBe(200);
    expect(existsSync(path.join(root, 'a/b.txt'))).toBe(false);
  });

  test('DELETE answers the path, then 404; a folder is not a file', async () => {
    const del = await fetch(`${base}/proj/t.1/metrics/img/series/img_series_00000000.jpeg`, { method: 'DELETE', headers: auth });
    expect(del.status).toBe(200);
    expect(await del.json()).toBe('proj/t.1/metrics/img/series/img_series_00000000.jpeg');
    expect(existsSync(path.join(root, 'proj/t.1/metrics/img/series/img_series_00000000.jpeg'))).toBe(false);
    const again = await fetch(`${base}/proj/t.1/metrics/img/series/img_series_00000000.jpeg`, { method: 'DELETE', headers: auth });
    expect(again.status).toBe(404);
    const folder = await fetch(`${base}/proj`, { method: 'DELETE', headers: auth });
    expect(folder.status).toBe(404);
    expect(existsSync(path.join(root, 'proj'))).toBe(true);
  });

  test('traversal is refused: .., encoded .., absolute upload names, symlinks out of the root', async () => {
    symlinkSync(outside, path.join(root, 'escape'));
    symlinkSync(path.join(outside, 'secret.txt'), path.join(root, 'secret-link.txt'));
    for (const p of ['/../outside/secret.txt', '/%2e%2e/outside/secret.txt', '/a/%2E%2E/%2E%2E/outside/secret.txt', '/..%2foutside%2fsecret.txt']) {
      const get = await send('GET', p);
      expect([400, 403]).toContain(get.status);
      expect(get.body).not.toContain('secret\n');
      const del = await send('DELETE', p);
      expect([400, 403]).toContain(del.status);
    }
    expect((await send('GET', '/escape/secret.txt')).status).toBe(403);
    expect((await send('GET', '/secret-link.txt')).status).toBe(403);
    expect((await send('DELETE', '/escape/secret.txt')).status).toBe(403);
    expect(existsSync(path.join(outside, 'secret.txt'))).toBe(true);

    const up = await uploadParts([{ field: '../outside/planted.txt', content: 'x' }]);
    expect(up.status).toBe(403);
    const viaLink = await uploadParts([{ field: 'escape/planted.txt', content: 'x' }]);
    expect(viaLink.status).toBe(403);
    expect(existsSync(path.join(outside, 'planted.txt'))).toBe(false);
    // a leading slash is stripped, never treated as the filesystem root
    const abs = await uploadParts([{ field: `${outside}/abs.txt`, content: 'x' }]);
    expect(abs.status).toBe(200);
    expect(existsSync(path.join(outside, 'abs.txt'))).toBe(false);
    expect(existsSync(path.join(root, outside, 'abs.txt'))).toBe(true);
  });

  test('delete_many: files and whole folders, errors grouped by message', async () => {
    await uploadParts([
      { field: 'p/t.2/artifacts/a/one.txt', content: '1' },
      { field: 'p/t.2/metrics/m/v/img_0.png', content: '2' },
      { field: 'p/t.2/metrics/m/v/img_1.png', content: '3' },
      { field: 'p/keep/other.txt', content: '4' },
    ]);
    const res = await fetch(`${base}/delete_many`, {
      method: 'POST',
      headers: { ...auth, 'content-type': 'application/json' },
      body: JSON.stringify({
        files: ['p/t.2/artifacts/a/one.txt', '/p/t.2/metrics', 'p/t.2/missing.txt', '/', '../outside/secret.txt', 'escape'],
      }),
    });
    expect(res.status).toBe(200);
    const out = (await res.json()) as { deleted: Record<string, string>; errors: Record<string, string[]> };
    expect(out.deleted).toEqual({
      'p/t.2/artifacts/a/one.txt': 'p/t.2/artifacts/a/one.txt',
      '/p/t.2/metrics': '/p/t.2/metrics',
    });
    expect(out.errors['Not found']).toEqual(['p/t.2/missing.txt']);
    expect(out.errors['Empty path not allowed']).toEqual(['/']);
    expect(out.errors['Path outside the storage root']).toEqual(['../outside/secret.txt', 'escape']);
    expect(existsSync(path.join(root, 'p/t.2/metrics'))).toBe(false);
    expect(existsSync(path.join(root, 'p/keep/other.txt'))).toBe(true);
    expect(existsSync(path.join(outside, 'secret.txt'))).toBe(true);
  });

  test('delete_many refuses symlinks out of the root, also through a symlinked folder, in one request with plain files', async () => {
    await uploadParts([{ field: 'r/plain.txt', content: '1' }, { field: 'r/sub/two.txt', content: '2' }]);
    const res = await fetch(`${base}/delete_many`, {
      method: 'POST',
      headers: auth,
      // the traversal test above left root/escape -> outside and root/secret-link.txt -> outside/secret.txt
      body: JSON.stringify({ files: ['r/plain.txt', 'escape/secret.txt', 'secret-link.txt', 'escape/sub/x.txt', 'r/sub/two.txt'] }),
    });
    const out = (await res.json()) as { deleted: Record<string, string>; errors: Record<string, string[]> };
    expect(out.deleted).toEqual({ 'r/plain.txt': 'r/plain.txt', 'r/sub/two.txt': 'r/sub/two.txt' });
    expect(out.errors).toEqual({ 'Path outside the storage root': ['escape/secret.txt', 'secret-link.txt', 'escape/sub/x.txt'] });
    expect(existsSync(path.join(outside, 'secret.txt'))).toBe(true);
    expect(existsSync(path.join(root, 'secret-link.txt'))).toBe(true);
  });

  test('delete_many decodes like unquote_plus and rejects a missing list', async () => {
    await uploadParts([{ field: 'q/with space/a b.txt', content: 'x' }]);
    const res = await fetch(`${base}/delete_many`, {
      method: 'POST',
      headers: auth,
      body: JSON.stringify({ files: ['q/with+space/a%20b.txt'] }),
    });
    expect(await res.json()).toEqual({ deleted: { 'q/with+space/a%20b.txt': 'q/with space/a b.txt' }, errors: {} });
    const empty = await fetch(`${base}/delete_many`, { method: 'POST', headers: auth, body: JSON.stringify({ files: [] }) });
    expect(empty.status).toBe(400);
    const junk = await fetch(`${base}/delete_many`, { method: 'POST', headers: auth, body: '{not json' });
    expect(junk.status).toBe(400);
  });

  test('Content-Encoding is refused with 415', async () => {
    const res = await fetch(`${base}/delete_many`, {
      method: 'POST',
      headers: { ...auth, 'content-encoding': 'gzip' },
      body: 'x',
    });
    expect(res.status).toBe(415);
  });
});
