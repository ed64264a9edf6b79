/**
 * file:// deletion: unlink, then prune the folders it left empty, up to (never including) the
 * allowed root. The official SDK leaves those folders behind.
 */
import { lstat, realpath, rmdir, unlink } from 'node:fs/promises';
import path from 'node:path';
import type { FileLocation } from './url.js';
import { errorText, type FileOutcome } from './outcome.js';
import { outcomeOf, type Limit, type Target } from './target.js';

function rootPath(t: Target<FileLocation>): string {
  return '/' + t.root.segments.join('/');
}

function isInside(child: string, parent: string): boolean {
  const rel = path.relative(parent, child);
  return rel !== '' && !rel.startsWith('..') && !path.isAbsolute(rel);
}

/** A symlinked folder under the root could point anywhere: resolve both before trusting the path. */
async function resolvesInsideRoot(file: string, root: string): Promise<boolean> {
  let realRoot: string;
  let realParent: string;
  try {
    realRoot = await realpath(root);
    realParent = await realpath(path.dirname(file));
  } catch {
    return true; // parent or root gone: the unlink will say ENOENT, nothing outside is touched
  }
  return realParent === realRoot || isInside(realParent, realRoot);
}

async function pruneEmptyParents(file: string, root: string): Promise<void> {
  let dir = path.dirname(file);
  while (isInside(dir, root)) {
    try {
      await rmdir(dir);
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code;
      // ENOENT: a concurrent delete in the same folder got there first; keep climbing.
      if (code !== 'ENOENT') return;
    }
    dir = path.dirname(dir);
  }
}

async function deleteOne(t: Target<FileLocation>): Promise<FileOutcome> {
  const file = path.posix.normalize(t.loc.path);
  const root = rootPath(t);
  if (!isInside(file, root)) return outcomeOf(t.loc, 'refused', { reason: 'not-allowed', detail: 'outside the allowed root' });
  try {
    if (!(await resolvesInsideRoot(file, root))) {
      return outcomeOf(t.loc, 'refused', { reason: 'not-allowed', detail: 'a symlinked folder leads outside the allowed root' });
    }
    let bytes: number;
    try {
      const st = await lstat(file);
      if (st.isDirectory()) return outcomeOf(t.loc, 'refused', { reason: 'folder', detail: 'is a directory' });
      bytes = st.size;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT' || (err as NodeJS.ErrnoException).code === 'ENOTDIR') {
        return outcomeOf(t.loc, 'missing');
      }
      throw err;
    }
    try {
      await unlink(file);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return outcomeOf(t.loc, 'missing');
      throw err;
    }
    await pruneEmptyParents(file, root);
    return outcomeOf(t.loc, 'deleted', { bytes });
  } catch (err) {
    return outcomeOf(t.loc, 'failed', { reason: errorText(err) });
  }
}

export async function deleteLocalFiles(targets: Target<FileLocation>[], limit: Limit): Promise<FileOutcome[]> {
  return Promise.all(targets.map((t) => limit(() => deleteOne(t))));
}
