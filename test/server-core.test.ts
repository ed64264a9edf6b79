import http from 'node:http';
import { Api, login, rawCall } from './support/embedded-api.js';

/** The SDK and agent send GET requests with a JSON body, which fetch cannot do. */
function getWithBody(url: string, token: string, body: string): Promise<{ status: number; body: any }> {
  return new Promise((resolve, reject) => {
    const req = http.request(url, {
      method: 'GET',
      headers: { Authorization: `Bearer ${token}`, 'Content-Type': 'application/json', 'Content-Length': Buffer.byteLength(body) },
    });
    req.on('response', (res) => {
      let text = '';
      res.on('data', (c) => (text += c));
      res.on('end', () => resolve({ status: res.statusCode!, body: JSON.parse(text) }));
    });
    req.on('error', reject);
    req.end(body);
  });
}

let api: Api;
beforeAll(async () => {
  api = await Api.start();
});
afterAll(async () => {
  await api.close();
});

describe('envelope and routing', () => {
  test('a call answers the full meta/data envelope with HTTP status = result_code', async () => {
    const a = await api.call('tasks.get_all', {}, '2.23');
    expect(a.status).toBe(200);
    const meta = a.body.meta;
    expect(typeof meta.id).toBe('string');
    expect(typeof meta.trx).toBe('string');
    expect(meta.endpoint).toEqual({ name: 'tasks.get_all', requested_version: '2.23', actual_version: '2.23' });
    expect(meta.result_code).toBe(200);
    expect(meta.result_subcode).toBe(0);
    expect(meta.result_msg).toBe('OK');
    expect(meta.error_stack).toBeNull();
    expect(meta.error_data).toEqual({});
    expect(Array.isArray(a.body.data.tasks)).toBe(true);
  });

  test('no version in the URL means the newest version', async () => {
    const a = await rawCall(`${api.server.apiUrl}/tasks.get_all`, {
      headers: { Authorization: `Bearer ${api.token}` },
    });
    expect(a.status).toBe(200);
    expect(a.body.meta.endpoint.requested_version).toBe('2.34');
  });

  test('query-string parameters are merged into the body', async () => {
    const id = await api.createTask('query string task');
    const a = await rawCall(`${api.server.apiUrl}/v2.23/tasks.get_by_id?task=${id}`, {
      headers: { Authorization: `Bearer ${api.token}` },
    });
    expect(a.status).toBe(200);
    expect(a.body.data.task.id).toBe(id);
  });

  test('GET with a JSON body (as the SDK sends), extra keys such as "method" and nulls ignored', async () => {
    const id = await api.createTask('get body task');
    const a = await getWithBody(
      `${api.server.apiUrl}/v2.23/tasks.get_all`,
      api.token,
      JSON.stringify({ id: [id], only_fields: ['status', 'status_message', 'id'], search_hidden: false, method: 'get', parent: null }),
    );
    expect(a.status).toBe(200);
    expect(a.body.data.tasks).toEqual([{ id, status: 'created', status_message: '' }]);
  });

  test('unknown endpoint and unknown action are 404 in the envelope', async () => {
    for (const ep of ['nosuch.thing', 'tasks.nosuch', 'workers.get_runtime_properties']) {
      const a = await api.call(ep);
      expect(a.status).toBe(404);
      expect(a.body.meta.result_code).toBe(404);
      expect(a.body.meta.result_msg).toMatch(/Unable to find endpoint/);
      expect(a.body.data).toEqual({});
    }
    const b = await rawCall(`${api.server.apiUrl}/not/an/endpoint`);
    expect(b.status).toBe(404);
    expect(b.body.meta.result_code).toBe(404);
  });

  test('Content-Encoding is refused with 415', async () => {
    const a = await rawCall(`${api.server.apiUrl}/v2.23/tasks.get_all`, {
      method: 'POST',
      headers: { Authorization: `Bearer ${api.token}`, 'Content-Type': 'application/json', 'Content-Encoding': 'gzip' },
      body: '{}',
    });
    expect(a.status).toBe(415);
    expect(a.body.meta.result_code).toBe(415);
  });

  test('malformed JSON is 400', async () => {
    const a = await rawCall(`${api.server.apiUrl}/v2.23/tasks.get_all`, {
      method: 'POST',
      headers: { Authorization: `Bearer ${api.token}`, 'Content-Type': 'application/json' },
      body: '{"oops":',
    });
    expect(a.status).toBe(400);
    expect(a.body.meta.result_code).toBe(400);
  });

  test('a version above the newest is answered with the newest (apiserver.version.check_max_version is false by default)', async () => {
    // the web app asks for v999.0, meaning "your newest"
    const a = await api.call('tasks.get_all', {}, '9.99');
    expect(a.status).toBe(200);
    expect(a.body.meta.endpoint).toMatchObject({ requested_version: '9.99', actual_version: '2.34' });
    expect((await api.call('tasks.get_all', {}, '1.0')).status).toBe(400);
  });
});

describe('auth', () => {
  test('auth.login returns a decodable HS256 JWT with the claims the SDK reads', async () => {
    const token = await login(api.server);
    const [head, payload, sig] = token.split('.');
    expect(sig.length).toBeGreaterThan(10);
    expect(JSON.parse(Buffer.from(head, 'base64url').toString())).toMatchObject({ alg: 'HS256', typ: 'JWT' });
    const claims = JSON.parse(Buffer.from(payload, 'base64url').toString());
    expect(typeof claims.exp).toBe('number');
    expect(claims.exp).toBeGreaterThan(Date.now() / 1000 + 86400);
    expect(claims.api_version).toBe('2.34');
    expect(typeof claims.server_version).toBe('string');
    expect(claims.feature_set).toBe('basic');
    expect(claims.identity).toMatchObject({ role: 'admin' });
    expect(typeof claims.identity.user).toBe('string');
    expect(typeof claims.identity.company).toBe('string');
  });

  test('login with wrong secret is 401, with no credentials 401', async () => {
    const bad = Buffer.from(`${api.server.accessKey}:nope`).toString('base64');
    const a = await rawCall(`${api.server.apiUrl}/auth.login`, { headers: { Authorization: `Basic ${bad}` } });
    expect(a.status).toBe(401);
    expect(a.body.meta.result_code).toBe(401);
    const b = await rawCall(`${api.server.apiUrl}/auth.login`);
    expect(b.status).toBe(401);
  });

  test('missing, forged and expired bearer tokens are 401', async () => {
    const none = await rawCall(`${api.server.apiUrl}/v2.23/tasks.get_all`);
    expect(none.status).toBe(401);
    const [h, p] = api.token.split('.');
    const forged = await rawCall(`${api.server.apiUrl}/v2.23/tasks.get_all`, {
      headers: { Authorization: `Bearer ${h}.${p}.AAAA` },
    });
    expect(forged.status).toBe(401);
    // a token with a 1 s lifetime, then wait for it to expire
    const basic = Buffer.from(`${api.server.accessKey}:${api.server.secretKey}`).toString('base64');
    const short = await rawCall(`${api.server.apiUrl}/auth.login?expiration_sec=1`, { headers: { Authorization: `Basic ${basic}` } });
    expect(short.status).toBe(200);
    await new Promise((r) => setTimeout(r, 2100));
    const expired = await rawCall(`${api.server.apiUrl}/v2.23/tasks.get_all`, {
      headers: { Authorization: `Bearer ${short.body.data.token}` },
    });
    expect(expired.status).toBe(401);
    expect(expired.body.meta.result_code).toBe(401);
  });

  test('login with an existing bearer token (CLEARML_AUTH_TOKEN) issues a new token', async () => {
    const a = await rawCall(`${api.server.apiUrl}/auth.login`, { headers: { Authorization: `Bearer ${api.token}` } });
    expect(a.status).toBe(200);
    expect(a.body.data.token.split('.')).toHaveLength(3);
  });
});

describe('tasks basics', () => {
  test('create stamps dates, Draft has status_changed null, get_by_id returns SDK defaults', async () => {
    const id = await api.createTask('basic task', { system_tags: ['development'] });
    expect(id).toMatch(/^[a-f0-9]{32}$/);
    const { task } = await api.ok('tasks.get_by_id', { task: id });
    expect(task).toMatchObject({ id, name: 'basic task', status: 'created', type: 'training', status_message: '' });
    expect(task.status_changed).toBeNull();
    expect(task.created).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}\+00:00$/);
    expect(task.last_update).toBe(task.created);
    expect(task.last_change).toBe(task.created);
    expect(task.execution.artifacts).toEqual([]);
    expect(task.script).toMatchObject({ binary: 'python' });
    expect(task.models).toEqual({ input: [], output: [] });
    expect(task.hyperparams).toEqual({});
    expect(task.runtime).toEqual({});
    expect(task.last_iteration).toBe(0);
  });

  test('unknown task id is 400/101; short name is 400/800', async () => {
    expect(await api.fails('tasks.get_by_id', { task: 'f'.repeat(32) })).toEqual([400, 101]);
    expect(await api.fails('tasks.create', { name: 'ab', type: 'training' })).toEqual([400, 800]);
  });

  test('get_all by id with dotted only_fields returns nested objects', async () => {
    const id = await api.createTask('projection task', { runtime: { _abort_poll_freq: '10', other: 'x' } });
    const { tasks } = await api.ok('tasks.get_all', { id: [id], only_fields: ['status', 'runtime._abort_poll_freq'] });
    expect(tasks).toEqual([{ id, status: 'created', runtime: { _abort_poll_freq: '10' } }]);
  });
});
