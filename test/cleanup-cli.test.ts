/**
 * The run and plan commands in-process against the embedded server: console lines of the official
 * script, --dry-run and plan --json (nothing deleted), exit codes, the paced loop.
 */
import { PassThrough } from 'node:stream';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { createLogger, type Log } from '../src/log/index.js';
import { runRunCommand, type RunArgs } from '../src/commands/run.js';
import { runPlanCommand, type PlanArgs } from '../src/commands/plan.js';
import { applyEnv, clearmlEnvFor, runOnceArgs } from './support/in-process-cli.js';
import { World, type BuiltTask } from './support/cleanup-world.js';

let w: World;
let home: string;
let restoreEnv: () => void;

beforeAll(async () => {
  w = await World.start();
  home = await mkdtemp(path.join(tmpdir(), 'cleanup-cli-home-'));
  restoreEnv = applyEnv(clearmlEnvFor(w.server, home));
});

afterAll(async () => {
  restoreEnv?.();
  await w?.close();
  await rm(home, { recursive: true, force: true });
});

function capture(format: 'text' | 'json' = 'text'): { log: Log; text: () => string } {
  const stream = new PassThrough();
  let text = '';
  stream.on('data', (b: Buffer) => (text += b.toString()));
  return { log: createLogger({ format, stream }), text: () => text };
}

const base = (): RunArgs => runOnceArgs(w.stateDir);

describe('run and plan', () => {
  let draft: BuiltTask;
  let completed: BuiltTask;

  beforeAll(async () => {
    draft = await w.task({ artifacts: 2, debugImages: 3 });
    completed = await w.task({ status: 'completed', artifacts: 1 });
    await w.finalize();
  });

  test('bad values are usage errors (exit 2), never stack traces', async () => {
    for (const bad of [{ deleteThresholdDays: -1 }, { cleanupPeriodInDays: 0 }, { concurrency: 0 }, { batchSize: 501 }]) {
      let err = '';
      const code = await runRunCommand({ ...base(), ...bad }, { log: capture().log, err: (t) => (err += t) });
      expect(code).toBe(2);
      expect(err).toMatch(/^clearml-cleanup: --/);
      expect(err).not.toMatch(/\n\s+at /);
    }
  });

  test('plan --json: exactly what would be deleted and why; nothing deleted', async () => {
    let out = '';
    const args: PlanArgs = { ...base(), json: true };
    const code = await runPlanCommand(args, { log: capture().log, out: (t) => (out += t) });
    expect(code).toBe(0);
    const doc = JSON.parse(out);
    expect(doc.tasks.map((t: { id: string }) => t.id)).toEqual([draft.id]);
    expect([...doc.tasks[0].files].sort()).toEqual([...draft.files].sort());
    expect(doc.skipped).toEqual([
      expect.objectContaining({ id: completed.id, reason: 'status completed is not Draft and force_delete is off' }),
    ]);
    expect(doc.report.dryRun).toBe(true);
    expect(await w.taskExists(draft.id)).toBe(true);
    expect(await w.existing(draft.files)).toEqual(draft.files);
  });

  test('run --once --dry-run prints the official lines and a summary, deletes nothing', async () => {
    const c = capture();
    const code = await runRunCommand({ ...base(), dryRun: true }, { log: c.log });
    expect(code).toBe(0);
    expect(c.text()).toMatch(/^Cleanup service started/m);
    expect(c.text()).toMatch(/^Starting cleanup/m);
    expect(c.text()).toMatch(/Summary: would delete 1 tasks, skipped 1/);
    expect(await w.taskExists(draft.id)).toBe(true);
  });

  test('run --once deletes, logs "Deleting N tasks", JSON logs carry the report; exit 0', async () => {
    const c = capture('json');
    const code = await runRunCommand({ ...base(), logFormat: 'json' }, { log: c.log });
    expect(code).toBe(0);
    const lines = c
      .text()
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l));
    expect(lines.map((l) => l.message)).toEqual(expect.arrayContaining(['Cleanup service started', 'Starting cleanup', 'Deleting 1 tasks']));
    const done = lines.find((l) => l.message === 'Cleanup pass finished');
    expect(done.report.tasks.deleted).toBe(1);
    expect(await w.taskExists(draft.id)).toBe(false);
    expect(await w.existing(draft.files)).toEqual([]);
    expect(await w.taskExists(completed.id)).toBe(true);
  });

  test('the service loop: pass, "going to sleep for 1.0 days", stops on abort', async () => {
    const c = capture();
    const ac = new AbortController();
    const running = runRunCommand({ ...base(), once: false }, { log: c.log, signal: ac.signal });
    const until = Date.now() + 20_000;
    while (!/going to sleep for 1\.0 days/.test(c.text()) && Date.now() < until) await new Promise((r) => setTimeout(r, 20));
    ac.abort();
    expect(await running).toBe(0);
    expect(c.text()).toMatch(/going to sleep for 1\.0 days/);
  });
});
