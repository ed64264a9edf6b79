/**
 * The request-rate limit of a pass (src/cleanup/rate-limit.ts): the token bucket's arithmetic on a
 * fake clock, a real pass against the embedded server that keeps under the limit, and the
 * max_requests_per_second hyperparameter / flag read strictly.
 */
import { runPass, RequestRate, silentLogger, type Api } from '../src/cleanup/index.js';
import { validateCommon, type CommonArgs } from '../src/commands/engine.js';
import { DEFAULT_PARAMS, InvalidParamsError, parseHyperParams, toHyperParams } from '../src/task/index.js';
import { World } from './support/cleanup-world.js';

describe('RequestRate (token bucket)', () => {
  /** a clock that only moves when a caller waits */
  function fakeClock() {
    let now = 1000;
    const waits: number[] = [];
    return {
      clock: () => now,
      wait: async (ms: number) => {
        waits.push(ms);
      },
      advance: (ms: number) => (now += ms),
      waits,
    };
  }

  test('a burst goes at once, then one request per interval, reserved in the order asked', async () => {
    const c = fakeClock();
    const rate = new RequestRate(10, 3, c.clock, c.wait);
    for (let i = 0; i < 6; i++) await rate.take();
    // 3 free, then 100 ms, 200 ms, 300 ms from now (10 per second)
    expect(c.waits).toEqual([100, 200, 300]);
  });

  test('a quiet moment refills the bucket, never beyond the burst', async () => {
    const c = fakeClock();
    const rate = new RequestRate(10, 2, c.clock, c.wait);
    await rate.take();
    await rate.take();
    c.advance(10_000);
    for (let i = 0; i < 3; i++) await rate.take();
    expect(c.waits).toEqual([100]);
  });

  test('0 (or less) is no limit', async () => {
    const c = fakeClock();
    const rate = new RequestRate(0, 1, c.clock, c.wait);
    expect(rate.limited).toBe(false);
    for (let i = 0; i < 100; i++) await rate.take();
    expect(c.waits).toEqual([]);
  });
});

describe('a pass under a request rate (embedded server)', () => {
  let w: World;
  beforeAll(async () => {
    w = await World.start();
    for (let i = 0; i < 6; i++) await w.task({ artifacts: 1 });
    await w.finalize();
  }, 60_000);
  afterAll(async () => {
    await w?.close();
  });

  test('the API calls keep to the limit (bursts of 20 allowed) and everything is still deleted', async () => {
    const at: number[] = [];
    const api: Api = {
      call: (endpoint, body) => {
        at.push(performance.now());
        return w.api.call(endpoint, body);
      },
    };
    const perSecond = 20;
    // batches of 1: many small calls, so the limit binds
    const r = await runPass(
      { api, storage: w.storage, log: silentLogger },
      { deleteThresholdDays: 30, stateDir: w.stateDir, batchSize: 1, maxRequestsPerSecond: perSecond },
    );
    expect(r.error).toBeUndefined();
    expect(r.tasks.deleted).toBe(6);
    expect(at.length).toBeGreaterThan(25);
    // after the burst of 20, request n goes no earlier than (n - 19) / rate after the first
    const span = at[at.length - 1] - at[0];
    expect(span).toBeGreaterThanOrEqual(((at.length - 20) / perSecond) * 1000 - 5);
    // and within any one second there are at most burst + rate requests
    for (let i = 0; i < at.length; i++) {
      const inSecond = at.filter((t) => t >= at[i] && t < at[i] + 1000).length;
      expect(inSecond).toBeLessThanOrEqual(20 + perSecond);
    }
  }, 60_000);
});

describe('max_requests_per_second / --max-requests-per-second', () => {
  const items = (value: string) =>
    toHyperParams(DEFAULT_PARAMS).map((h) => (h.name === 'max_requests_per_second' ? { ...h, value } : h));

  test('the hyperparameter: default 50, fractions and 0 (no limit) accepted', () => {
    expect(toHyperParams(DEFAULT_PARAMS).find((h) => h.name === 'max_requests_per_second')).toMatchObject({ value: '50.0', type: 'float' });
    expect(parseHyperParams(items('2.5')).params.maxRequestsPerSecond).toBe(2.5);
    expect(parseHyperParams(items('0')).params.maxRequestsPerSecond).toBe(0);
    // pacing_ms is deprecated but still read, 0 by default
    expect(parseHyperParams(items('50')).params.pacingMs).toBe(0);
  });

  test.each(['-1', 'fast', '10001', 'NaN'])('the hyperparameter refuses %s', (v) => {
    expect(() => parseHyperParams(items(v))).toThrow(InvalidParamsError);
    expect(() => parseHyperParams(items(v))).toThrow(/max_requests_per_second .* must be a number of requests per second from 0/);
  });

  const args = (rps: number | undefined): CommonArgs => ({
    deleteThresholdDays: 30, forceDelete: false, concurrency: 4, batchSize: 500, pacingMs: 0, logFormat: 'text', maxRequestsPerSecond: rps,
  });
  test.each([-1, Number.NaN, 20_000])('the flag refuses %s', (v) => {
    expect(() => validateCommon(args(v))).toThrow(/--max-requests-per-second must be a number from 0 \(no limit\) to 10000/);
  });
  test('the flag accepts 0, a fraction and its absence', () => {
    for (const v of [0, 0.5, undefined]) expect(() => validateCommon(args(v))).not.toThrow();
  });
});
