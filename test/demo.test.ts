/** Smoke test of `npm run demo`: the script runs end to end against dist/ (npm test builds it first). */
import type { ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
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

test('with --webapp DIR the demo serves the app, prints its URL and the login, and stays up until stopped', async () => {
  const app = mkdtempSync(path.join(tmpdir(), 'demo-webapp-'));
  writeFileSync(path.join(app, 'index.html'), '<!doctype html><title>stand-in app</title>');
  try {
    const run = startScript('demo.js', ['--webapp', app], { DEMO_TASKS: '10', DEMO_SEED: '2' });
    child = run.child;
    let out = '';
    run.child.stdout!.on('data', (c) => (out += c));
    const deadline = Date.now() + 80_000;
    while (!/Stop with Ctrl-C/.test(out) && run.child.exitCode === null && Date.now() < deadline) await new Promise((r) => setTimeout(r, 200));
    const url = /web app +(http:\/\/\S+)/.exec(out)?.[1];
    expect(url).toBeDefined();
    expect(out).toMatch(/log in with user name \S+/);
    expect(await (await fetch(`${url}/projects`)).text()).toContain('stand-in app');
    const modes = (await (await fetch(`${url}/api/v999.0/login.supported_modes`, { method: 'POST' })).json()) as { data: { basic: { enabled: boolean } } };
    expect(modes.data.basic.enabled).toBe(true);
    expect(run.child.exitCode).toBeNull();
    process.kill(run.child.pid!, 'SIGTERM');
    await run.result;
  } finally {
    rmSync(app, { recursive: true, force: true });
  }
}, 90_000);
