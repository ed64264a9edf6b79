/**
 * SpillMap: the reference index's bounded-memory map. The same answers before and after it moves
 * to disk, first write wins, and its temporary file is removed on close.
 */
import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { SpillMap } from '../src/cleanup/spill-map.js';

let dir: string;
beforeEach(() => {
  dir = mkdtempSync(path.join(tmpdir(), 'spill-map-'));
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

test('stays in memory below its budget', () => {
  const m = new SpillMap({ maxInMemory: 10, dir });
  for (let i = 0; i < 9; i++) expect(m.setIfAbsent(`k${i}`, i)).toBe(true);
  expect(m.spilled).toBe(false);
  expect(readdirSync(dir)).toEqual([]);
  expect(m.get('k3')).toBe(3);
  m.close();
});

test('moves to a file at its budget and answers as before: first write wins, misses stay misses', () => {
  const m = new SpillMap({ maxInMemory: 100, dir });
  const n = 50_000; // past the in-memory budget and past more than one flush to disk
  for (let i = 0; i < n; i++) m.setIfAbsent(`key-${i}`, i);
  expect(m.spilled).toBe(true);
  expect(readdirSync(dir)).toHaveLength(1);
  expect(m.size).toBe(n);
  // first write wins, in memory (pending) and on disk alike
  expect(m.setIfAbsent('key-0', -1)).toBe(false);
  expect(m.setIfAbsent(`key-${n - 1}`, -1)).toBe(false);
  expect(m.size).toBe(n);
  for (const i of [0, 1, 99, 100, 101, 20_000, 20_001, n - 1]) expect(m.get(`key-${i}`)).toBe(i);
  expect(m.get('key-missing')).toBeUndefined();
  expect(m.has(`key-${n}`)).toBe(false);
  expect(m.setIfAbsent(`key-${n}`, -7)).toBe(true);
  expect(m.get(`key-${n}`)).toBe(-7);
  m.close();
  expect(readdirSync(dir)).toEqual([]);
  expect(m.size).toBe(0);
  expect(m.get('key-1')).toBeUndefined();
});
