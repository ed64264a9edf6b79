/**
 * Every event file is listed, whatever the server's quirks:
 * - the real server's multi-task events.debug_images / events.plots cut variants silently (a state of
 *   100 metrics × 50 variants; 8000 / (metrics × iters) variants per metric and iteration);
 * - on a server without the multi-task calls, events.get_task_events starts over after a batch that
 *   ends at iteration 0.
 * In both cases a pass must delete every task with all its files.
 */
import { runPass, silentLogger, type PassReport } from '../src/cleanup/index.js';
import { World, type BuiltTask } from './support/cleanup-world.js';

function pass(w: World): Promise<PassReport> {
  return runPass(
    { api: w.api, storage: w.storage, log: silentLogger },
    { deleteThresholdDays: 30, forceDelete: true, stateDir: w.stateDir, pacingMs: 0 },
  );
}

const grid = (metrics: string[], variants: number, iters: number[], prefix = 'v') =>
  metrics.flatMap((metric) => iters.flatMap((iter) => Array.from({ length: variants }, (_, i) => ({ metric, variant: `${prefix}${String(i).padStart(3, '0')}`, iter }))));

describe('the multi-task calls within the real caps', () => {
  let w: World;
  beforeAll(async () => {
    w = await World.start();
  });
  afterAll(async () => {
    await w?.close();
  });

  test('3 image metrics × 150 variants and plots with 120 variants: every file listed and deleted', async () => {
    const wide = await w.task({ images: grid(['loss', 'masks', 'samples'], 150, [0, 5, 9]), plots: grid(['confusion'], 120, [1, 2], 'p') });
    const narrow = await w.task({ images: grid(['a'], 3, [0, 1, 2]), plots: grid(['b', 'c'], 60, [3], 'q') });
    const kept = await w.task({ archived: false, images: grid(['loss'], 60, [1]) });
    await w.finalize();
    const files = [...wide.files, ...narrow.files];
    expect(wide.files).toHaveLength(3 * 150 * 3 + 120 * 2);

    const r = await pass(w);
    expect(r.tasks.failed).toBe(0);
    expect(r.tasks.deleted).toBe(2);
    expect(await w.existing(files)).toEqual([]);
    expect(await w.existing(kept.files)).toEqual(kept.files);
    // through the multi-task calls, not the per-task fallback
    expect(r.apiCalls.byEndpoint['events.get_task_events'] ?? 0).toBe(0);
    expect(r.apiCalls.byEndpoint['events.debug_images']).toBeGreaterThan(0);
  }, 120_000);

  test('the embedded server cuts as the real one: asked for all, 50 variants per metric come back', async () => {
    const t = (await w.task({ archived: false, images: grid(['m'], 80, [0]) })) as BuiltTask;
    await w.finalize();
    const res = await w.call<{ metrics: Array<{ task: string; iterations: Array<{ events: unknown[] }> }> }>('events.debug_images', {
      metrics: [{ task: t.id }],
      iters: 1,
    });
    expect(res.metrics[0].iterations[0].events).toHaveLength(50);
    // per iteration, a metric returns the first 8000 / (metrics × iters) of ALL its variants by name
    const u = (await w.task({ archived: false, images: grid(['m1', 'm2', 'm3', 'm4'], 85, [0]) })) as BuiltTask;
    await w.finalize();
    const late = grid(['m'], 85, [0]).slice(50).map((e) => e.variant); // v050..v084
    const ask = (iters: number) =>
      w.call<{ metrics: Array<{ iterations: Array<{ events: Array<{ metric: string }> }> }> }>('events.debug_images', {
        metrics: ['m1', 'm2', 'm3', 'm4'].map((metric) => ({ task: u.id, metric, variants: late })),
        iters,
      });
    // 4 metrics × 25 iterations: 80 per metric, so v080..v084 are cut: 30 of the 35 named come back
    expect((await ask(25)).metrics[0].iterations[0].events).toHaveLength(4 * 30);
    // one iteration: 2000 per metric, all 35 of each
    expect((await ask(1)).metrics[0].iterations[0].events).toHaveLength(4 * 35);
  });
});

describe('a server without the multi-task event calls', () => {
  let w: World;
  beforeAll(async () => {
    w = await World.start({ withoutEndpoints: ['events.debug_images', 'events.plots', 'events.get_multi_task_metrics'] });
  });
  afterAll(async () => {
    await w?.close();
  });

  test('tasks whose events are all at iteration 0 (and one with more than a batch there): every task deleted with all files', async () => {
    const small = await w.task({ images: grid(['loss'], 4, [0]), plots: grid(['fig'], 2, [0], 'p') });
    const big = await w.task({ images: grid(['a', 'b'], 700, [0]) });
    const mixed = await w.task({ images: [...grid(['x'], 1100, [0]), ...grid(['x'], 3, [1, 2, 7])], plots: grid(['fig'], 3, [0, 4], 'p') });
    const onlyPlots = await w.task({ plots: grid(['fig'], 5, [0], 'p') });
    await w.finalize();
    const tasks = [small, big, mixed, onlyPlots];

    const r = await pass(w);
    expect(r.tasks.failed).toBe(0);
    expect(await w.existingTasks(tasks.map((t) => t.id))).toEqual([]);
    expect(await w.existing(tasks.flatMap((t) => t.files))).toEqual([]);
    // the fallback was taken, and it ended: a handful of calls per task and kind
    const calls = r.apiCalls.byEndpoint['events.get_task_events'] ?? 0;
    expect(calls).toBeGreaterThan(0);
    expect(calls).toBeLessThanOrEqual(tasks.length * 2 * 4);
  }, 120_000);
});

describe('a server with the multi-task calls but without the variant lists (before API 2.28)', () => {
  let w: World;
  beforeAll(async () => {
    w = await World.start({ withoutEndpoints: ['events.get_multi_task_metrics'] });
  });
  afterAll(async () => {
    await w?.close();
  });

  test('a metric that fills the 50 variants the state holds is read again task by task; all files deleted', async () => {
    const wide = await w.task({ images: grid(['loss', 'masks'], 70, [0, 3]), plots: grid(['fig'], 55, [1], 'p') });
    const narrow = await w.task({ images: grid(['a', 'b'], 10, [0, 1, 2]), plots: grid(['fig'], 3, [0], 'p') });
    await w.finalize();
    const r = await pass(w);
    expect(r.tasks.failed).toBe(0);
    expect(await w.existingTasks([wide.id, narrow.id])).toEqual([]);
    expect(await w.existing([...wide.files, ...narrow.files])).toEqual([]);
    expect(r.apiCalls.byEndpoint['events.debug_images']).toBeGreaterThan(0);
    // only the wide task went through the per-task scroll: one listing per kind, each in one batch
    expect(r.apiCalls.byEndpoint['events.get_task_events']).toBe(2);
  }, 120_000);
});
