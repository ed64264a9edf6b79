/**
 * Secrets never leave where they belong. A realistic set of commands runs with distinctive test
 * secrets (API key pair, S3 key/secret, a per-bucket S3 secret, an Azure account key, an auth token,
 * and the JWTs the server hands out): every stdout, stderr, shipped CONSOLE line (read back with
 * events.get_task_log) and thrown error message is searched for them. And the bearer token goes to
 * the configured API and files hosts only: not to a storage URL on another host, not across a redirect.
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { ClearMLClient } from '../src/api/index.js';
import { loadConfig } from '../src/config/index.js';
import { createStorage } from '../src/storage/index.js';
import { startServer, type RunningServer } from '../src/server/index.js';
import { fakeJwt, startTinyServer, type TinyServer } from './support/api-tiny-server.js';
import { startTamperProxy, type TamperProxy } from './support/tamper-proxy.js';
import { makeRepo, oldArchivedDrafts, type TempRepo } from './support/task-world.js';
import { buildDist } from './support/node-script.js';

const S = {
  apiAccess: 'AKTESTACCESSKEY7Q2W9',
  apiSecret: 'sk-TEST-api-secret-5f1e9b7c3a',
  s3Key: 'AKIATESTS3KEYZ8X4V1',
  s3Secret: 's3-TEST-secret-8d2c4a6e0f',
  s3BucketSecret: 's3-TEST-bucket-secret-1a2b3c4d',
  azureKey: 'QXp1cmVURVNUa2V5LXNlY3JldC0wMTIzNDU2Nzg5',
  authToken: fakeJwt({ exp: 4102444800, identity: { user: 'TESTTOKENUSER' }, nonce: 'authTOKENsecret9c8b7a' }),
};

let server: RunningServer;
let proxy: TamperProxy;
let client: ClearMLClient;
let dir: string;
let repo: TempRepo;
let conf: string;
const captured: Array<{ what: string; text: string }> = [];

beforeAll(async () => {
  buildDist();
  server = await startServer({ port: 0, filesPort: 0, accessKey: S.apiAccess, secretKey: S.apiSecret });
  proxy = await startTamperProxy(server.apiUrl);
  client = new ClearMLClient({ api: { apiServer: server.apiUrl, accessKey: S.apiAccess, secretKey: S.apiSecret } });
  dir = mkdtempSync(path.join(tmpdir(), 'secrets-'));
  repo = makeRepo('pushed');
  conf = path.join(dir, 'clearml.conf');
  writeFileSync(
    conf,
    `api {
  api_server: "${proxy.url}"
  web_server: "${proxy.url}"
  files_server: "${server.filesUrl}"
  credentials { access_key: "${S.apiAccess}", secret_key: "${S.apiSecret}" }
}
sdk {
  aws { s3 {
    key: "${S.s3Key}"
    secret: "${S.s3Secret}"
    region: "us-east-1"
    credentials: [ { bucket: "team-bucket", host: "127.0.0.1:9", key: "${S.s3Key}", secret: "${S.s3BucketSecret}", secure: false } ]
  } }
  azure.storage.containers: [ { account_name: "testaccount", account_key: "${S.azureKey}", container_name: "models" } ]
}
`,
  );
}, 180_000);

afterAll(async () => {
  client?.close();
  await proxy?.close();
  await server?.close();
  repo?.cleanup();
  rmSync(dir, { recursive: true, force: true });
});

/** The real CLI as a child (async: the embedded server lives in this process and must keep answering). */
async function cli(what: string, args: string[], env: Record<string, string> = {}): Promise<{ status: number | null; out: string }> {
  const child = spawn(process.execPath, ['dist/cli.js', ...args], {
    cwd: path.resolve('.'),
    env: { PATH: process.env.PATH ?? '', HOME: dir, CLEARML_CONFIG_FILE: conf, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  child.stdout!.on('data', (b: Buffer) => (out += b.toString()));
  child.stderr!.on('data', (b: Buffer) => (out += b.toString()));
  const timer = setTimeout(() => child.pid && process.kill(child.pid, 'SIGKILL'), 60_000);
  const status = await new Promise<number | null>((r) => child.once('close', r));
  clearTimeout(timer);
  captured.push({ what, text: out });
  return { status, out };
}

describe('a realistic run, every output captured', () => {
  test('help, config, plan, run (text, JSON, debug), wrong keys, a bad token, the task console', async () => {
    for (const h of [['--help'], ['run', '--help'], ['plan', '--help'], ['config', '--help'], ['seed', '--help'], ['server', '--help']]) {
      expect((await cli(`${h.join(' ')}`, h)).status).toBe(0);
    }
    const config = await cli('config', ['config']);
    expect(config.status).toBe(0);
    expect(config.out).toMatch(/secretKey\s+\*\*\*\*3a/);
    expect((await cli('config --json', ['config', '--json'])).status).toBe(0);

    await oldArchivedDrafts(server, client, 4, 'secret-test');
    const state = path.join(dir, 'state');
    expect((await cli('plan --json', ['plan', '--json', '--state-dir', state])).status).toBe(0);
    const debug = { CLEARML_LOG_LEVEL: 'debug' };
    const run1 = await cli('run text debug', ['run', '--once', '--run-as-service', 'false', '--state-dir', state, '--pacing-ms', '0'], debug);
    expect(run1.out).toMatch(/Deleting 4 tasks/);
    await oldArchivedDrafts(server, client, 2, 'secret-test-b');
    const run2 = await cli('run json debug', ['run', '--once', '--run-as-service', 'false', '--state-dir', state, '--log-format', 'json'], debug);
    expect(run2.out).toMatch(/Deleting 2 tasks/);

    const wrong = await cli('wrong secret', ['run', '--once', '--run-as-service', 'false', '--state-dir', state, '--retries', '0'], {
      CLEARML_API_SECRET_KEY: `${S.apiSecret}-WRONG`,
    });
    expect(wrong.out).toMatch(/401/);
    const token = await cli('bad auth token', ['run', '--once', '--run-as-service', 'false', '--state-dir', state, '--retries', '0'], {
      CLEARML_AUTH_TOKEN: S.authToken,
    });
    expect(token.out).toMatch(/401|unauthori[sz]ed/i);

    // as a ClearML task, without an agent: the console lines are shipped as log events by us
    const reg = await cli('register task', ['run', '--run-as-service', 'true', '--no-enqueue', '--repo-dir', repo.dir, '--state-dir', state]);
    const taskId = /Task id: ([0-9a-f]+)/.exec(reg.out)?.[1];
    expect(taskId).toBeDefined();
    await oldArchivedDrafts(server, client, 2, 'secret-test-c');
    const asTask = await cli('run as task', ['run', '--run-as-service', 'true', '--task-id', taskId!, '--once', '--state-dir', state], debug);
    expect(asTask.out).toMatch(/Deleting 2 tasks/);
    const log = await client.events.getTaskLog({ task: taskId!, batch_size: 5000, navigate_earlier: false });
    const consoleText = log.events.map((e) => String(e.msg)).join('\n');
    expect(consoleText).toMatch(/Deleting 2 tasks/);
    captured.push({ what: 'task CONSOLE (events.get_task_log)', text: consoleText });
  }, 180_000);

  test('thrown error messages and stacks', async () => {
    const bad = new ClearMLClient({ api: { apiServer: server.apiUrl, accessKey: S.apiAccess, secretKey: 'nope-not-it-0000' }, retries: 0 });
    try {
      await bad.tasks.getAll({});
    } catch (e) {
      captured.push({ what: 'ApiError (wrong secret)', text: `${(e as Error).message}\n${(e as Error).stack}\n${JSON.stringify(e)}` });
    } finally {
      bad.close();
    }
    const creds = new ClearMLClient({ api: { apiServer: `http://user:${S.apiSecret}@127.0.0.1:9`, accessKey: S.apiAccess, secretKey: S.apiSecret }, retries: 0 });
    try {
      await creds.tasks.getAll({});
    } catch (e) {
      captured.push({ what: 'ApiError (unreachable, password in URL)', text: `${(e as Error).message}\n${(e as Error).stack}\n${JSON.stringify(e)}` });
    } finally {
      creds.close();
    }
    const broken = path.join(dir, 'broken.conf');
    writeFileSync(broken, `api { credentials { secret_key: "${S.apiSecret}" access_key: ${S.apiAccess} }\nsdk.aws.s3.secret: "${S.s3Secret}\n`);
    try {
      await loadConfig({ configFile: broken, env: {} });
    } catch (e) {
      captured.push({ what: 'ConfigError (broken HOCON)', text: `${(e as Error).message}\n${(e as Error).stack}` });
    }
    expect(captured.length).toBeGreaterThan(15);
  });

  test('no secret appears in anything captured', () => {
    const tokens = new Set<string>();
    for (const r of proxy.seen) {
      const m = /^Bearer (.+)$/.exec(String(r.headers.authorization ?? ''));
      if (m) tokens.add(m[1]);
    }
    expect(tokens.size).toBeGreaterThan(0); // the JWTs the CLI really used
    const secrets: Record<string, string> = { ...S };
    [...tokens].forEach((t, i) => (secrets[`jwt${i}`] = t));
    const basic = Buffer.from(`${S.apiAccess}:${S.apiSecret}`).toString('base64');
    secrets.basic = basic;
    const leaks: string[] = [];
    for (const c of captured) {
      for (const [name, value] of Object.entries(secrets)) {
        if (name === 'apiAccess') continue; // checked below: it may appear masked only
        if (c.text.includes(value)) leaks.push(`${name} in ${c.what}`);
        // the JWT's signature part alone would be enough to forge nothing, but its claims + signature are the credential
        if (name.startsWith('jwt') || name === 'authToken') {
          const sig = value.split('.')[2];
          if (sig && sig.length > 8 && c.text.includes(sig)) leaks.push(`${name} signature in ${c.what}`);
        }
      }
      if (c.text.includes(S.apiAccess)) leaks.push(`access key in ${c.what}`);
    }
    expect(leaks).toEqual([]);
  });
});

describe('where the bearer token goes', () => {
  let files: TinyServer;
  let other: TinyServer;

  beforeAll(async () => {
    other = await startTinyServer((_req, res) => {
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end('{}');
    });
    // the files host redirects everything to another host
    files = await startTinyServer((req, res) => {
      res.writeHead(307, { location: `${other.url}${req.url}` });
      res.end();
    });
  });
  afterAll(async () => {
    await files.close();
    await other.close();
  });

  test('sent to the files host, never to another allowed host, never across a redirect', async () => {
    const storage = createStorage({
      filesServer: files.url,
      storage: { s3: { credentials: [] }, gcs: { credentials: [] }, azure: { containers: [] } },
      allowRoots: [other.url],
      getToken: async () => 'THE-BEARER-TOKEN-0123456789',
    });
    try {
      const outcomes = await storage.deleteFiles([
        `${files.url}/proj/t.1/artifacts/a/data.bin`,
        `${files.url}/proj/t.1/artifacts/b/data.bin`,
        `${other.url}/proj/t.2/artifacts/a/data.bin`,
      ]);
      expect(outcomes).toHaveLength(3);
    } finally {
      storage.close();
    }
    expect(files.seen.length).toBeGreaterThan(0);
    expect(files.seen.every((r) => r.headers.authorization === 'Bearer THE-BEARER-TOKEN-0123456789')).toBe(true);
    // the other host saw only the direct request for its own file, without any credential
    expect(other.seen.length).toBeGreaterThan(0);
    for (const r of other.seen) {
      expect(r.headers.authorization).toBeUndefined();
      expect(r.headers.cookie).toBeUndefined();
      // only its own file, asked for directly: nothing of the files host's redirects reached it
      expect(`${r.url} ${r.body}`).toContain('proj/t.2/');
      expect(`${r.url} ${r.body}`).not.toContain('proj/t.1/');
    }
  });

  test('the API client follows no redirect: the Basic credentials and the token stay with api_server', async () => {
    const api = await startTinyServer((req, res) => {
      res.writeHead(302, { location: `${other.url}${req.url}` });
      res.end();
    });
    const before = other.seen.length;
    const c = new ClearMLClient({ api: { apiServer: api.url, accessKey: S.apiAccess, secretKey: S.apiSecret }, retries: 0 });
    try {
      await expect(c.tasks.getAll({})).rejects.toThrow(/redirect to http:\/\/127\.0\.0\.1:\d+ not followed/);
      const t = new ClearMLClient({ api: { apiServer: api.url, authToken: S.authToken }, retries: 0 });
      await expect(t.tasks.getAll({})).rejects.toThrow(/not followed/);
      t.close();
    } finally {
      c.close();
      await api.close();
    }
    expect(other.seen.length).toBe(before);
  });
});
