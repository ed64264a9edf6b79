/** Storage listings (orphan sweep) end when a server hands back a cursor it gave before, instead of looping. */
import type { Got } from 'got';
import { listFileServerHttp } from '../src/storage/list.js';
import type { AllowRoot } from '../src/storage/allow-list.js';

test('file-server listing: a repeated "next" cursor ends the listing', async () => {
  const root: AllowRoot = { source: 'http://files', backend: 'fileserver', scope: 'http://files', segments: [], baseUrl: 'http://files' };
  const pages: Record<string, { files: Array<{ path: string; size: number; mtime: number }>; next: string | null }> = {
    '': { files: [{ path: 'p/a.bin', size: 1, mtime: 1 }], next: 'c1' },
    c1: { files: [{ path: 'p/b.bin', size: 1, mtime: 1 }], next: 'c2' },
    // a broken server: back to an earlier cursor
    c2: { files: [{ path: 'p/c.bin', size: 1, mtime: 1 }], next: 'c1' },
  };
  let calls = 0;
  const http = (async (url: string) => {
    calls++;
    if (calls > 10) throw new Error('the listing loops');
    const after = new URL(url).searchParams.get('after') ?? '';
    return { statusCode: 200, body: JSON.stringify(pages[after]) };
  }) as unknown as Got;
  const seen: string[] = [];
  for await (const f of listFileServerHttp(root, root, http)) seen.push(f.url);
  expect(seen).toEqual(['http://files/p/a.bin', 'http://files/p/b.bin', 'http://files/p/c.bin']);
  expect(calls).toBe(3);
});
