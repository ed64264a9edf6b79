/** Pure helpers of the API client: backoff, Retry-After, token claims, retriable classification. */
import { backoffDelayMs, isRetriableErrorCode, isRetriableStatus, retryAfterMs } from '../src/api/retry.js';
import { decodeTokenClaims, scrollAll, tokenExpiryMs, withoutServerDeletes } from '../src/api/index.js';

test('backoff doubles from the base, stays within [d/2, d], and is capped', () => {
  const opts = { baseMs: 100, maxMs: 1000 };
  expect(backoffDelayMs(1, opts, () => 0)).toBe(50);
  expect(backoffDelayMs(1, opts, () => 1)).toBe(100);
  expect(backoffDelayMs(3, opts, () => 1)).toBe(400);
  expect(backoffDelayMs(10, opts, () => 1)).toBe(1000);
  expect(backoffDelayMs(10, opts, () => 0)).toBe(500);
  const spread = new Set(Array.from({ length: 50 }, () => backoffDelayMs(4, opts)));
  expect(spread.size).toBeGreaterThan(5); // jitter: clients do not retry in lockstep
});

test('only 5xx statuses and connection-level error codes are retriable', () => {
  expect([500, 502, 503, 504].every(isRetriableStatus)).toBe(true);
  expect([400, 401, 403, 404, 409, 429].some(isRetriableStatus)).toBe(false);
  for (const c of ['ECONNRESET', 'ECONNREFUSED', 'ETIMEDOUT', 'EPIPE']) expect(isRetriableErrorCode(c)).toBe(true);
  for (const c of ['ENOTFOUND', 'DEPTH_ZERO_SELF_SIGNED_CERT', undefined]) expect(isRetriableErrorCode(c)).toBe(false);
});

test('Retry-After in seconds or as a date', () => {
  expect(retryAfterMs('3')).toBe(3000);
  expect(retryAfterMs(undefined)).toBeUndefined();
  expect(retryAfterMs('soon')).toBeUndefined();
  const inTwoSec = new Date(Date.now() + 2000).toUTCString();
  expect(retryAfterMs(inTwoSec)).toBeGreaterThan(0);
});

test('token claims are read without a signature check; opaque tokens have no expiry', () => {
  const b = (o: unknown) => Buffer.from(JSON.stringify(o)).toString('base64url');
  const jwt = `${b({ alg: 'HS256' })}.${b({ exp: 1700000000, api_version: '2.34' })}.sig`;
  expect(decodeTokenClaims(jwt)).toMatchObject({ exp: 1700000000, api_version: '2.34' });
  expect(tokenExpiryMs(jwt)).toBe(1700000000 * 1000);
  expect(tokenExpiryMs('opaque-token')).toBeUndefined();
  expect(decodeTokenClaims('a.!!!notbase64json.c')).toBeUndefined();
});

test('a scroll ends at its total, and when the server starts over (a batch seen before), never loops', async () => {
  const batches = [[{ id: 'a' }, { id: 'b' }], [{ id: 'c' }]];
  let calls = 0;
  // no total: after the last batch the server starts over (the real one after iteration 0)
  const out: string[] = [];
  for await (const b of scrollAll(async () => ({ items: batches[calls++ % 2], scrollId: 's' }))) out.push(...b.map((x) => x.id));
  expect(out).toEqual(['a', 'b', 'c']);
  expect(calls).toBe(3);
  // with a total: no call after it is reached
  calls = 0;
  for await (const _ of scrollAll(async () => ({ items: batches[calls++ % 2], total: 3, scrollId: 's' }))) void _;
  expect(calls).toBe(2);
});

test('every deleting or resetting call carries delete_external_artifacts: false, whatever was passed', () => {
  for (const e of ['tasks.delete', 'tasks.delete_many', 'tasks.reset', 'tasks.reset_many', 'models.delete', 'models.delete_many', 'projects.delete']) {
    expect(withoutServerDeletes(e, { ids: ['x'] })).toEqual({ ids: ['x'], delete_external_artifacts: false });
    expect(withoutServerDeletes(e, { task: 'x', delete_external_artifacts: true })).toEqual({ task: 'x', delete_external_artifacts: false });
  }
  expect(withoutServerDeletes('tasks.get_all', { id: ['x'] })).toEqual({ id: ['x'] });
});
