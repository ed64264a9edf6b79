/**
 * Batch i+1 is planned while batch i is deleted (src/cleanup/overlap.ts): the scheduler's order
 * and its two-batch bound, and, against the embedded server, a file shared by two models in
 * different batches (the later plan first sees the earlier batch's model still there) deleted in
 * the same pass, as one batch after the other would.
 */
import { runPass, silentLogger } from '../src/cleanup/index.js';
import { runOverlapped } from '../src/cleanup/overlap.js';
import { World } from './support/cleanup-world.js';

describe('runOverlapped', () => {
  const tick = () => new Promise((r) => setTimeout(r, 5));

  test('prepares i+1 while i runs, runs in order, never holds more than two batches', async () => {
    const log: string[] = [];
    let held = 0;
    let maxHeld = 0;
    const overlappedFlags: boolean[] = [];
    const ran = await runOverlapped<number>({
      count: 4,
      overlap: true,
      stopped: () => false,
      prepare: async (i) => {
        held++;
        maxHeld = Math.max(maxHeld, held);
        log.push(`prepare ${i} start`);
        await tick();
        log.push(`prepare ${i} end`);
        return i * 10;
      },
      run: async (i, p, overlapped) => {
        overlappedFlags.push(overlapped);
        expect(p).toBe(i * 10);
        log.push(`run ${i} start`);
        await tick();
        await tick();
        log.push(`run ${i} end`);
        held--;
        return 'next';
      },
    });
    expect(ran).toBe(4);
    expect(maxHeld).toBe(2);
    expect(overlappedFlags).toEqual([false, true, true, true]);
    // i+1 is prepared after i's plan is done and before i's run ends; runs never overlap
    expect(log.indexOf('prepare 1 start')).toBeLessThan(log.indexOf('run 0 end'));
    expect(log.indexOf('prepare 1 start')).toBeGreaterThan(log.indexOf('prepare 0 end'));
    for (let i = 0; i < 3; i++) expect(log.indexOf(`run ${i} end`)).toBeLessThan(log.indexOf(`run ${i + 1} start`));
  });

  test('overlap off: one after the other; stop: the batch being prepared is awaited and dropped', async () => {
    const log: string[] = [];
    await runOverlapped<number>({
      count: 2,
      overlap: false,
      stopped: () => false,
      prepare: async (i) => (log.push(`prepare ${i}`), i),
      run: async (i) => (log.push(`run ${i}`), 'next'),
    });
    expect(log).toEqual(['prepare 0', 'run 0', 'prepare 1', 'run 1']);

    let prepared1Done = false;
    const ran = await runOverlapped<number>({
      count: 3,
      overlap: true,
      stopped: () => false,
      prepare: async (i) => {
        await tick();
        if (i === 1) prepared1Done = true;
        return i;
      },
      run: async () => 'stop',
    });
    expect(ran).toBe(1);
    expect(prepared1Done).toBe(true);
  });
});

describe('a pass with batches of one task (embedded server)', () => {
  let w: World;
  beforeAll(async () => {
    w = await World.start();
  }, 60_000);
  afterAll(async () => {
    await w?.close();
  });

  test('two models in different batches share one file: both go; the file goes too, or stays reported with its reason (ownership), nothing else is left', async () => {
    const a = await w.task({ models: [{}], artifacts: 2 });
    const b = await w.task({ models: [{ uri: a.models[0].uri }], artifacts: 2 });
    const c = await w.task({ artifacts: 1, debugImages: 3 });
    await w.finalize();
    const r = await runPass({ api: w.api, storage: w.storage, log: silentLogger }, { deleteThresholdDays: 30, stateDir: w.stateDir, batchSize: 1 });
    expect(r.error).toBeUndefined();
    expect(r.tasks.deleted).toBe(3);
    expect(await w.existingTasks([a.id, b.id, c.id])).toEqual([]);
    expect(await w.modelExists(a.models[0].id)).toBe(false);
    expect(await w.modelExists(b.models[0].id)).toBe(false);
    // The shared file lies in a's folder. Selection order between a and b is a tie (same archive
    // time): when b's batch goes first, b's model is gone by a's batch and the file goes with a;
    // when a's goes first, a's batch keeps it (b's model still pointed to it) and b's batch may not
    // delete a file outside b's own folder, so it stays, reported with its reason (the orphan sweep
    // takes it once old enough). Never deleted while a model pointed to it, never left unreported.
    const kept = r.files.keptList.filter((k) => k.url === a.models[0].uri).map((k) => k.reason);
    if (await w.exists(a.models[0].uri)) expect(kept).toContainEqual(expect.stringMatching(/^still used/));
    else expect(kept.filter((k) => /^still used/.test(k))).toEqual([]);
    const others = [...a.files, ...b.files, ...c.files].filter((u) => u !== a.models[0].uri);
    expect(await w.existing(others)).toEqual([]);
    expect(r.journal.pendingEntries).toBe(0);
  }, 60_000);
});
