/**
 * The client reads the server's API version from its token, as the SDK does: requests ask for the
 * configured version or the server's when lower, and leave out fields that server's release lacks.
 */
import { ClearMLClient } from '../src/api/index.js';
import { bodyForServer, featuresOf } from '../src/api/server-features.js';
import { envelope, fakeJwt, startTinyServer, type TinyServer } from './support/api-tiny-server.js';

const farExp = () => Math.floor(Date.now() / 1000) + 86_400;
let s: TinyServer;
let claims: Record<string, unknown> = {};
beforeAll(async () => {
  s = await startTinyServer((req, res) => {
    if (req.url === '/auth.login') return envelope(res, { token: fakeJwt({ exp: farExp(), ...claims }) });
    envelope(res, { succeeded: [], failed: [] });
  });
});
afterAll(() => s.close());

async function sendDeletes(tokenClaims: Record<string, unknown>, apiVersion?: string): Promise<Array<{ url: string; body: any }>> {
  claims = tokenClaims;
  s.seen.length = 0;
  const c = new ClearMLClient({ api: { apiServer: s.url, accessKey: 'k', secretKey: 's', ...(apiVersion ? { apiVersion } : {}) } });
  try {
    await c.call('tasks.delete_many', { ids: ['a'], delete_output_models: false, delete_external_artifacts: false });
    await c.call('models.delete_many', { ids: ['a'], force: false, delete_external_artifacts: false });
    await c.call('tasks.get_all', { id: ['a'], search_hidden: true });
  } finally {
    c.close();
  }
  return s.seen.filter((r) => r.url !== '/auth.login').map((r) => ({ url: r.url, body: JSON.parse(r.body) }));
}

test('a 2.13 server: asked at v2.13, without the fields it does not have', async () => {
  const sent = await sendDeletes({ api_version: '2.13' });
  expect(sent.map((r) => r.url)).toEqual(['/v2.13/tasks.delete_many', '/v2.13/models.delete_many', '/v2.13/tasks.get_all']);
  expect(sent[0].body).toEqual({ ids: ['a'], delete_output_models: false });
  expect(sent[1].body).toEqual({ ids: ['a'], force: false });
  expect(sent[2].body).toEqual({ id: ['a'] });
});

test('a 2.21 server: delete_external_artifacts false on tasks, not yet on models', async () => {
  const sent = await sendDeletes({ api_version: '2.21' });
  expect(sent[0].body.delete_external_artifacts).toBe(false);
  expect('delete_external_artifacts' in sent[1].body).toBe(false);
  expect(sent[2].body.search_hidden).toBe(true);
});

test('a current server: asked at the configured version, every field sent', async () => {
  const sent = await sendDeletes({ api_version: '2.34' });
  expect(sent.map((r) => r.url)[0]).toBe('/v2.23/tasks.delete_many');
  expect(sent[1].body.delete_external_artifacts).toBe(false);
  const configured = await sendDeletes({ api_version: '2.34' }, '2.30');
  expect(configured[0].url).toBe('/v2.30/tasks.delete_many');
});

test('a token that does not say: everything is sent (an older server ignores what it does not know)', async () => {
  const sent = await sendDeletes({});
  expect(sent[0].url).toBe('/v2.23/tasks.delete_many');
  expect(sent[0].body.delete_external_artifacts).toBe(false);
  expect(sent[1].body.delete_external_artifacts).toBe(false);
});

test('features by version', () => {
  expect(featuresOf('2.13')).toMatchObject({ multiTaskPlots: false, multiTaskDebugImages: true, lastChangeFilter: false });
  expect(featuresOf('2.20')).toMatchObject({ multiTaskPlots: true, lastChangeFilter: false });
  expect(featuresOf('2.31')).toMatchObject({ multiTaskPlots: true, lastChangeFilter: true });
  expect(featuresOf(undefined)).toMatchObject({ multiTaskPlots: true, lastChangeFilter: true });
  const body = { ids: ['x'], delete_external_artifacts: false };
  expect(bodyForServer('models.delete_many', body, '2.25')).toBe(body);
  expect(bodyForServer('models.delete_many', body, '2.24')).toEqual({ ids: ['x'] });
  expect(bodyForServer('models.delete_many', body, '2.9')).toEqual({ ids: ['x'] });
});

test('a server older than API 2.13: a deleting pass stops before anything, with one line', async () => {
  claims = { api_version: '2.12' };
  s.seen.length = 0;
  const { runPass, silentLogger } = await import('../src/cleanup/index.js');
  const { mkdtemp, rm } = await import('node:fs/promises');
  const { tmpdir } = await import('node:os');
  const path = await import('node:path');
  const stateDir = await mkdtemp(path.join(tmpdir(), 'old-server-'));
  const c = new ClearMLClient({ api: { apiServer: s.url, accessKey: 'k', secretKey: 's' } });
  const asked: string[] = [];
  try {
    const r = await runPass(
      { api: c, storage: { deleteFiles: async (urls) => (asked.push(...urls), []) }, log: silentLogger },
      { deleteThresholdDays: 30, stateDir, pacingMs: 0 },
    );
    expect(r.error).toBe(
      "the ClearML server's API is 2.12, older than 2.13 (clearml-server 1.0, the first with tasks.delete_many): not supported, nothing was deleted",
    );
    expect(s.seen.map((q) => q.url)).toEqual(['/auth.login']);
    expect(asked).toEqual([]);
  } finally {
    c.close();
    await rm(stateDir, { recursive: true, force: true });
  }
});
