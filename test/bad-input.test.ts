/**
 * Bad input, end to end through the `run` command: every case gives one clear line (never a stack
 * trace, never a secret) and deletes nothing. The ClearML server is the embedded one, reached through a
 * real HTTP(S) proxy that answers for it where a case needs an answer no ClearML would give.
 * (Bad hyperparameter values from the web UI are in task-agent.test.ts: 25 values + 4 through the agent.)
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { chmodSync, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import http from 'node:http';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { PassThrough } from 'node:stream';
import type { AddressInfo } from 'node:net';
import { createLogger } from '../src/log/index.js';
import { runRunCommand, type RunArgs } from '../src/commands/run.js';
import { applyEnv, clearmlEnvFor, runOnceArgs } from './support/in-process-cli.js';
import { World, type BuiltTask } from './support/cleanup-world.js';
import { envelopeBody, startTamperProxy, type Decide, type TamperProxy } from './support/tamper-proxy.js';
import { buildDist } from './support/node-script.js';

let w: World;
let proxy: TamperProxy;
let home: string;
let victims: BuiltTask[];
let outside: string;
const ENV = ['CLEARML_API_HOST', 'CLEARML_WEB_HOST', 'CLEARML_FILES_HOST', 'CLEARML_API_ACCESS_KEY', 'CLEARML_API_SECRET_KEY', 'CLEARML_CONFIG_FILE', 'CLEARML_TASK_ID', 'CLEARML_API_HOST_VERIFY_CERT', 'CLEARML_AUTH_TOKEN', 'HOME'];
const saved: Record<string, string | undefined> = {};

function setEnv(extra: Record<string, string | undefined> = {}): void {
  // the API through the proxy; the file server directly
  applyEnv({
    ...clearmlEnvFor({ ...w.server, apiUrl: proxy.url }, home),
    CLEARML_API_HOST_VERIFY_CERT: undefined,
    CLEARML_AUTH_TOKEN: undefined,
    ...extra,
  });
}

beforeAll(async () => {
  for (const k of ENV) saved[k] = process.env[k];
  buildDist();
  w = await World.start();
  proxy = await startTamperProxy(w.server.apiUrl);
  home = await mkdtemp(path.join(tmpdir(), 'bad-input-home-'));
  // a file outside every allowed root, which a `..` path points to
  mkdirSync(path.join(home, 'root'), { recursive: true });
  outside = path.join(home, 'outside.txt');
  writeFileSync(outside, 'not ours');
  victims = [];
  for (let i = 0; i < 3; i++) victims.push(await w.task({ artifacts: 1, debugImages: 2 }));
  await w.finalize();
}, 180_000);

afterAll(async () => {
  for (const k of ENV) {
    if (saved[k] === undefined) delete process.env[k];
    else process.env[k] = saved[k];
  }
  await proxy?.close();
  await w?.close();
  await rm(home, { recursive: true, force: true });
});

beforeEach(() => {
  proxy.decide = () => undefined;
  setEnv();
});

const base = (): RunArgs => ({ ...runOnceArgs(w.stateDir), retries: 0, requestTimeoutMs: 5_000 });

/** Runs `run --once` in-process; everything it printed (log and stderr) in one string. */
async function run(args: Partial<RunArgs> = {}): Promise<{ code: number; out: string }> {
  const stream = new PassThrough();
  let out = '';
  stream.on('data', (b: Buffer) => (out += b.toString()));
  const code = await runRunCommand({ ...base(), ...args }, { log: createLogger({ format: 'text', stream }), err: (t) => (out += t) });
  return { code, out };
}

async function expectNothingDeleted(): Promise<void> {
  expect(await w.existingTasks(victims.map((t) => t.id))).toHaveLength(victims.length);
  const files = victims.flatMap((t) => t.files);
  expect(await w.existing(files)).toHaveLength(files.length);
}

/** The error is on one line matching `re`; no stack trace, no secret. */
function expectOneLine(out: string, re: RegExp): void {
  const lines = out.split('\n').filter((l) => re.test(l));
  expect({ out, matching: lines.length > 0 }).toEqual({ out, matching: true });
  expect(out).not.toMatch(/\n\s+at .+:\d+:\d+/);
  expect(out).not.toContain(w.server.secretKey);
}

/** A case that fails the run: non-zero exit, the line, nothing deleted. */
async function expectRefused(args: Partial<RunArgs>, re: RegExp, code?: number): Promise<string> {
  const r = await run(args);
  if (code !== undefined) expect(r.code).toBe(code);
  else expect(r.code).not.toBe(0);
  expectOneLine(r.out, re);
  await expectNothingDeleted();
  return r.out;
}

const answerFor =
  (endpoint: string, answer: ReturnType<typeof envelopeBody> | 'drop'): Decide =>
  (req) =>
    req.endpoint === endpoint ? answer : undefined;

describe('command-line flags', () => {
  test.each<[string, Partial<RunArgs>, RegExp]>([
    ['negative threshold', { deleteThresholdDays: -1 }, /^clearml-cleanup: --delete-threshold-days must be a number of days >= 0, got -1$/m],
    ['threshold not a number (yargs gives NaN)', { deleteThresholdDays: NaN }, /--delete-threshold-days must be a number .* got a value that is not a number/],
    ['negative retries', { retries: -1 }, /^clearml-cleanup: --retries must be an integer from 0 to 20, got -1$/m],
    ['a request timeout too small to work', { requestTimeoutMs: 5 }, /--request-timeout-ms must be a number of ms >= 100, got 5/],
    ['negative pacing', { pacingMs: -5 }, /--pacing-ms must be >= 0, got -5/],
  ])('%s', async (_name, args, re) => {
    await expectRefused(args, re, 2);
  });

  const cli = (...args: string[]) =>
    spawnSync(process.execPath, ['dist/cli.js', 'run', '--once', '--run-as-service', 'false', '--state-dir', w.stateDir, ...args], {
      cwd: path.resolve('.'),
      env: { ...process.env },
      encoding: 'utf8',
      timeout: 30_000,
    });
  test.each<[string, string[], RegExp]>([
    ['an unknown flag', ['--frobnicate', '3'], /^clearml-cleanup: Unknown arguments?: frobnicate/m],
    ['a bad --log-format', ['--log-format', 'xml'], /^clearml-cleanup: Invalid values:.*log-format.*xml/ms],
    ['a word for a number', ['--delete-threshold-days', 'abc'], /^clearml-cleanup: --delete-threshold-days must be a number of days >= 0, got a value that is not a number$/m],
  ])('%s (real CLI)', async (_name, args, re) => {
    const r = cli(...args);
    expect(r.status).toBe(2);
    expect(r.stderr).toMatch(re);
    expect(r.stderr).not.toMatch(/\n\s+at /);
    await expectNothingDeleted();
  });
});

describe('configuration files', () => {
  const conf = (name: string, text: string) => {
    const p = path.join(home, name);
    writeFileSync(p, text);
    return p;
  };
  const good = () =>
    `api { api_server: "${proxy.url}", files_server: "${w.server.filesUrl}", credentials { access_key: "${w.server.accessKey}", secret_key: "${w.server.secretKey}" } }\n`;
  const noEnv = { CLEARML_API_HOST: undefined, CLEARML_WEB_HOST: undefined, CLEARML_FILES_HOST: undefined, CLEARML_API_ACCESS_KEY: undefined, CLEARML_API_SECRET_KEY: undefined };

  test('a missing file', async () => {
    setEnv(noEnv);
    await expectRefused({ configFile: path.join(home, 'nope.conf') }, /^clearml-cleanup: .*nope\.conf/m, 2);
  });

  test('an unreadable file (chmod 000; as root, the CLI runs without the capabilities that bypass file modes)', async () => {
    setEnv(noEnv);
    const p = conf('locked.conf', good());
    chmodSync(p, 0o000);
    if (process.getuid?.() !== 0) {
      await expectRefused({ configFile: p }, /^clearml-cleanup: .*locked\.conf/m, 2);
      return;
    }
    // Root reads any file through CAP_DAC_OVERRIDE/CAP_DAC_READ_SEARCH: the child stays root (so it
    // reaches the clone wherever it lives, even in a mode 700 folder) but loses those two
    // capabilities (setpriv, util-linux), so the file's mode applies to it as to any other user.
    const r = spawnSync('setpriv', ['--bounding-set=-dac_override,-dac_read_search', process.execPath, 'dist/cli.js', 'run', '--once', '--run-as-service', 'false', '--config-file', p], {
      cwd: path.resolve('.'),
      env: { PATH: process.env.PATH ?? '', HOME: home },
      encoding: 'utf8',
      timeout: 30_000,
    });
    expect(r.error).toBeUndefined();
    expect(r.status).toBe(2);
    expect(r.stderr).toMatch(/^clearml-cleanup: cannot read ClearML configuration file .*locked\.conf: EACCES\. Check its permissions\.$/m);
    expect(r.stderr).not.toMatch(/\n\s+at /);
    await expectNothingDeleted();
  });

  test('a path that is a folder, not a file (unreadable as root too)', async () => {
    setEnv(noEnv);
    await expectRefused({ configFile: home }, new RegExp(`^clearml-cleanup: .*${home.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}`, 'm'), 2);
  });

  test('broken HOCON', async () => {
    setEnv(noEnv);
    const p = conf('broken.conf', `${good()}api { api_server: "http://x:8008"\n`);
    await expectRefused({ configFile: p }, /^clearml-cleanup: .*broken\.conf/m, 2);
  });

  test('a missing key (no api_server)', async () => {
    setEnv(noEnv);
    const p = conf('nohost.conf', `api { credentials { access_key: "${w.server.accessKey}", secret_key: "${w.server.secretKey}" } }\n`);
    await expectRefused({ configFile: p }, /^clearml-cleanup: ClearML API server is not set/m, 2);
  });

  test('half a key pair', async () => {
    setEnv(noEnv);
    const p = conf('half.conf', `api { api_server: "${proxy.url}", credentials { access_key: "${w.server.accessKey}" } }\n`);
    await expectRefused({ configFile: p }, /^clearml-cleanup: ClearML API secret key is missing/m, 2);
  });

  test('wrong types (a list as api_server, a number as verify_certificate)', async () => {
    setEnv(noEnv);
    const p = conf('types.conf', `api { api_server: [1, 2], credentials { access_key: a, secret_key: b } }\n`);
    await expectRefused({ configFile: p }, /^clearml-cleanup: .*api\.api_server/m, 2);
    const q = conf('types2.conf', `${good()}api.verify_certificate: 3\n`);
    await expectRefused({ configFile: q }, /^clearml-cleanup: .*verify_certificate/m, 2);
  });
});

describe('the server', () => {
  test('wrong credentials', async () => {
    setEnv({ CLEARML_API_SECRET_KEY: 'wrong-secret-0123456789' });
    const out = await expectRefused({}, /auth\.login failed: 401.*check the access key and secret key/);
    expect(out).not.toContain('wrong-secret-0123456789');
  });

  test('an unreachable server', async () => {
    const dead = http.createServer();
    await new Promise<void>((r) => dead.listen(0, '127.0.0.1', r));
    const port = (dead.address() as AddressInfo).port;
    await new Promise<void>((r) => dead.close(() => r()));
    setEnv({ CLEARML_API_HOST: `http://127.0.0.1:${port}` });
    await expectRefused({}, /cannot reach ClearML API server http:\/\/127\.0\.0\.1:\d+ \(ECONNREFUSED/);
  });

  test('a slow server: --request-timeout-ms gives up', async () => {
    proxy.decide = (req) => (req.endpoint === 'tasks.get_all' ? { delayMs: 1500 } : undefined);
    await expectRefused({ requestTimeoutMs: 300 }, /tasks\.get_all failed: cannot reach .*ETIMEDOUT/);
  });

  test('TLS with a self-signed certificate: refused unless configured', async () => {
    const dir = path.join(home, 'tls');
    mkdirSync(dir, { recursive: true });
    execFileSync('openssl', ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-days', '2', '-subj', '/CN=127.0.0.1', '-addext', 'subjectAltName=IP:127.0.0.1', '-keyout', path.join(dir, 'key.pem'), '-out', path.join(dir, 'cert.pem')], { stdio: 'ignore' });
    const tls = await startTamperProxy(w.server.apiUrl, () => undefined, { tls: { key: readFileSync(path.join(dir, 'key.pem')), cert: readFileSync(path.join(dir, 'cert.pem')) } });
    try {
      setEnv({ CLEARML_API_HOST: tls.url, CLEARML_WEB_HOST: tls.url });
      await expectRefused({}, /auth\.login failed: cannot reach ClearML API server https:.*(SELF_SIGNED|CERT).*set api\.verify_certificate/);
      setEnv({ CLEARML_API_HOST: tls.url, CLEARML_WEB_HOST: tls.url, CLEARML_API_HOST_VERIFY_CERT: 'false' });
      const r = await run({ dryRun: true });
      expect(r.out).toMatch(/Found 3 archived tasks older than 30 days: 3 to delete/);
      await expectNothingDeleted();
    } finally {
      await tls.close();
    }
  });

  test('a redirect to another host is not followed (credentials stay home)', async () => {
    const other = await startTamperProxy(w.server.apiUrl);
    try {
      proxy.decide = (req) => ({ status: 307, headers: { location: `${other.url}${req.url}` }, body: '' });
      await expectRefused({}, /auth\.login failed: .*HTTP 307.*redirect to http:\/\/127\.0\.0\.1:\d+ not followed/);
      expect(other.seen).toHaveLength(0);
    } finally {
      await other.close();
    }
  });

  test('an answer that is not JSON (a proxy page with 200)', async () => {
    proxy.decide = answerFor('tasks.get_all', { status: 200, headers: { 'content-type': 'text/html' }, body: '<html><body>Please log in</body></html>' });
    await expectRefused({}, /tasks\.get_all failed: .* did not answer like a ClearML API server: answer is not JSON \(text\/html: "Please log in"\)/);
  });

  test('JSON without the envelope', async () => {
    proxy.decide = answerFor('tasks.get_all', { status: 200, headers: { 'content-type': 'application/json' }, body: JSON.stringify({ tasks: [] }) });
    await expectRefused({}, /tasks\.get_all failed: .*answer has no meta\.result_code/);
  });

  test('an envelope without the field (tasks.get_all without tasks)', async () => {
    proxy.decide = answerFor('tasks.get_all', envelopeBody({ total: 3 }));
    await expectRefused({}, /listing archived tasks failed: tasks\.get_all answer has no "tasks"/);
  });

  test('wrong type: tasks is not a list', async () => {
    proxy.decide = answerFor('tasks.get_all', envelopeBody({ tasks: 'three' }));
    await expectRefused({}, /tasks\.get_all answer has "tasks" as string, not a list/);
  });

  test('wrong type: an id that is not a string', async () => {
    proxy.decide = answerFor('tasks.get_all', envelopeBody({ tasks: [{ id: 42, system_tags: ['archived'] }] }));
    await expectRefused({}, /tasks\.get_all answer: tasks\[0\]\.id is not a string \(number\)/);
  });

  test('a huge page: more rows than page_size', async () => {
    const rows = Array.from({ length: 600 }, (_, i) => ({ id: `fake${i}`, system_tags: ['archived'], status: 'created', last_change: '2020-01-01T00:00:00' }));
    proxy.decide = answerFor('tasks.get_all', envelopeBody({ tasks: rows }));
    await expectRefused({}, /tasks\.get_all returned 600 rows for page_size 500: the server ignores paging/);
  });

  test('a scroll that returns the same debug images forever: bounded, the tasks kept', async () => {
    let first: Buffer | undefined;
    proxy.decide = (req) =>
      req.endpoint === 'events.debug_images'
        ? { rewrite: (up) => ((first ??= up.body), { status: 200, headers: { 'content-type': 'application/json' }, body: first }) }
        : undefined;
    const out = await expectRefused({}, /same events again; the scroll does not end/, 1);
    expect(out).toMatch(/failed 3 \(of 3 archived/);
    const calls = proxy.seen.filter((r) => r.endpoint === 'events.debug_images').length;
    expect(calls).toBeLessThan(10);
  });

  test('a scroll that returns more events than its total: refused, the tasks kept', async () => {
    let iter = 0;
    proxy.decide = (req) => {
      if (req.endpoint === 'events.debug_images') return envelopeBody({}, 404, 'unknown endpoint');
      if (req.endpoint !== 'events.get_task_events') return undefined;
      const task = req.json?.task;
      const events = Array.from({ length: 3 }, () => ({ task, iter: ++iter, metric: 'loss', variant: 'v', type: 'training_debug_image', url: `${w.server.filesUrl}/proj/x/metrics/img_${iter}.png` }));
      return envelopeBody({ events, returned: 3, total: 2, scroll_id: 'again' });
    };
    await expectRefused({}, /more events \(3\) than the server's total \(2\); the scroll does not end/, 1);
  });
});

describe('file URLs (last: it deletes, and is the control that the cases above could delete)', () => {
  test('a URL scheme we do not know and paths with .. are refused and reported; the file outside stays', async () => {
    const bad = [
      'ftp://files.example.com/proj/data.bin',
      'hdfs://nn:8020/data/model.pt',
      `file://${path.join(home, 'root')}/../outside.txt`,
      `${w.server.filesUrl}/proj/../../etc/passwd`,
      `${w.server.filesUrl}/proj/%2e%2e/%2e%2e/etc/passwd`,
    ];
    const t = await w.task({ foreignArtifacts: bad });
    await w.finalize();
    const r = await run({ allowRoot: [`file://${path.join(home, 'root')}`], dryRun: true });
    expect(r.code).toBe(0);
    expect(existsSync(outside)).toBe(true);
    const real = await run({ allowRoot: [`file://${path.join(home, 'root')}`] });
    expect(real.out).toMatch(/refused/i);
    expect(existsSync(outside)).toBe(true);
    expect(readFileSync(outside, 'utf8')).toBe('not ours');
    expect(await w.taskExists(t.id)).toBe(false); // the task went; nothing outside the allowed roots did
    // and the control: this same world, through the same proxy untampered, was cleaned by that run
    expect(real.code).toBe(0);
    expect(await w.existingTasks(victims.map((v) => v.id))).toEqual([]);
    expect(await w.existing(victims.flatMap((v) => v.files))).toEqual([]);
  });
});

