/** ClearMLClient mechanics against a tiny real HTTP server: envelope errors, retries, auth, headers. */
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { ApiError, ClearMLClient, type ClearMLClientOptions } from '../src/api/index.js';
import { envelope, fakeJwt, startTinyServer, type TinyServer } from './support/api-tiny-server.js';

const SECRET = 'sup3r-s3cret-value';
const KEY = 'ACCESSKEY123';
const clients: ClearMLClient[] = [];
const servers: TinyServer[] = [];

function client(url: string, extra: Partial<ClearMLClientOptions> = {}): ClearMLClient {
  const c = new ClearMLClient({
    api: { apiServer: url, accessKey: KEY, secretKey: SECRET, verifyCertificate: true, apiVersion: '2.23' },
    retries: 2,
    backoffBaseMs: 1,
    backoffMaxMs: 5,
    ...extra,
  });
  clients.push(c);
  return c;
}

async function tiny(handler: Parameters<typeof startTinyServer>[0]): Promise<TinyServer> {
  const s = await startTinyServer(handler);
  servers.push(s);
  return s;
}

const farExp = () => Math.floor(Date.now() / 1000) + 30 * 86400;

/** A server that logs in anyone and answers every call with `data`, unless `route` says otherwise. */
function apiHandler(route: (endpoint: string, res: http.ServerResponse) => boolean = () => false, exp = farExp) {
  let n = 0;
  return (req: { url: string }, res: http.ServerResponse) => {
    if (req.url === '/auth.login') return envelope(res, { token: fakeJwt({ exp: exp(), n: ++n }) });
    const endpoint = req.url.replace(/^\/v[\d.]+\//, '');
    if (!route(endpoint, res)) envelope(res, { echo: endpoint });
  };
}

afterEach(async () => {
  while (clients.length) clients.pop()!.close();
  while (servers.length) await servers.pop()!.close();
});

describe('requests and headers', () => {
  test('logs in with Basic auth at /auth.login, then POSTs /v2.23/<endpoint> with a bearer token and our headers', async () => {
    const s = await tiny(apiHandler());
    const c = client(s.url, { workerId: 'worker-7', clientName: 'clearml-cleanup-9.9.9' });
    await expect(c.call('tasks.get_all', { page: 0 })).resolves.toEqual({ echo: 'tasks.get_all' });

    expect(s.seen.map((r) => `${r.method} ${r.url}`)).toEqual(['POST /auth.login', 'POST /v2.23/tasks.get_all']);
    const [login, call] = s.seen;
    expect(login.headers.authorization).toBe(`Basic ${Buffer.from(`${KEY}:${SECRET}`).toString('base64')}`);
    expect(call.headers.authorization).toMatch(/^Bearer [\w-]+\.[\w-]+\.[\w-]+$/);
    expect(call.headers['x-clearml-worker']).toBe('worker-7');
    expect(call.headers['x-clearml-client']).toBe('clearml-cleanup-9.9.9');
    expect(call.headers['content-type']).toBe('application/json');
    expect(call.headers['content-encoding']).toBeUndefined();
    expect(JSON.parse(call.body)).toEqual({ page: 0 });
    expect(c.stats).toMatchObject({ calls: 1, byEndpoint: { 'tasks.get_all': 1 }, logins: 1, retries: 0, requests: 2 });
  });

  test('default client header names our version; apiVersion from config is used in the path', async () => {
    const s = await tiny(apiHandler());
    const c = new ClearMLClient({ api: { apiServer: `${s.url}/`, authToken: fakeJwt({ exp: farExp() }), apiVersion: '2.20' } });
    clients.push(c);
    await c.call('queues.get_all', {});
    expect(s.seen[0].url).toBe('/v2.20/queues.get_all');
    expect(s.seen[0].headers['x-clearml-client']).toMatch(/^clearml-cleanup-\d+\.\d+\.\d+/);
    expect(s.seen[0].headers['user-agent']).toMatch(/^clearml-cleanup\//);
  });

  test('events.addBatch sends json-lines with Content-Type exactly application/json-lines', async () => {
    const s = await tiny(apiHandler((ep, res) => (ep === 'events.add_batch' ? (envelope(res, { added: 2, errors: 0 }), true) : false)));
    const c = client(s.url);
    const out = await c.events.addBatch([
      { type: 'log', task: 't1', timestamp: 1, level: 'info', msg: 'a' },
      { type: 'log', task: 't1', timestamp: 2, level: 'info', msg: 'b\nc' },
    ]);
    expect(out.added).toBe(2);
    const req = s.seen.find((r) => r.url.endsWith('events.add_batch'))!;
    expect(req.headers['content-type']).toBe('application/json-lines');
    const lines = req.body.split('\n');
    expect(lines).toHaveLength(2);
    expect(JSON.parse(lines[1]).msg).toBe('b\nc');
  });

  test('a bearer token alone is used as is, without logging in', async () => {
    const s = await tiny(apiHandler());
    const token = fakeJwt({ exp: farExp() });
    const c = new ClearMLClient({ api: { apiServer: s.url, authToken: token } });
    clients.push(c);
    await c.call('tasks.get_all');
    expect(s.seen.map((r) => r.url)).toEqual(['/v2.23/tasks.get_all']);
    expect(s.seen[0].headers.authorization).toBe(`Bearer ${token}`);
    await expect(c.getToken()).resolves.toBe(token);
  });

  test('no keys and no token is a configuration error', () => {
    expect(() => new ClearMLClient({ api: { apiServer: 'http://127.0.0.1:1' } })).toThrow(/not configured/);
  });
});

describe('tokens', () => {
  test('a token that expires within the margin is renewed before the next call; a long one is kept', async () => {
    let exp = Math.floor(Date.now() / 1000) + 200; // inside the default 360 s margin
    const s = await tiny(apiHandler(undefined, () => exp));
    const c = client(s.url);
    await c.call('tasks.get_all');
    await c.call('tasks.get_all');
    expect(c.stats.logins).toBe(2);
    exp = farExp();
    await c.call('tasks.get_all');
    await c.call('tasks.get_all');
    await c.call('tasks.get_all');
    expect(c.stats.logins).toBe(3);
    expect(s.seen.filter((r) => r.url === '/auth.login')).toHaveLength(3);
  });

  test('refreshMarginSec drives expiry: a huge margin logs in before every call', async () => {
    const s = await tiny(apiHandler());
    const c = client(s.url, { refreshMarginSec: 365 * 86400 });
    await c.call('a.b');
    await c.call('a.b');
    expect(c.stats.logins).toBe(2);
  });

  test('concurrent calls share one login', async () => {
    const s = await tiny(apiHandler());
    const c = client(s.url);
    await Promise.all(Array.from({ length: 10 }, () => c.call('tasks.get_all')));
    expect(s.seen.filter((r) => r.url === '/auth.login')).toHaveLength(1);
  });

  test('a 401 logs in again once and repeats the call', async () => {
    let rejected = 0;
    const s = await tiny(
      apiHandler((ep, res) => {
        if (ep === 'tasks.get_all' && rejected === 0) {
          rejected++;
          envelope(res, {}, 401, 20, 'Unauthorized (invalid token)');
          return true;
        }
        return false;
      }),
    );
    const c = client(s.url);
    await expect(c.call('tasks.get_all')).resolves.toEqual({ echo: 'tasks.get_all' });
    expect(s.seen.map((r) => r.url)).toEqual(['/auth.login', '/v2.23/tasks.get_all', '/auth.login', '/v2.23/tasks.get_all']);
    expect(s.seen[3].headers.authorization).not.toBe(s.seen[1].headers.authorization);
    expect(c.stats.retries).toBe(0);
  });

  test('a 401 that persists fails after exactly one new login', async () => {
    const s = await tiny(apiHandler((ep, res) => (ep === 'tasks.get_all' ? (envelope(res, {}, 401, 20, 'Unauthorized'), true) : false)));
    const c = client(s.url);
    const err = await c.call('tasks.get_all').catch((e) => e);
    expect(err).toBeInstanceOf(ApiError);
    expect(err).toMatchObject({ kind: 'api', code: 401, endpoint: 'tasks.get_all' });
    expect(s.seen.filter((r) => r.url === '/auth.login')).toHaveLength(2);
    expect(s.seen.filter((r) => r.url.endsWith('tasks.get_all'))).toHaveLength(2);
  });

  test('wrong keys: auth.login 401 gives a clear message without the secret', async () => {
    const s = await tiny((_req, res) => envelope(res, {}, 401, 0, 'Invalid user credentials'));
    const c = client(s.url);
    const err = (await c.call('tasks.get_all').catch((e) => e)) as ApiError;
    expect(err).toBeInstanceOf(ApiError);
    expect(err.endpoint).toBe('auth.login');
    expect(err.message).toMatch(/^auth\.login failed: 401\/0 Invalid user credentials \(check the access key/);
    expect(err.message).not.toContain(SECRET);
    expect(JSON.stringify(err)).not.toContain(SECRET);
    expect(s.seen).toHaveLength(1); // a 4xx is not retried
  });
});

describe('errors and retries', () => {
  test('an API error becomes ApiError with code/subcode and is not retried', async () => {
    const s = await tiny(apiHandler((ep, res) => (ep === 'tasks.delete' ? (envelope(res, null, 400, 123, 'Task has published children'), true) : false)));
    const c = client(s.url);
    const err = (await c.tasks.delete({ task: 't1' }).catch((e) => e)) as ApiError;
    expect(err).toBeInstanceOf(ApiError);
    expect(err.message).toBe('tasks.delete failed: 400/123 Task has published children');
    expect(err).toMatchObject({ code: 400, subcode: 123, resultMsg: 'Task has published children', kind: 'api' });
    expect(err.is(400, 123)).toBe(true);
    expect(s.seen.filter((r) => r.url.endsWith('tasks.delete'))).toHaveLength(1);
    expect(c.stats).toMatchObject({ retries: 0, failures: 1 });
  });

  test('an HTML page with 200 (web app port, captive proxy) is a malformed answer, not retried', async () => {
    const s = await tiny((_req, res) => {
      res.writeHead(200, { 'content-type': 'text/html; charset=utf-8' });
      res.end('<!doctype html><html><head><title>ClearML</title><script>var x=1</script></head><body><div id="root">Loading</div></body></html>');
    });
    const c = new ClearMLClient({ api: { apiServer: s.url, authToken: fakeJwt({ exp: farExp() }) }, retries: 2, backoffBaseMs: 1 });
    clients.push(c);
    const err = (await c.call('tasks.get_all').catch((e) => e)) as ApiError;
    expect(err).toBeInstanceOf(ApiError);
    expect(err.kind).toBe('malformed');
    expect(err.code).toBe(0);
    expect(err.message).toContain(s.url);
    expect(err.message).toMatch(/not JSON \(text\/html: "ClearML Loading"\)/);
    expect(s.seen).toHaveLength(1);
  });

  test('a proxy 502 HTML page is retried, then reported with its HTTP status', async () => {
    const s = await tiny((_req, res) => {
      res.writeHead(502, { 'content-type': 'text/html' });
      res.end('<html><body><h1>502 Bad Gateway</h1><hr>nginx</body></html>');
    });
    const c = new ClearMLClient({ api: { apiServer: s.url, authToken: fakeJwt({ exp: farExp() }) }, retries: 2, backoffBaseMs: 1 });
    clients.push(c);
    const err = (await c.call('tasks.get_all').catch((e) => e)) as ApiError;
    expect(err).toMatchObject({ kind: 'malformed', code: 502, attempts: 3 });
    expect(err.message).toMatch(/HTTP 502.*502 Bad Gateway nginx.*after 3 attempts/);
    expect(s.seen).toHaveLength(3);
    expect(c.stats.retries).toBe(2);
  });

  test('JSON without the meta/data envelope is malformed', async () => {
    const s = await tiny((req, res) => {
      if (req.url === '/auth.login') return envelope(res, { token: fakeJwt({ exp: farExp() }) });
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end('{"tasks": []}');
    });
    const c = client(s.url);
    const err = (await c.call('tasks.get_all').catch((e) => e)) as ApiError;
    expect(err).toMatchObject({ kind: 'malformed', endpoint: 'tasks.get_all' });
    expect(err.message).toMatch(/no meta\.result_code/);
  });

  test('a login answer without a token is reported as a misconfigured api_server', async () => {
    const s = await tiny((_req, res) => envelope(res, {}));
    const c = client(s.url);
    await expect(c.call('tasks.get_all')).rejects.toThrow(/auth\.login failed: .*no data\.token/);
  });

  test('503 and reset sockets are retried until the call succeeds', async () => {
    let n = 0;
    const s = await tiny(
      apiHandler((_ep, res) => {
        n++;
        if (n === 1) return envelope(res, {}, 503, 0, 'maintenance'), true;
        if (n === 2) return res.socket?.destroy(), true;
        return false;
      }),
    );
    const c = client(s.url, { retries: 3 });
    await expect(c.call('tasks.get_all')).resolves.toEqual({ echo: 'tasks.get_all' });
    expect(c.stats.retries).toBe(2);
    expect(c.stats.calls).toBe(1);
  });

  test('an unreachable host fails after the retries with a message naming the host, never the secret', async () => {
    const closed = http.createServer();
    await new Promise<void>((r) => closed.listen(0, '127.0.0.1', r));
    const port = (closed.address() as AddressInfo).port;
    await new Promise<void>((r) => closed.close(() => r()));

    const c = client(`http://127.0.0.1:${port}`, { retries: 2 });
    const err = (await c.call('tasks.get_all').catch((e) => e)) as ApiError;
    expect(err).toBeInstanceOf(ApiError);
    expect(err).toMatchObject({ kind: 'network', errorCode: 'ECONNREFUSED', attempts: 3, endpoint: 'auth.login' });
    expect(err.message).toBe(`auth.login failed: cannot reach ClearML API server http://127.0.0.1:${port} (ECONNREFUSED) after 3 attempts`);
    expect(c.stats.retries).toBe(2);
    expect(`${err.message} ${JSON.stringify(err)} ${String(err.stack)}`).not.toContain(SECRET);
  });

  test('an unknown host name is not retried and is named in the message', async () => {
    const c = client('http://no-such-host.invalid:8008', { retries: 3 });
    const err = (await c.call('tasks.get_all').catch((e) => e)) as ApiError;
    expect(err.kind).toBe('network');
    expect(err.message).toContain('http://no-such-host.invalid:8008');
    expect(err.message).toMatch(/ENOTFOUND|EAI_AGAIN/);
  });

  test('credentials in the api_server URL never reach messages', async () => {
    const c = client('http://user:pa55word@127.0.0.1:1', { retries: 0 });
    const err = (await c.call('tasks.get_all').catch((e) => e)) as ApiError;
    expect(err.message).toContain('http://127.0.0.1:1');
    expect(err.message).not.toContain('pa55word');
  });

  test('a timeout is a retried network error', async () => {
    let n = 0;
    const s = await tiny(apiHandler((_ep, res) => (++n === 1 ? true : false))); // first call: never answered
    const c = client(s.url, { timeoutMs: 300, retries: 1 });
    await expect(c.call('tasks.get_all')).resolves.toEqual({ echo: 'tasks.get_all' });
    expect(c.stats.retries).toBe(1);
  });
});

describe('getToken for the file server', () => {
  test('getToken(stale) forces one new login; concurrent stale callers share it; a current token is kept', async () => {
    const s = await tiny(apiHandler());
    const c = client(s.url);
    const first = await c.getToken();
    expect(await c.getToken()).toBe(first);
    const [a, b] = await Promise.all([c.getToken(first), c.getToken(first)]);
    expect(a).not.toBe(first);
    expect(b).toBe(a);
    expect(await c.getToken(first)).toBe(a); // already replaced: no third login
    expect(c.stats.logins).toBe(2);
  });
});
