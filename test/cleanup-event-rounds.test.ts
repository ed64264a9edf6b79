/**
 * planRounds: the multi-task event requests stay inside the real server's silent caps (100 metrics ×
 * 50 variants in its scroll state; 8000 / (metrics × iters) variants per metric and iteration) and
 * together name every variant of every task exactly once.
 */
import { planRounds } from '../src/cleanup/events.js';

const names = (prefix: string, n: number) => Array.from({ length: n }, (_, i) => `${prefix}${String(i).padStart(4, '0')}`);

function check(group: string[], metricsOf: Map<string, string[]>, variants: Map<string, string[]>) {
  const rounds = planRounds(group, metricsOf, variants)!;
  expect(rounds).toBeDefined();
  const covered = new Map<string, number>();
  for (const r of rounds) {
    expect(r.iters).toBeGreaterThanOrEqual(1);
    expect(r.iters).toBeLessThanOrEqual(100);
    const perTask = new Map<string, string[]>();
    for (const e of r.entries) {
      if (e.metric === undefined) {
        // a whole task: its state holds every variant, the per-iteration cut must not bite
        const ms = metricsOf.get(e.task) ?? [];
        expect(ms.length).toBeLessThanOrEqual(100);
        for (const m of ms) {
          expect(variants.get(m)!.length).toBeLessThanOrEqual(50);
          expect(ms.length * r.iters * variants.get(m)!.length).toBeLessThanOrEqual(8000);
          for (const v of variants.get(m)!) covered.set(`${e.task}/${m}/${v}`, (covered.get(`${e.task}/${m}/${v}`) ?? 0) + 1);
        }
        continue;
      }
      expect(e.variants!.length).toBeLessThanOrEqual(50);
      perTask.set(e.task, [...(perTask.get(e.task) ?? []), e.metric]);
      for (const v of e.variants!) covered.set(`${e.task}/${e.metric}/${v}`, (covered.get(`${e.task}/${e.metric}/${v}`) ?? 0) + 1);
    }
    for (const ms of perTask.values()) {
      expect(new Set(ms).size).toBe(ms.length);
      expect(ms.length).toBeLessThanOrEqual(100);
      // all of a metric's variants count in the server's per-iteration cut, named or not
      for (const m of ms) expect(ms.length * r.iters * variants.get(m)!.length).toBeLessThanOrEqual(8000);
    }
  }
  for (const t of group) for (const m of metricsOf.get(t) ?? []) for (const v of variants.get(m)!) expect(covered.get(`${t}/${m}/${v}`)).toBe(1);
  return rounds;
}

test('few variants: one round naming only the tasks', () => {
  const variants = new Map([['loss', names('v', 20)], ['acc', names('v', 5)]]);
  const rounds = check(['t1', 't2'], new Map([['t1', ['loss', 'acc']], ['t2', ['acc']]]), variants);
  expect(rounds).toHaveLength(1);
  expect(rounds[0].entries).toEqual([{ task: 't1' }, { task: 't2' }]);
  expect(rounds[0].iters).toBe(100); // 8000 / (2 × 20) = 200, capped at 100
});

test('3 metrics × 150 variants: three slices of 50 named variants, iterations sized by the 150', () => {
  const variants = new Map(['a', 'b', 'c'].map((m) => [m, names('v', 150)]));
  const rounds = check(['t1', 't2'], new Map([['t1', ['a', 'b', 'c']], ['t2', ['c']]]), variants);
  expect(rounds).toHaveLength(3);
  expect(rounds[0].iters).toBe(Math.floor(8000 / (3 * 150)));
});

test('150 metrics × 60 variants: metrics split in chunks of at most 100', () => {
  const ms = names('m', 150);
  const variants = new Map(ms.map((m) => [m, names('v', 60)]));
  const rounds = check(['t1'], new Map([['t1', ms]]), variants);
  expect(rounds.length).toBeGreaterThanOrEqual(4);
});

test('a metric with more variants than the whole budget cannot be listed this way', () => {
  expect(planRounds(['t1'], new Map([['t1', ['huge']]]), new Map([['huge', names('v', 8001)]]))).toBeUndefined();
});
