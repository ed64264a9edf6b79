/** Tests of what is built: dist/ compiled for them, and scripts/*.js run as `npm run demo` or `npm run bench` would. */
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import path from 'node:path';

const root = process.cwd();

/**
 * Compiles src/ into dist/ for a test of the built CLI. tsc emits even when another part of the tree
 * has type errors at this moment; only a missing dist/cli.js is a failure.
 */
export function buildDist(): void {
  try {
    execFileSync('npx', ['tsc', '-p', 'tsconfig.json'], { cwd: root, stdio: 'ignore' });
  } catch {
    if (!existsSync(path.join(root, 'dist', 'cli.js'))) throw new Error('building dist/cli.js failed');
  }
}

/** buildDist when `file` (a path under dist/) is missing: `npm test` builds first; this covers running a test file alone. */
export function ensureBuilt(file: string): void {
  if (!existsSync(path.join(root, 'dist', file))) buildDist();
}

/**
 * Starts `node scripts/<name> ...args` without jest's NODE_OPTIONS; `result` is its exit code and
 * everything it printed (stdout and stderr). The caller kills `child` by pid if the test ends first.
 */
export function startScript(
  name: string,
  args: string[] = [],
  env: NodeJS.ProcessEnv = {},
): { child: ChildProcess; result: Promise<{ code: number | null; out: string }> } {
  const childEnv: NodeJS.ProcessEnv = { ...process.env, ...env };
  delete childEnv.NODE_OPTIONS;
  const child = spawn(process.execPath, [path.join(root, 'scripts', name), ...args], { env: childEnv, stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  child.stdout!.on('data', (c) => (out += c));
  child.stderr!.on('data', (c) => (out += c));
  const result = new Promise<{ code: number | null; out: string }>((resolve) => child.on('close', (code) => resolve({ code, out })));
  return { child, result };
}

/**
 * Waits until a started `clearml-cleanup server` says it is up ("Stop with Ctrl-C."); resolves with
 * everything it printed so far, rejects when it exits first. The caller removes the child's 'exit'
 * listeners before stopping it.
 */
export function serverStarted(child: ChildProcess): Promise<string> {
  let out = '';
  return new Promise((resolve, reject) => {
    child.stdout!.on('data', (c) => {
      out += c;
      if (out.includes('Stop with Ctrl-C.')) resolve(out);
    });
    child.on('exit', (code) => reject(new Error(`exited early (${code}): ${out}`)));
  });
}
