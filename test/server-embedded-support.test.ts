import http from 'node:http';
import { startServer } from '../src/server/index.js';
import { Api, login } from './support/embedded-api.js';

const counters = async (url: string): Promise<any> => (await fetch(`${url}/_embedded/counters`)).json();

describe('counters and backdate', () => {
  let api: Api;
  beforeAll(async () => {
    api = await Api.start();
  });
  afterAll(async () => {
    await api.close();
  });

  test('API calls are counted per endpoint, file-server calls per operation; reset clears', async () => {
    await fetch(`${api.server.apiUrl}/_embedded/counters/reset`, { method: 'POST' });
    await api.ok('tasks.get_all', {});
    await api.ok('tasks.get_all', {});
    await api.call('tasks.nosuch');
    const auth = { Authorization: `Bearer ${api.token}` };
    expect((await fetch(`${api.server.filesUrl}/`)).status).toBe(200);
    const form = new FormData();
    form.append('/proj/t.1/artifacts/a/a.txt', new Blob(['hello']), '/proj/t.1/artifacts/a/a.txt');
    expect((await fetch(`${api.server.filesUrl}/`, { method: 'POST', headers: auth, body: form })).status).toBe(200);
    expect((await fetch(`${api.server.filesUrl}/proj/t.1/artifacts/a/a.txt`, { headers: auth })).status).toBe(200);
    expect((await fetch(`${api.server.filesUrl}/proj/t.1/artifacts/a/a.txt`, { method: 'DELETE', headers: auth })).status).toBe(200);
    const c = await counters(api.server.apiUrl);
    expect(c.api).toEqual({ 'tasks.get_all': 2, 'tasks.nosuch': 1 });
    expect(c.apiTotal).toBe(3);
    expect(c.files).toEqual({ ping: 1, upload: 1, download: 1, delete: 1 });
    expect(c.filesTotal).toBe(4);
    await fetch(`${api.server.apiUrl}/_embedded/counters/reset`, { method: 'POST' });
    expect(await counters(api.server.apiUrl)).toEqual({ api: {}, apiTotal: 0, files: {}, filesTotal: 0 });
  });

  test('the file server takes the bearer token or the clearml_token_basic cookie, nothing else', async () => {
    const url = `${api.server.filesUrl}/some/file.txt`;
    expect((await fetch(url, { method: 'DELETE' })).status).toBe(401);
    expect((await fetch(url, { method: 'DELETE', headers: { Authorization: 'Bearer nope' } })).status).toBe(401);
    expect((await fetch(url, { method: 'DELETE', headers: { Cookie: `clearml_token_basic=${api.token}` } })).status).toBe(404);
  });

  test('backdate shifts every date of tasks and models by N days', async () => {
    const id = await api.createTask('old task');
    await api.ok('tasks.started', { task: id });
    const m = (await api.ok('models.create', { name: 'old model', uri: 'file:///m', task: id })).id;
    const before = (await api.ok('tasks.get_by_id', { task: id })).task;
    const res = await fetch(`${api.server.apiUrl}/_embedded/backdate`, {
      method: 'POST',
      headers: { 'Content-Type': 'application/json' },
      body: JSON.stringify({ task: id, models: [m], days: 31 }),
    });
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({ tasks: 1, models: 1, missing: [] });
    const after = (await api.ok('tasks.get_by_id', { task: id })).task;
    const shift = 31 * 86400_000;
    for (const f of ['created', 'started', 'status_changed', 'last_update', 'last_change']) {
      expect(Date.parse(before[f]) - Date.parse(after[f])).toBe(shift);
    }
    const model = (await api.ok('models.get_by_id', { model: m })).model;
    expect(Date.now() - Date.parse(model.created)).toBeGreaterThan(shift - 60_000);
    const unknown = await fetch(`${api.server.apiUrl}/_embedded/backdate`, {
      method: 'POST',
      headers: { 'Content-Type': 'application/json' },
      body: JSON.stringify({ tasks: ['nope'], days: 1 }),
    });
    expect(unknown.status).toBe(404);
  });
});

/** Sends n calls; returns what happened to each (status or "drop"). */
async function outcomes(apiUrl: string, token: string, n: number): Promise<Array<number | 'drop'>> {
  const out: Array<number | 'drop'> = [];
  for (let i = 0; i < n; i++) {
    out.push(
      await new Promise<number | 'drop'>((resolve) => {
        const req = http.request(`${apiUrl}/v2.23/tasks.get_all`, {
          method: 'POST',
          agent: false,
          headers: { Authorization: `Bearer ${token}`, 'Content-Type': 'application/json' },
        });
        req.on('response', (res) => {
          res.resume();
          res.on('end', () => resolve(res.statusCode!));
        });
        req.on('error', () => resolve('drop'));
        req.end('{}');
      }),
    );
  }
  return out;
}

describe('faults and latency', () => {
  test('a seeded fault rate fails that share of calls as 500, 503 or a dropped connection, reproducibly', async () => {
    const runs: Array<Array<number | 'drop'>> = [];
    for (let i = 0; i < 2; i++) {
      const s = await startServer({ faultRate: 0.4, faultSeed: 7 });
      try {
        let token: string | undefined;
        while (!token) token = await login(s).catch(() => undefined);
        runs.push(await outcomes(s.apiUrl, token, 80));
        // test-support routes are never faulted
        for (let k = 0; k < 10; k++) expect((await fetch(`${s.apiUrl}/_embedded/counters`)).status).toBe(200);
      } finally {
        await s.close();
      }
    }
    const [a] = runs;
    const failed = a.filter((o) => o !== 200).length;
    expect(failed).toBeGreaterThan(15);
    expect(failed).toBeLessThan(50);
    expect(a).toContain(500);
    expect(a).toContain(503);
    expect(a).toContain('drop');
    // same seed, same sequential requests (login retries included): the same outcome, call by call
    expect(runs[1]).toEqual(a);
  });

  test('latencyMs delays every API and file-server request', async () => {
    const s = await startServer({ latencyMs: 150 });
    try {
      const token = await login(s);
      const t0 = Date.now();
      await fetch(`${s.apiUrl}/v2.23/tasks.get_all`, { method: 'POST', headers: { Authorization: `Bearer ${token}` } });
      expect(Date.now() - t0).toBeGreaterThanOrEqual(140);
      const t1 = Date.now();
      expect((await fetch(`${s.filesUrl}/`)).status).toBe(200);
      expect(Date.now() - t1).toBeGreaterThanOrEqual(140);
      const t2 = Date.now();
      await fetch(`${s.apiUrl}/_embedded/counters`);
      expect(Date.now() - t2).toBeLessThan(140);
    } finally {
      await s.close();
    }
  });
});
