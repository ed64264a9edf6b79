/**
 * The web app front of the embedded server, without a browser: static files and client-side
 * routes, configuration.json, /api and /files through the proxy with the session cookie, and the
 * endpoints the web app calls along the admin's path (login, users, preferences, *_ex reads).
 * A stand-in app folder (index.html, one script, env.js) replaces the real build here.
 */
import { spawn, spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type { ClearMLClient } from '../src/api/index.js';
import { startServer, type RunningServer } from '../src/server/index.js';
import { ensureBuilt, serverStarted } from './support/node-script.js';
import { clientFor } from './support/task-world.js';

let server: RunningServer;
let client: ClearMLClient;
let appDir: string;
let cookie = '';

beforeAll(async () => {
  appDir = mkdtempSync(path.join(tmpdir(), 'webapp-stand-in-'));
  writeFileSync(path.join(appDir, 'index.html'), '<!doctype html><title>stand-in app</title>');
  writeFileSync(path.join(appDir, 'main-ABC.js'), 'console.log(1)');
  writeFileSync(path.join(appDir, 'env.js'), "window.__env.subPath = '${CLEARML_SERVER_SUB_PATH}';");
  server = await startServer({ port: 0, filesPort: 0, webPort: 0, webappDir: appDir });
  client = clientFor(server);
});

afterAll(async () => {
  client?.close();
  await server?.close();
  rmSync(appDir, { recursive: true, force: true });
});

async function api(endpoint: string, body: object = {}, headers: Record<string, string> = {}) {
  const res = await fetch(`${server.webUrl}/api/v999.0/${endpoint}`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...(cookie ? { cookie } : {}), ...headers },
    body: JSON.stringify(body),
  });
  const json = (await res.json()) as { meta: Record<string, any>; data: Record<string, any> };
  return { status: res.status, meta: json.meta, data: json.data, setCookie: res.headers.get('set-cookie') };
}

test('a missing app folder is one clear error before anything listens', async () => {
  await expect(startServer({ port: 0, filesPort: 0, webPort: 0, webappDir: path.join(appDir, 'nope') })).rejects.toThrow(/is not a built ClearML web app/);
});

test('static files, client-side routes fall back to index.html, missing assets are 404, no escape from the folder', async () => {
  expect(server.webUrl).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
  const asset = await fetch(`${server.webUrl}/main-ABC.js`);
  expect(asset.headers.get('content-type')).toContain('javascript');
  expect(await asset.text()).toBe('console.log(1)');
  for (const route of ['/', '/login', '/projects/abc/tasks/def/execution']) {
    const res = await fetch(`${server.webUrl}${route}`);
    expect(res.status).toBe(200);
    expect(await res.text()).toContain('stand-in app');
  }
  expect((await fetch(`${server.webUrl}/chunk-MISSING.js`)).status).toBe(404);
  const escape = await fetch(`${server.webUrl}/%2e%2e/%2e%2e/etc/passwd`);
  expect(await escape.text()).not.toContain('root:');
  expect(await (await fetch(`${server.webUrl}/env.js`)).text()).toBe("window.__env.subPath = '';");
});

test('configuration.json points the app at /api and /files on its own origin', async () => {
  const conf = (await (await fetch(`${server.webUrl}/configuration.json`)).json()) as Record<string, string>;
  expect(conf).toEqual({ apiBaseUrl: `${server.webUrl}/api`, fileBaseUrl: `${server.webUrl}/files` });
});

test('login: supported_modes without a session, Basic key:secret sets the cookie, the cookie then authenticates', async () => {
  const before = await api('login.supported_modes');
  expect(before.status).toBe(200);
  expect(before.meta.endpoint.actual_version).toBe('2.34');
  expect(before.data).toMatchObject({ basic: { enabled: true }, authenticated: false });
  expect((await api('users.get_current_user')).status).toBe(401);

  const wrong = await api('auth.login', {}, { authorization: `Basic ${Buffer.from(`${server.accessKey}:nope`).toString('base64')}` });
  expect(wrong.status).toBe(401);
  const ok = await api('auth.login', {}, { authorization: `Basic ${Buffer.from(`${server.accessKey}:${server.secretKey}`).toString('base64')}` });
  expect(ok.status).toBe(200);
  expect(ok.setCookie).toMatch(/^clearml_token_basic=[^;]+; Path=\/; HttpOnly/);
  cookie = ok.setCookie!.split(';')[0];

  expect((await api('login.supported_modes')).data.authenticated).toBe(true);
  const me = await api('users.get_current_user');
  expect(me.status).toBe(200);
  expect(me.data.user.company.id).toBeTruthy();
  expect(me.data.settings.max_download_items).toBe(1000);
  expect((await api('server.report_stats_option')).data).toEqual({ supported: false });
});

test('users preferences: dotted top-level keys merge into the stored tree; "$" keys are refused', async () => {
  expect((await api('users.get_preferences')).data).toEqual({ preferences: {} });
  const set = await api('users.set_preferences', { preferences: { 'views.theme': 'dark', table: { cols: ['a'] } }, return_updated: true });
  expect(set.data).toEqual({ updated: 1, fields: { preferences: { views: { theme: 'dark' }, table: { cols: ['a'] } } } });
  expect((await api('users.set_preferences', { preferences: { 'views.theme': 'dark' } })).data.updated).toBe(0);
  expect((await api('users.get_preferences')).data.preferences.views).toEqual({ theme: 'dark' });
  expect((await api('users.set_preferences', { preferences: { a: { $where: 1 } } })).status).toBe(400);
});

test('projects.get_all_ex stats and tasks.get_by_id_ex joined references, as the project and task pages read them', async () => {
  const project = (await client.projects.create({ name: 'Stats project' })).id;
  const a = (await client.tasks.create({ name: 'task a', type: 'training', project })).id;
  const b = (await client.tasks.create({ name: 'task b', type: 'training', project })).id;
  await client.tasks.archive({ tasks: [b] });

  const active = await api('projects.get_all_ex', { id: [project], include_stats: true, stats_for_state: 'active', check_own_contents: true });
  expect(active.data.projects[0].stats.active).toMatchObject({ total_tasks: 1, status_count: { created: 1, queued: 0 } });
  expect(active.data.projects[0].own_tasks).toBe(1);
  // a project without company.id would show as a read-only example
  expect(active.data.projects[0].company).toEqual({ id: expect.any(String), name: 'embedded' });
  const archived = await api('projects.get_all_ex', { id: [project], include_stats: true, stats_for_state: 'archived' });
  expect(archived.data.projects[0].stats.active.total_tasks).toBe(1);

  const ex = await api('tasks.get_by_id_ex', { id: [a], only_fields: ['name', 'project.name', 'user.name', 'company'] });
  expect(ex.data.tasks[0]).toMatchObject({ id: a, name: 'task a', project: { id: project, name: 'Stats project' }, user: { name: 'embedded' } });
  expect(ex.data.tasks[0].company.id).toBeTruthy();

  const users = await api('projects.get_user_names', { projects: [project] });
  expect(users.data.users).toEqual([expect.objectContaining({ name: 'embedded' })]);
  await client.call('tasks.update', { task: a, tags: ['nightly'] });
  expect((await api('organization.get_tags', {})).data.tags).toContain('nightly');
  expect((await api('events.get_task_single_value_metrics', { tasks: [a] })).data).toEqual({ tasks: [{ task: a, values: [] }] });
});

test('/files goes to the file server with the session cookie', async () => {
  const rel = 'some project/t.1/artifacts/x/x.txt';
  mkdirSync(path.dirname(path.join(server.dataDir, 'files', rel)), { recursive: true });
  writeFileSync(path.join(server.dataDir, 'files', rel), 'artifact body');
  const url = `${server.webUrl}/files/${rel.split('/').map(encodeURIComponent).join('/')}`;
  expect((await fetch(url)).status).toBe(401);
  const res = await fetch(url, { headers: { cookie } });
  expect(res.status).toBe(200);
  expect(await res.text()).toBe('artifact body');
});

describe('`clearml-cleanup server --webapp` (the built CLI)', () => {
  beforeAll(() => ensureBuilt('cli.js'), 120_000);

  test('prints the web app URL, serves the app, and stops on SIGTERM; a folder without index.html is one clear error', async () => {
    const cli = spawn(process.execPath, ['dist/cli.js', 'server', '--port', '0', '--files-port', '0', '--web-port', '0', '--webapp', appDir], {
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    try {
      const out = await serverStarted(cli);
      const url = /web app: +(http:\/\/\S+)/.exec(out)?.[1];
      expect(url).toBeDefined();
      // no --data-dir: the generated secret is not printed, so the line says how to get one
      expect(out).toContain('start with --data-dir to read it');
      expect(await (await fetch(`${url}/login`)).text()).toContain('stand-in app');
    } finally {
      cli.removeAllListeners('exit');
      if (cli.exitCode === null) process.kill(cli.pid!, 'SIGTERM');
    }
    const bad = spawnSync(process.execPath, ['dist/cli.js', 'server', '--port', '0', '--files-port', '0', '--web-port', '0', '--webapp', path.join(appDir, 'nope')], {
      encoding: 'utf8',
    });
    expect(bad.status).not.toBe(0);
    expect(bad.stderr).toMatch(/is not a built ClearML web app/);
  }, 30_000);
});
