/**
 * `npm run chaos` in small, with a fixed seed: 60 seeded tasks, the real CLI SIGKILLed 5 times at
 * seeded moments (most inside the deleting), then run to completion. The three figures must be 0:
 * eligible tasks left, orphaned files, kept tasks or files touched (also right after every kill).
 */
import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { buildDist } from './support/node-script.js';

let dir: string;

beforeAll(async () => {
  buildDist();
  dir = await mkdtemp(path.join(tmpdir(), 'chaos-test-'));
}, 180_000);

afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

test('5 SIGKILLs at seeded moments: 0 eligible left, 0 orphaned files, 0 kept touched', async () => {
  const json = path.join(dir, 'chaos.json');
  const child = spawn(process.execPath, ['scripts/chaos.js', '--seed', '7', '--kills', '5', '--tasks', '60', '--batch-size', '2', '--json', json], {
    cwd: path.resolve('.'),
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  child.stdout!.on('data', (b: Buffer) => (out += b.toString()));
  child.stderr!.on('data', (b: Buffer) => (out += b.toString()));
  const timer = setTimeout(() => child.pid && process.kill(child.pid, 'SIGKILL'), 100_000);
  const code = await new Promise<number | null>((r) => child.once('close', r));
  clearTimeout(timer);
  expect({ code, out }).toEqual({ code: 0, out });
  const f = JSON.parse(readFileSync(json, 'utf8'));
  expect(f.kills).toBeGreaterThanOrEqual(5);
  expect(f.killsMidDeletion).toBeGreaterThanOrEqual(2);
  expect(f.eligible).toBeGreaterThan(0);
  expect(f.kept).toBeGreaterThan(0);
  expect(f.eligibleLeft).toBe(0);
  expect(f.orphanedFiles).toBe(0);
  expect(f.keptTasksTouched).toBe(0);
  expect(f.keptFilesTouched).toBe(0);
  expect(f.maxOrphansAfterAKill).toBe(0);
  expect(f.maxKeptTouchedAfterAKill).toBe(0);
  expect(out).toMatch(/chaos: OK/);
}, 120_000);
