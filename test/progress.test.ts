/**
 * Progress output in both modes: plain periodic lines (counts, rate, ETA) when not a terminal, as
 * under clearml-agent; a cli-progress bar on a terminal (a stream with isTTY = true). Unit checks of
 * the reporter, then the real plan and orphans commands against the embedded server.
 */
import { PassThrough } from 'node:stream';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { createProgress, progressLine, type ProgressStream } from '../src/log/progress.js';
import { createLogger } from '../src/log/index.js';
import { runPlanCommand } from '../src/commands/plan.js';
import { runOrphansCommand } from '../src/commands/orphans.js';
import { applyEnv, clearmlEnvFor } from './support/in-process-cli.js';
import { World } from './support/cleanup-world.js';

function fakeTty(): ProgressStream & { text: () => string } {
  let text = '';
  const s = new PassThrough() as unknown as ProgressStream & { text: () => string; cursorTo: unknown; clearLine: unknown; moveCursor: unknown };
  s.isTTY = true;
  s.columns = 120;
  s.write = (chunk: string) => ((text += String(chunk)), true);
  s.text = () => text;
  return s;
}

test('plain lines: count, percentage, rate and ETA, at most one per interval, and the last one', () => {
  let t = 0;
  const lines: string[] = [];
  const p = createProgress({ mode: 'lines', line: (l) => lines.push(l), intervalMs: 10_000, now: () => t });
  p.onProgress({ phase: 'references', done: 0, total: 1000, unit: 'tasks' });
  t = 5_000;
  p.onProgress({ phase: 'references', done: 250, total: 1000, unit: 'tasks' }); // within the first interval: not printed
  t = 12_000;
  p.onProgress({ phase: 'references', done: 600, total: 1000, unit: 'tasks' });
  t = 13_000;
  p.onProgress({ phase: 'references', done: 650, total: 1000, unit: 'tasks' }); // within the interval: not printed
  t = 20_000;
  p.onProgress({ phase: 'references', done: 1000, total: 1000, unit: 'tasks' });
  p.onProgress({ phase: 'listing', done: 0, unit: 'files' });
  t = 25_000;
  p.onProgress({ phase: 'listing', done: 200, unit: 'files' }); // within the interval
  t = 32_000;
  p.onProgress({ phase: 'listing', done: 900, unit: 'files' });
  t = 34_000;
  p.onProgress({ phase: 'listing', done: 1000, unit: 'files' });
  p.stop();
  expect(lines).toEqual([
    'progress: references: 600/1000 tasks (60%), 50/s, ETA 8 s',
    'progress: references: 1000/1000 tasks (100%), 50/s, ETA 0 s',
    'progress: listing: 900 files, 75/s',
    'progress: listing: 1000 files, 71/s',
  ]);
  expect(progressLine({ phase: 'tasks', done: 10, total: 100000, unit: 'tasks' }, 1000)).toBe('progress: tasks: 10/100000 tasks (0%), 10/s, ETA 2 h 47 min');
});

test('a bar on a terminal: cli-progress draws the phase, the bar and the counts', () => {
  const tty = fakeTty();
  const p = createProgress({ stream: tty });
  p.onProgress({ phase: 'tasks', done: 0, total: 40, unit: 'tasks' });
  p.onProgress({ phase: 'tasks', done: 20, total: 40, unit: 'tasks' });
  p.onProgress({ phase: 'tasks', done: 40, total: 40, unit: 'tasks' });
  p.onProgress({ phase: 'listing', done: 500, unit: 'files' });
  p.stop();
  const text = tty.text();
  expect(text).toMatch(/tasks \[[\u2588\u2591]+\] 100% \| 40\/40 tasks \| ETA/);
  expect(text).toMatch(/listing 500 files/);
  expect(text).not.toMatch(/^progress:/m);
});

describe('the commands', () => {
  let w: World;
  let home: string;
  let restoreEnv: () => void;

  beforeAll(async () => {
    w = await World.start();
    for (let i = 0; i < 3; i++) await w.task({ artifacts: 1, debugImages: 1 });
    await w.finalize();
    home = await mkdtemp(path.join(tmpdir(), 'progress-home-'));
    restoreEnv = applyEnv(clearmlEnvFor(w.server, home));
  }, 60_000);

  afterAll(async () => {
    restoreEnv?.();
    await w?.close();
    await rm(home, { recursive: true, force: true });
  });

  const common = () => ({ deleteThresholdDays: 30, forceDelete: false, concurrency: 4, batchSize: 2, pacingMs: 0, logFormat: 'text' as const, stateDir: w.stateDir });

  test('plan without a terminal: plain progress lines in its log', async () => {
    const stream = new PassThrough();
    let log = '';
    stream.on('data', (b: Buffer) => (log += b.toString()));
    let out = '';
    // as under the agent or in CI, whatever terminal runs jest
    const tty = process.stderr.isTTY;
    process.stderr.isTTY = false;
    const code = await runPlanCommand({ ...common(), json: false }, { log: createLogger({ stream }), out: (t) => (out += t) }).finally(
      () => (process.stderr.isTTY = tty),
    );
    expect(code).toBe(0);
    expect(out.match(/^delete /gm)).toHaveLength(3);
    // jest's stderr is no terminal: the last line of the pass is always printed
    expect(log).toMatch(/^progress: tasks: 3\/3 tasks \(100%\), [\d.]+\/s, ETA 0 s$/m);
  }, 30_000);

  test('orphans on a terminal: the bar for the reference scan', async () => {
    const tty = fakeTty();
    let out = '';
    const code = await runOrphansCommand(
      { ...common(), minAgeDays: 7, delete: false, json: false },
      { log: createLogger({ stream: new PassThrough() }), out: (t) => (out += t), progressStream: tty },
    );
    expect(code).toBe(0);
    expect(out).toMatch(/^Orphans: found 0 of 0 unreferenced files older than 7 days/m);
    expect(tty.text()).toMatch(/references \[[\u2588\u2591]+\] 100% \| 3\/3 tasks/);
  }, 30_000);
});
