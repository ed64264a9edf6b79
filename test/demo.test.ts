/** Smoke test of `npm run demo`: the script runs end to end against dist/ (npm test builds it first). */
import type { ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import path from 'node:path';
import { ensureBuilt, startScript } from './support/node-script.js';

const root = process.cwd();
let child: ChildProcess | undefined;

beforeAll(() => ensureBuilt(path.join('seed', 'index.js')), 120_000);

afterAll(() => {
  if (child?.pid && child.exitCode === null) process.kill(child.pid, 'SIGKILL');
});

test('the demo seeds, runs one cleanup pass through the CLI, and its checks hold', async () => {
  expect(existsSync(path.join(root, 'dist', 'cli.js'))).toBe(true);
  const run = startScript('demo.js', [], { DEMO_TASKS: '30', DEMO_SEED: '5' });
  child = run.child;
  const { code, out } = await run.result;
  expect(out).toContain('Seeded 30 tasks');
  expect(out).toMatch(/Summary: deleted \d+ tasks/);
  expect(out).toContain('eligible tasks deleted');
  expect(out).not.toContain('FAIL');
  expect(code).toBe(0);
}, 90_000);
