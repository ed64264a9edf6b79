/** POST /_embedded/latency changes the injected delay at runtime (a bench seeds at 0 ms, then measures at N ms). */
import { startServer, type RunningServer } from '../src/server/index.js';

let s: RunningServer;
beforeAll(async () => {
  s = await startServer({ latencyMs: 0 });
});
afterAll(async () => {
  await s?.close();
});

const timed = async (f: () => Promise<unknown>): Promise<number> => {
  const t0 = Date.now();
  await f();
  return Date.now() - t0;
};
const setLatency = (ms: unknown) =>
  fetch(`${s.apiUrl}/_embedded/latency`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ ms }) });
const apiCall = () => fetch(`${s.apiUrl}/v2.23/server.info`, { method: 'POST' }).then((r) => r.text());
const filesPing = () => fetch(`${s.filesUrl}/`).then((r) => r.text());

test('latency can be raised and lowered at runtime, for the API and the file server', async () => {
  expect(await (await fetch(`${s.apiUrl}/_embedded/latency`)).json()).toEqual({ ms: 0 });
  expect(await timed(apiCall)).toBeLessThan(150);

  const res = await setLatency(200);
  expect(res.status).toBe(200);
  expect(await res.json()).toEqual({ ms: 200 });
  expect(await timed(apiCall)).toBeGreaterThanOrEqual(190);
  expect(await timed(filesPing)).toBeGreaterThanOrEqual(190);
  // the test-support routes themselves are never delayed
  expect(await timed(() => fetch(`${s.apiUrl}/_embedded/latency`).then((r) => r.json()))).toBeLessThan(150);

  expect((await setLatency(0)).status).toBe(200);
  expect(await timed(apiCall)).toBeLessThan(150);
  expect(await timed(filesPing)).toBeLessThan(150);
});

test('a bad value is refused and leaves the latency as it was', async () => {
  await setLatency(7);
  for (const bad of [-1, 'soon', null]) {
    const res = await setLatency(bad);
    expect(res.status).toBe(400);
    expect(((await res.json()) as { error: string }).error).toMatch(/ms must be/);
  }
  const bodyless = await fetch(`${s.apiUrl}/_embedded/latency`, { method: 'POST', body: '{' });
  expect(bodyless.status).toBe(400);
  expect(await (await fetch(`${s.apiUrl}/_embedded/latency`)).json()).toEqual({ ms: 7 });
  await setLatency(0);
});
