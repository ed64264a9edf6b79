import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { deleteFiles } from '../src/storage/index.js';
import type { StorageConfig } from '../src/config/types.js';

const emptyStorage: StorageConfig = { s3: { credentials: [] }, gcs: { credentials: [] }, azure: { containers: [] } };

let dir: string;
let root: string;
let outside: string;

beforeEach(async () => {
  dir = await mkdtemp(path.join(tmpdir(), 'storage-local-'));
  root = path.join(dir, 'clearml');
  outside = path.join(dir, 'outside');
  await mkdir(path.join(root, 'proj', 'task.1', 'artifacts', 'a'), { recursive: true });
  await mkdir(path.join(root, 'proj', 'task.2', 'models'), { recursive: true });
  await mkdir(outside, { recursive: true });
  await writeFile(path.join(root, 'proj', 'task.1', 'artifacts', 'a', 'data.bin'), 'x'.repeat(10));
  await writeFile(path.join(root, 'proj', 'task.2', 'models', 'm.pt'), 'y'.repeat(5));
  await writeFile(path.join(root, 'proj', 'task.2', 'models', 'keep.pt'), 'z');
  await writeFile(path.join(outside, 'secret.txt'), 's');
});

afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

const ctx = () => ({ storage: emptyStorage, allowRoots: [`file://${root}`] });

test('deletes files, prunes folders left empty, keeps the allowed root', async () => {
  const out = await deleteFiles(
    [`file://${root}/proj/task.1/artifacts/a/data.bin`, `${root}/proj/task.2/models/m.pt`],
    ctx(),
  );
  expect(out).toEqual([
    { url: `file://${root}/proj/task.1/artifacts/a/data.bin`, backend: 'file', status: 'deleted', bytes: 10 },
    { url: `${root}/proj/task.2/models/m.pt`, backend: 'file', status: 'deleted', bytes: 5 },
  ]);
  // task.1 emptied completely: every folder up to the root goes, the root and proj (not empty) stay
  expect(existsSync(path.join(root, 'proj', 'task.1'))).toBe(false);
  expect(existsSync(path.join(root, 'proj', 'task.2', 'models', 'keep.pt'))).toBe(true);
  expect(existsSync(root)).toBe(true);
});

test('the root survives even when everything below it is gone', async () => {
  await deleteFiles([`file://${root}/proj/task.1/artifacts/a/data.bin`, `file://${root}/proj/task.2/models/m.pt`, `file://${root}/proj/task.2/models/keep.pt`], ctx());
  expect(existsSync(path.join(root, 'proj'))).toBe(false);
  expect(existsSync(root)).toBe(true);
});

test('a missing file is done, not failed', async () => {
  const [o] = await deleteFiles([`file://${root}/proj/nothing/here.bin`], ctx());
  expect(o.status).toBe('missing');
});

test('refuses folders, paths outside the root, traversal and symlinked escapes', async () => {
  await symlink(outside, path.join(root, 'link'));
  const out = await deleteFiles(
    [
      `file://${root}/proj/task.2/models`,
      `file://${outside}/secret.txt`,
      `file://${root}/../outside/secret.txt`,
      `file://${root}/link/secret.txt`,
    ],
    ctx(),
  );
  expect(out.map((o) => [o.status, o.reason])).toEqual([
    ['refused', 'folder'],
    ['refused', 'not-allowed'],
    ['refused', 'not-allowed'],
    ['refused', 'not-allowed'],
  ]);
  expect(existsSync(path.join(outside, 'secret.txt'))).toBe(true);
  expect(existsSync(path.join(root, 'proj', 'task.2', 'models', 'm.pt'))).toBe(true);
});

test('mixed outcomes come back in input order, duplicates included', async () => {
  const good = `file://${root}/proj/task.2/models/m.pt`;
  const out = await deleteFiles([good, `file://${outside}/secret.txt`, `file://${root}/proj/gone.bin`, good], ctx());
  expect(out.map((o) => o.status)).toEqual(['deleted', 'refused', 'missing', 'deleted']);
  expect(out[3].url).toBe(good);
  expect(existsSync(path.join(outside, 'secret.txt'))).toBe(true);
});
