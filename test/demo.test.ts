/** Smoke test of `npm run demo`: the script runs end to end against dist/ (npm test builds it first). */
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import path from 'node:path';

const root = process.cwd();
let child: ChildProcess | undefined;

beforeAll(() => {
  if (!existsSync(path.join(root, 'dist', 'seed', 'index.js'))) {
    // `npm test` builds first; this covers running the test file alone
    try {
      execFileSync('npx', ['tsc', '-p', 'tsconfig.json'], { cwd: root, stdio: 'ignore' });
    } catch {
      // another module may not type-check at this moment; tsc still emits the rest
    }
  }
}, 120_000);

afterAll(() => {
  if (child?.pid && child.exitCode === null) process.kill(child.pid, 'SIGKILL');
});

test('the demo seeds, runs one cleanup pass through the CLI, and its checks hold', async () => {
  expect(existsSync(path.join(root, 'dist', 'cli.js'))).toBe(true);
  const env: NodeJS.ProcessEnv = { ...process.env, DEMO_TASKS: '30', DEMO_SEED: '5' };
  delete env.NODE_OPTIONS;
  child = spawn(process.execPath, [path.join(root, 'scripts', 'demo.js')], { env, stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  child.stdout!.on('data', (c) => (out += c));
  child.stderr!.on('data', (c) => (out += c));
  const code = await new Promise<number | null>((resolve) => child!.on('close', (c) => resolve(c)));
  expect(out).toContain('Seeded 30 tasks');
  expect(out).toMatch(/Summary: deleted \d+ tasks/);
  expect(out).toContain('eligible tasks deleted');
  expect(out).not.toContain('FAIL');
  expect(code).toBe(0);
}, 90_000);
