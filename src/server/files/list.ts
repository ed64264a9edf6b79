import { lstat, readdir } from 'node:fs/promises';
import type http from 'node:http';
import path from 'node:path';
import type { SafeRoot } from './safe-path.js';

/**
 * `GET /_embedded/list?prefix=<folder>&after=<path>&limit=<n>`: an extension of the embedded file
 * server (the real ClearML file server has no listing), used by `clearml-cleanup orphans` and
 * `report`. Answers `{files: [{path, size, mtime}], next}`: paths relative to the storage root in
 * sorted order, `next` the `after` of the following page (null at the end).
 */
export const LIST_ROUTE = '/_embedded/list';

const MAX_LIMIT = 10_000;

/**
 * Sorted depth-first walk from `dir`, yielding files after `after` (relative path, may be '').
 * Folders wholly before the cursor are skipped without being read, so paging stays linear.
 */
async function* walk(dir: string, rel: string, after: string): AsyncGenerator<{ path: string; size: number; mtime: number }> {
  let entries;
  try {
    entries = (await readdir(dir, { withFileTypes: true })).sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  } catch {
    return;
  }
  for (const e of entries) {
    const r = rel ? `${rel}/${e.name}` : e.name;
    if (e.isDirectory()) {
      // the cursor lies inside, after, or before this folder
      if (after && !after.startsWith(`${r}/`) && comparePaths(r, after) < 0) continue;
      yield* walk(path.join(dir, e.name), r, after.startsWith(`${r}/`) ? after : '');
    } else if (e.isFile()) {
      if (after && comparePaths(r, after) <= 0) continue;
      let st;
      try {
        st = await lstat(path.join(dir, e.name));
      } catch {
        continue;
      }
      yield { path: r, size: st.size, mtime: Math.round(st.mtimeMs) };
    }
  }
}

/** The walk's order: segment by segment, each as sorted by readdir+sort. */
function comparePaths(a: string, b: string): number {
  const x = a.split('/');
  const y = b.split('/');
  for (let i = 0; i < Math.min(x.length, y.length); i++) if (x[i] !== y[i]) return x[i] < y[i] ? -1 : 1;
  return x.length - y.length;
}

export async function listFiles(root: SafeRoot, url: URL, res: http.ServerResponse): Promise<void> {
  const prefix = (url.searchParams.get('prefix') ?? '').replace(/^\/+|\/+$/g, '');
  const after = url.searchParams.get('after') ?? '';
  const limit = Math.max(1, Math.min(MAX_LIMIT, Number(url.searchParams.get('limit')) || 1000));
  let start = root.root;
  if (prefix) {
    const r = root.resolve(prefix);
    if (!r.ok) {
      res.writeHead(r.status, { 'content-type': 'text/plain' });
      res.end(r.reason);
      return;
    }
    start = r.full;
  }
  const files: Array<{ path: string; size: number; mtime: number }> = [];
  let next: string | null = null;
  // The cursor is compared, not looked for: the file it names may have been deleted since.
  for await (const f of walk(start, prefix, after)) {
    if (files.length === limit) {
      next = files[files.length - 1].path;
      break;
    }
    files.push(f);
  }
  const body = JSON.stringify({ files, next });
  res.writeHead(200, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) });
  res.end(body);
}
